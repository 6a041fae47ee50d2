"""End to end: the official openai SDK -> gateway -> fake Vertex AI, authenticated by the real ADC flow."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import openai
import pytest

from gomodel.testing.fake_gemini import TEST_LOCATION, TEST_PROJECT, FakeGemini
from gomodel.testing.fake_upstream import RecordedRequest
from tests.harness import Gateway

VertexEnv = Callable[..., dict[str, str]]
MESSAGES: list[Any] = [{"role": "user", "content": "hello there"}]
REPLY = "tok0 tok1 tok2 naïve ☃"
MODEL_PATH = f"/v1/projects/{TEST_PROJECT}/locations/{TEST_LOCATION}/publishers/google/models"


def _calls(fake: FakeGemini) -> list[RecordedRequest]:
    """What the gateway sent to Vertex, token grants and model listing left out."""
    return [r for r in fake.requests if r.method == "POST" and r.path != "/token"]


def test_chat_on_the_vertex_layout_with_a_bearer_token(
    vertex_gateway: Gateway, fake_vertex: FakeGemini
) -> None:
    completion = vertex_gateway.client().chat.completions.create(
        model="google/gemini-2.5-flash", messages=MESSAGES, max_tokens=20
    )

    assert completion.choices[0].message.content == REPLY
    (sent,) = _calls(fake_vertex)
    assert sent.path == f"{MODEL_PATH}/gemini-2.5-flash:generateContent"
    assert sent.headers["Authorization"] == "Bearer ya29.fake-1"
    assert "x-goog-api-key" not in sent.headers
    assert "x-goog-user-project" not in sent.headers  # a service account bills its own project
    assert sent.json == {
        "contents": [{"role": "user", "parts": [{"text": "hello there"}]}],
        "generationConfig": {"maxOutputTokens": 20},
    }
    (record,) = vertex_gateway.records.wait_for(1)
    assert (record.provider, record.provider_type, record.model) == (
        "vertex",
        "vertex",
        "google/gemini-2.5-flash",
    )
    assert len(fake_vertex.token_grants) == 1  # shared by the model listing and the call


async def test_async_stream(vertex_gateway: Gateway, fake_vertex: FakeGemini) -> None:
    async with vertex_gateway.async_client() as client:
        stream = await client.chat.completions.create(
            model="google/gemini-2.5-flash",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = [chunk async for chunk in stream]

    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == REPLY
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 4
    (sent,) = _calls(fake_vertex)
    assert sent.path == f"{MODEL_PATH}/gemini-2.5-flash:streamGenerateContent"
    assert sent.query == {"alt": "sse"}


def test_tools_with_gemini_3(vertex_gateway: Gateway, fake_vertex: FakeGemini) -> None:
    tools: list[Any] = [
        {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}
    ]
    client = vertex_gateway.client()
    messages: list[Any] = [{"role": "user", "content": "look it up"}]
    first = client.chat.completions.create(
        model="google/gemini-3-pro-preview", messages=messages, tools=tools
    )
    (call,) = first.choices[0].message.tool_calls or []
    messages += [
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "found"},
    ]
    second = client.chat.completions.create(
        model="google/gemini-3-pro-preview", messages=messages, tools=tools
    )
    assert second.choices[0].message.content == "results: lookup"
    assert "thoughtSignature" in _calls(fake_vertex)[-1].json["contents"][1]["parts"][0]


def test_models_are_listed_as_google_ids(
    make_fake_vertex: Callable[..., FakeGemini], make_gateway: Callable[..., Gateway], vertex_env: VertexEnv
) -> None:
    fake = make_fake_vertex(models=("gemini-2.5-flash", "text-embedding-005"), page_size=2)
    gateway = make_gateway(vertex_env(fake))
    ids = [model.id for model in gateway.client().models.list()]

    assert ids == ["google/gemini-2.5-flash", "google/text-embedding-005"]  # imagen, chirp left out
    listing = [r for r in fake.requests if r.method == "GET"]
    assert [r.path for r in listing] == ["/v1beta1/publishers/google/models"] * 2
    assert listing[1].query == {"pageSize": "1000", "pageToken": "p2"}
    assert all(r.headers["x-goog-user-project"] == TEST_PROJECT for r in listing)
    assert all(r.headers["Authorization"].startswith("Bearer ya29.fake-") for r in listing)


def test_bare_configured_model_ids_work_too(
    fake_vertex: FakeGemini, make_gateway: Callable[..., Gateway], vertex_env: VertexEnv
) -> None:
    gateway = make_gateway(
        vertex_env(fake_vertex, VERTEX_MODELS="gemini-2.5-pro", CONFIGURED_PROVIDER_MODELS_MODE="allowlist")
    )
    completion = gateway.client().chat.completions.create(model="gemini-2.5-pro", messages=MESSAGES)
    assert completion.choices[0].message.content == REPLY
    assert _calls(fake_vertex)[-1].path == f"{MODEL_PATH}/gemini-2.5-pro:generateContent"


def test_token_is_refreshed_when_it_nears_expiry(
    make_fake_vertex: Callable[..., FakeGemini], make_gateway: Callable[..., Gateway], vertex_env: VertexEnv
) -> None:
    fake = make_fake_vertex(token_lifetime=60)  # inside the 5 minute margin: renewed before every use
    gateway = make_gateway(vertex_env(fake))
    client = gateway.client()
    for _ in range(2):
        client.chat.completions.create(model="google/gemini-2.5-flash", messages=MESSAGES)

    tokens = [r.headers["Authorization"] for r in _calls(fake)]
    assert len(set(tokens)) == 2
    assert tokens[-1] == f"Bearer ya29.fake-{len(fake.token_grants)}"


async def test_concurrent_requests_wait_for_one_token(
    make_fake_vertex: Callable[..., FakeGemini], make_gateway: Callable[..., Gateway], vertex_env: VertexEnv
) -> None:
    fake = make_fake_vertex(token_delay=0.3)
    gateway = make_gateway(
        vertex_env(fake, VERTEX_MODELS="google/gemini-2.5-flash", CONFIGURED_PROVIDER_MODELS_MODE="allowlist")
    )
    async with gateway.async_client() as client:
        answers = await asyncio.gather(
            *(
                client.chat.completions.create(model="google/gemini-2.5-flash", messages=MESSAGES)
                for _ in range(8)
            )
        )
    assert [a.choices[0].message.content for a in answers] == [REPLY] * 8
    assert len(fake.token_grants) == 1


@pytest.mark.parametrize(
    ("model", "path", "calls", "tokens"),
    [
        ("google/text-embedding-005", "text-embedding-005:predict", 1, 6),
        ("google/gemini-embedding-001", "gemini-embedding-001:predict", 3, 6),
        ("google/gemini-embedding-2-preview", "gemini-embedding-2-preview:embedContent", 3, 6),
    ],
)
def test_embeddings(
    vertex_gateway: Gateway, fake_vertex: FakeGemini, *, model: str, path: str, calls: int, tokens: int
) -> None:
    inputs = ["one two", "three four", "five six"]
    answer = vertex_gateway.client().embeddings.create(model=model, input=inputs, dimensions=5)

    assert [row.index for row in answer.data] == [0, 1, 2]
    assert all(len(row.embedding) == 5 for row in answer.data)
    assert answer.usage is not None
    assert answer.usage.prompt_tokens == tokens
    sent = _calls(fake_vertex)
    assert [r.path for r in sent] == [f"{MODEL_PATH}/{path}"] * calls
    (record,) = vertex_gateway.records.wait_for(1)
    assert record.usage is not None
    assert record.usage.prompt_tokens == tokens


def test_errors_keep_status_and_retry_after(
    fake_vertex: FakeGemini, make_gateway: Callable[..., Gateway], vertex_env: VertexEnv
) -> None:
    faults = "google/fault-429,google/fault-list-error,google/fault-stream-error"
    gateway = make_gateway(
        vertex_env(fake_vertex, VERTEX_MODELS=faults, CONFIGURED_PROVIDER_MODELS_MODE="allowlist")
    )
    client = gateway.client()
    with pytest.raises(openai.RateLimitError) as limited:
        client.chat.completions.create(model="google/fault-429", messages=MESSAGES)
    assert limited.value.response.headers["retry-after"] == "7"
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="google/fault-list-error", messages=MESSAGES)
    with pytest.raises(openai.APIError):
        list(
            client.chat.completions.create(model="google/fault-stream-error", messages=MESSAGES, stream=True)
        )


def test_wrong_project_is_a_403(
    fake_vertex: FakeGemini, make_gateway: Callable[..., Gateway], vertex_env: VertexEnv
) -> None:
    gateway = make_gateway(
        vertex_env(fake_vertex, VERTEX_PROJECT="other-project", VERTEX_MODELS="google/gemini-2.5-flash")
    )
    with pytest.raises(openai.PermissionDeniedError) as caught:
        gateway.client().chat.completions.create(model="google/gemini-2.5-flash", messages=MESSAGES)
    assert "other-project" in caught.value.message


def test_missing_credentials_fail_the_request_not_the_gateway(
    fake_vertex: FakeGemini,
    make_gateway: Callable[..., Gateway],
    isolated_adc: pytest.MonkeyPatch,
    vertex_env: VertexEnv,
) -> None:
    isolated_adc.setenv("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/service-account.json")
    gateway = make_gateway(vertex_env(fake_vertex, VERTEX_MODELS="google/gemini-2.5-flash"))
    with pytest.raises(openai.InternalServerError) as caught:
        gateway.client().chat.completions.create(model="google/gemini-2.5-flash", messages=MESSAGES)
    assert caught.value.status_code == 502
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"] == "upstream_credentials"
    assert _calls(fake_vertex) == []


def test_suffixed_instance(
    make_fake_vertex: Callable[..., FakeGemini], make_gateway: Callable[..., Gateway]
) -> None:
    fake = make_fake_vertex(location="europe-west4", models=("gemini-2.5-pro",))
    gateway = make_gateway(
        {
            "VERTEX_US_PROJECT": TEST_PROJECT,
            "VERTEX_US_LOCATION": "europe-west4",
            "VERTEX_US_BASE_URL": fake.vertex_root,
        }
    )
    completion = gateway.client().chat.completions.create(
        model="vertex-us/google/gemini-2.5-pro", messages=MESSAGES
    )

    assert completion.choices[0].message.content == REPLY
    (sent,) = _calls(fake)
    europe = f"/v1/projects/{TEST_PROJECT}/locations/europe-west4/publishers/google/models"
    assert sent.path == f"{europe}/gemini-2.5-pro:generateContent"
    (record,) = gateway.records.wait_for(1)
    assert (record.provider, record.provider_type) == ("vertex-us", "vertex")


def test_openai_compatible_mode_relays_to_the_openapi_endpoint(
    fake_vertex: FakeGemini, make_gateway: Callable[..., Gateway], vertex_env: VertexEnv
) -> None:
    gateway = make_gateway(vertex_env(fake_vertex, VERTEX_API_MODE="openai_compatible"))
    client = gateway.client()
    completion = client.chat.completions.create(model="google/gemini-2.5-flash", messages=MESSAGES)
    chunks = list(
        client.chat.completions.create(model="google/gemini-2.5-flash", messages=MESSAGES, stream=True)
    )

    assert completion.choices[0].message.content == "tok0 tok1 tok2 "
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "tok0 tok1 tok2 "
    unary, streamed = _calls(fake_vertex)
    openapi = f"/v1/projects/{TEST_PROJECT}/locations/{TEST_LOCATION}/endpoints/openapi/chat/completions"
    assert (unary.path, streamed.path) == (openapi, openapi)
    assert unary.headers["Authorization"] == "Bearer ya29.fake-1"
    assert unary.json == {"model": "google/gemini-2.5-flash", "messages": MESSAGES}
    assert streamed.json["stream_options"] == {"include_usage": True}


def test_openai_compatible_mode_passes_vertex_errors_on(
    fake_vertex: FakeGemini, make_gateway: Callable[..., Gateway], vertex_env: VertexEnv
) -> None:
    gateway = make_gateway(
        vertex_env(
            fake_vertex,
            VERTEX_API_MODE="openai_compatible",
            VERTEX_MODELS="gemini-2.5-flash",
            CONFIGURED_PROVIDER_MODELS_MODE="allowlist",
        )
    )
    with pytest.raises(openai.BadRequestError) as caught:
        gateway.client().chat.completions.create(model="gemini-2.5-flash", messages=MESSAGES)
    assert "expected google/<model>" in caught.value.message
