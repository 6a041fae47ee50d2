"""Chat completions through the gateway with the official openai SDK, against a fake OpenAI upstream."""

from __future__ import annotations

import asyncio

import httpx
import openai
import orjson
import pytest

from gomodel.testing.fake_upstream import FakeUpstream
from tests.harness import Gateway

MESSAGES = [{"role": "user", "content": "hello there"}]


def test_non_streaming_chat_returns_upstream_answer(gateway: Gateway, fake: FakeUpstream) -> None:
    completion = gateway.client().chat.completions.create(model="gpt-fake", messages=MESSAGES)

    assert completion.choices[0].message.content == "tok0 tok1 tok2 tok3 tok4 "
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 5
    sent = fake.requests[-1]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["Authorization"] == "Bearer fake-key"
    assert sent.json == {"model": "gpt-fake", "messages": MESSAGES}


def test_client_credentials_are_never_forwarded(gateway: Gateway, fake: FakeUpstream) -> None:
    gateway.client().chat.completions.create(model="gpt-fake", messages=MESSAGES)

    sent = fake.requests[-1]
    assert gateway.key is not None
    assert all(gateway.key not in value for value in sent.headers.values())


def test_streaming_relays_every_chunk_in_order(gateway: Gateway) -> None:
    stream = gateway.client().chat.completions.create(model="gpt-fake", messages=MESSAGES, stream=True)
    chunks = list(stream)

    contents = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert contents == ["tok0 ", "tok1 ", "tok2 ", "tok3 ", "tok4 "]
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.choices for c in chunks), "the usage-only chunk must not reach a client that did not ask"


def test_include_usage_is_forced_upstream_and_recorded(gateway: Gateway, fake: FakeUpstream) -> None:
    list(gateway.client().chat.completions.create(model="gpt-fake", messages=MESSAGES, stream=True))

    assert fake.requests[-1].json["stream_options"] == {"include_usage": True}
    (record,) = gateway.records.wait_for(1)
    assert record.stream is True
    assert record.usage is not None
    assert record.usage.completion_tokens == 5
    assert record.ttft_ms is not None


def test_client_that_asks_for_usage_gets_the_usage_chunk(gateway: Gateway) -> None:
    chunks = list(
        gateway.client().chat.completions.create(
            model="gpt-fake", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
    )

    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens == chunks[-1].usage.prompt_tokens + 5


def test_unchanged_request_body_is_relayed_byte_for_byte(gateway: Gateway, fake: FakeUpstream) -> None:
    raw = (
        b'{"model": "gpt-fake",   "messages": [{"role": "user", "content": "caf\\u00e9"}],'
        b' "temperature": 0.5}'
    )
    response = httpx.post(
        gateway.api_base + "/chat/completions",
        content=raw,
        headers={"Authorization": f"Bearer {gateway.key}", "Content-Type": "application/json"},
    )

    assert response.status_code == 200
    assert fake.requests[-1].body == raw


def test_provider_prefixed_model_picks_that_provider(make_fake, make_gateway) -> None:
    main = make_fake(models=["gpt-fake"])
    east = make_fake(models=["gpt-fake"], api_key="east-key")
    gw = make_gateway(
        {
            "OPENAI_API_KEY": "fake-key",
            "OPENAI_BASE_URL": main.base_url,
            "OPENAI_EAST_API_KEY": "east-key",
            "OPENAI_EAST_BASE_URL": east.base_url,
        }
    )
    client = gw.client()

    client.chat.completions.create(model="gpt-fake", messages=MESSAGES)
    client.chat.completions.create(model="openai-east/gpt-fake", messages=MESSAGES)

    assert [r.json["model"] for r in main.requests if r.path.endswith("/chat/completions")] == ["gpt-fake"]
    assert [r.json["model"] for r in east.requests if r.path.endswith("/chat/completions")] == ["gpt-fake"]
    assert east.requests[-1].headers["Authorization"] == "Bearer east-key"
    records = gw.records.wait_for(2)
    assert [(r.provider, r.requested_model, r.model) for r in records] == [
        ("openai", "gpt-fake", "gpt-fake"),
        ("openai-east", "openai-east/gpt-fake", "gpt-fake"),
    ]


async def test_async_client_streams_and_completes(gateway: Gateway) -> None:
    client = gateway.async_client()
    completion = await client.chat.completions.create(model="gpt-fake", messages=MESSAGES)
    stream = await client.chat.completions.create(model="gpt-fake-mini", messages=MESSAGES, stream=True)
    pieces = [c.choices[0].delta.content async for c in stream if c.choices and c.choices[0].delta.content]
    await client.close()

    assert completion.choices[0].message.content == "".join(pieces)


async def test_concurrent_streams_do_not_interfere(gateway: Gateway) -> None:
    client = gateway.async_client()

    async def one(i: int) -> str:
        stream = await client.chat.completions.create(
            model="gpt-fake", messages=[{"role": "user", "content": f"n{i}"}], stream=True
        )
        return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

    results = await asyncio.gather(*(one(i) for i in range(20)))
    await client.close()

    assert set(results) == {"tok0 tok1 tok2 tok3 tok4 "}
    assert len(gateway.records.wait_for(20)) == 20


def test_request_id_is_returned_and_recorded(gateway: Gateway) -> None:
    raw = gateway.client().chat.completions.with_raw_response.create(
        model="gpt-fake", messages=MESSAGES, extra_headers={"X-Request-Id": "req-abc-123"}
    )

    assert raw.headers["x-request-id"] == "req-abc-123"
    assert gateway.records.wait_for(1)[0].request_id == "req-abc-123"


def test_generated_request_id_on_streams(gateway: Gateway) -> None:
    with gateway.client().chat.completions.with_streaming_response.create(
        model="gpt-fake", messages=MESSAGES, stream=True
    ) as response:
        request_id = response.headers["x-request-id"]
        list(response.iter_lines())

    assert len(request_id) == 32
    assert gateway.records.wait_for(1)[0].request_id == request_id


def test_user_path_header_is_normalised_into_the_record(gateway: Gateway) -> None:
    gateway.client().chat.completions.create(
        model="gpt-fake", messages=MESSAGES, extra_headers={"X-GoModel-User-Path": "team-a/alice/"}
    )

    assert gateway.records.wait_for(1)[0].user_path == "/team-a/alice"


def test_embeddings(gateway: Gateway, fake: FakeUpstream) -> None:
    result = gateway.client().embeddings.create(model="text-embedding-fake", input=["one", "two"])

    assert len(result.data) == 2
    assert len(result.data[0].embedding) == 8
    assert fake.requests[-1].path == "/v1/embeddings"
    record = gateway.records.wait_for(1)[0]
    assert record.endpoint == "/v1/embeddings"
    assert record.usage is not None


def test_model_list_is_merged_with_provider_as_owner(make_fake, make_gateway) -> None:
    first = make_fake(models=["a-model", "shared"])
    second = make_fake(models=["b-model", "shared"])
    gw = make_gateway(
        {
            "OPENAI_API_KEY": "fake-key",
            "OPENAI_BASE_URL": first.base_url,
            "GROQ_API_KEY": "fake-key",
            "GROQ_BASE_URL": second.base_url,
        }
    )

    models = {(m.id, m.owned_by) for m in gw.client().models.list()}

    assert models == {
        ("a-model", "openai"),
        ("shared", "openai"),
        ("b-model", "groq"),
        ("groq/shared", "groq"),
    }


def test_allowlist_exposes_only_configured_models_without_asking_upstream(make_fake, make_gateway) -> None:
    upstream = make_fake(models=["gpt-fake", "other"])
    gw = make_gateway(
        {
            "OPENAI_API_KEY": "fake-key",
            "OPENAI_BASE_URL": upstream.base_url,
            "OPENAI_MODELS": "gpt-fake",
            "CONFIGURED_PROVIDER_MODELS_MODE": "allowlist",
        }
    )
    client = gw.client()

    assert [m.id for m in client.models.list()] == ["gpt-fake"]
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="other", messages=MESSAGES)
    assert not [r for r in upstream.requests if r.path.endswith("/models")]


def test_fallback_uses_configured_models_when_upstream_list_fails(make_fake, make_gateway) -> None:
    upstream = make_fake(models=["gpt-fake"], models_status=500)
    gw = make_gateway(
        {"OPENAI_API_KEY": "fake-key", "OPENAI_BASE_URL": upstream.base_url, "OPENAI_MODELS": "gpt-fake"}
    )

    assert [m.id for m in gw.client().models.list()] == ["gpt-fake"]
    assert gw.client().chat.completions.create(model="gpt-fake", messages=MESSAGES).choices


def test_fallback_prefers_the_upstream_list(make_fake, make_gateway) -> None:
    upstream = make_fake(models=["gpt-fake", "gpt-fake-mini"])
    gw = make_gateway(
        {
            "OPENAI_API_KEY": "fake-key",
            "OPENAI_BASE_URL": upstream.base_url,
            "OPENAI_MODELS": "configured-only",
        }
    )

    assert [m.id for m in gw.client().models.list()] == ["gpt-fake", "gpt-fake-mini"]


def test_slow_provider_list_does_not_hold_up_the_others(make_fake, make_gateway) -> None:
    fast = make_fake(models=["fast-model"])
    slow = make_fake(models=["slow-model"], models_delay=5.0)
    gw = make_gateway(
        {
            "OPENAI_API_KEY": "fake-key",
            "OPENAI_BASE_URL": fast.base_url,
            "GROQ_API_KEY": "fake-key",
            "GROQ_BASE_URL": slow.base_url,
            "MODELS_FETCH_TIMEOUT": "10s",
        }
    )

    completion = gw.client(timeout=3).chat.completions.create(model="fast-model", messages=MESSAGES)

    assert completion.choices[0].message.content


def test_azure_deployment_url_api_version_and_api_key_header(make_fake, make_gateway) -> None:
    azure = make_fake(
        auth_style="api-key",
        api_key="azure-key",
        api_version="2024-10-21",
        path_prefix="/openai/deployments/my-gpt",
        models_path="/openai/models",
        models=["gpt-4o"],
    )
    gw = make_gateway(
        {"AZURE_API_KEY": "azure-key", "AZURE_BASE_URL": azure.base_url, "AZURE_API_VERSION": "2024-10-21"}
    )

    completion = gw.client().chat.completions.create(model="gpt-4o", messages=MESSAGES)

    assert completion.choices[0].message.content
    chat = [r for r in azure.requests if r.path.endswith("/chat/completions")][-1]
    assert chat.path == "/openai/deployments/my-gpt/chat/completions"
    assert chat.query == {"api-version": "2024-10-21"}
    assert chat.headers["api-key"] == "azure-key"
    assert "Authorization" not in chat.headers
    listing = [r for r in azure.requests if r.path == "/openai/models"]
    assert listing
    assert listing[0].query == {"api-version": "2024-10-21"}


def test_base_path_mounts_every_route(make_gateway, fake: FakeUpstream) -> None:
    gw = make_gateway({"OPENAI_API_KEY": "fake-key", "OPENAI_BASE_URL": fake.base_url, "BASE_PATH": "/gw/"})
    assert gw.client().chat.completions.create(model="gpt-fake", messages=MESSAGES).choices
    assert httpx.get(gw.url + "/health").json() == {"status": "ok"}
    assert httpx.get(gw.server.base_url + "/v1/models").status_code == 404


def test_health_and_readiness_need_no_key(gateway: Gateway) -> None:
    assert httpx.get(gateway.url + "/health").json() == {"status": "ok"}
    ready = httpx.get(gateway.url + "/health/ready")
    assert ready.status_code == 200
    assert orjson.loads(ready.content)["providers"] == {"openai": 3}
