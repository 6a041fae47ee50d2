"""End to end: the official openai SDK -> gateway -> fake Gemini (AI Studio layout) on real sockets."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import openai
import pytest

from gomodel.testing.fake_gemini import TEST_API_KEY, FakeGemini
from gomodel.testing.fake_upstream import RecordedRequest
from tests.harness import MASTER_KEY, Gateway

MESSAGES: list[Any] = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello there"}]
TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    },
    {
        "type": "function",
        "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
    },
]
REPLY = "tok0 tok1 tok2 naïve ☃"


def _calls(fake: FakeGemini) -> list[RecordedRequest]:
    """What the gateway sent upstream, model listing left out."""
    return [r for r in fake.requests if r.method == "POST"]


def test_chat_translates_both_ways(gemini_gateway: Gateway, fake_gemini: FakeGemini) -> None:
    completion = gemini_gateway.client().chat.completions.create(
        model="gemini-2.5-flash", messages=MESSAGES, temperature=0.3, max_tokens=50
    )

    assert completion.choices[0].message.content == REPLY
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == "gemini-2.5-flash"
    assert completion.id.startswith("chatcmpl-resp-")
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (4, 4)
    (sent,) = _calls(fake_gemini)
    assert sent.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert sent.query == {}
    assert sent.headers["x-goog-api-key"] == TEST_API_KEY
    assert "Authorization" not in sent.headers
    assert all(MASTER_KEY not in value for value in sent.headers.values())
    assert sent.json == {
        "contents": [{"role": "user", "parts": [{"text": "hello there"}]}],
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "generationConfig": {"temperature": 0.3, "maxOutputTokens": 50},
    }
    (record,) = gemini_gateway.records.wait_for(1)
    assert (record.provider, record.provider_type, record.model, record.status) == (
        "gemini",
        "gemini",
        "gemini-2.5-flash",
        200,
    )
    assert record.usage is not None
    assert record.usage.total_tokens == 8


def test_stream_with_usage(gemini_gateway: Gateway, fake_gemini: FakeGemini) -> None:
    chunks = list(
        gemini_gateway.client().chat.completions.create(
            model="gemini-2.5-flash", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
    )

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == REPLY
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 4
    (sent,) = _calls(fake_gemini)
    assert sent.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    assert sent.query == {"alt": "sse"}
    (record,) = gemini_gateway.records.wait_for(1)
    assert record.stream is True
    assert record.usage is not None
    assert record.usage.prompt_tokens == 4
    assert record.ttft_ms is not None


async def test_async_stream_survives_utf8_split_on_the_wire(
    make_fake_gemini: Callable[..., FakeGemini], make_gateway: Callable[..., Gateway]
) -> None:
    fake = make_fake_gemini(split_events=3)
    gateway = make_gateway({"GEMINI_API_KEY": TEST_API_KEY, "GEMINI_BASE_URL": fake.ai_studio_url})
    async with gateway.async_client() as client:
        stream = await client.chat.completions.create(
            model="gemini-2.5-flash", messages=MESSAGES, stream=True
        )
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == REPLY


def test_tool_round_trip_keeps_gemini_3_thought_signatures(
    gemini_gateway: Gateway, fake_gemini: FakeGemini
) -> None:
    client = gemini_gateway.client()
    messages: list[Any] = [{"role": "user", "content": "Weather and time in Zürich?"}]
    first = client.chat.completions.create(model="gemini-3-pro-preview", messages=messages, tools=TOOLS)

    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls or []
    assert [c.function.name for c in calls] == ["get_weather", "get_time"]
    assert calls[0].id.startswith("call_0__thought__")
    assert calls[1].id == "call_1"
    assert json.loads(calls[0].function.arguments) == {"city": "Zürich", "unit": "celsius", "n": 0}

    messages.append(choice.message.model_dump(exclude_none=True))
    messages += [
        {"role": "tool", "tool_call_id": calls[0].id, "content": '{"temp": 21}'},
        {"role": "tool", "tool_call_id": calls[1].id, "content": "14:00"},
    ]
    second = client.chat.completions.create(model="gemini-3-pro-preview", messages=messages, tools=TOOLS)

    assert second.choices[0].message.content == "results: get_weather, get_time"
    sent = _calls(fake_gemini)[-1].json
    model_turn, results = sent["contents"][1], sent["contents"][2]
    signature = calls[0].id.partition("__thought__")[2]
    assert model_turn["parts"][0] == {
        "functionCall": {"name": "get_weather", "args": {"city": "Zürich", "unit": "celsius", "n": 0}},
        "thoughtSignature": signature,
    }
    assert results == {
        "role": "user",
        "parts": [
            {"functionResponse": {"name": "get_weather", "response": {"output": {"temp": 21}}}},
            {"functionResponse": {"name": "get_time", "response": {"output": "14:00"}}},
        ],
    }


async def test_async_stream_of_tool_calls(gemini_gateway: Gateway, fake_gemini: FakeGemini) -> None:
    async with gemini_gateway.async_client() as client:
        stream = await client.chat.completions.create(
            model="gemini-2.5-pro",
            messages=[{"role": "user", "content": "go"}],
            tools=TOOLS,
            tool_choice={"type": "function", "function": {"name": "get_time"}},
            stream=True,
        )
        chunks = [chunk async for chunk in stream]

    deltas = [call for c in chunks if c.choices for call in c.choices[0].delta.tool_calls or []]
    assert [(d.index, d.id, d.function.name if d.function else None) for d in deltas if d.id] == [
        (0, deltas[0].id, "get_time")
    ]
    assert deltas[0].id is not None
    assert deltas[0].id.startswith("call_0__thought__")
    arguments = "".join(d.function.arguments or "" for d in deltas if d.function)
    assert json.loads(arguments) == {"city": "Zürich", "unit": "celsius", "n": 0}
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == [
        "tool_calls"
    ]
    sent = _calls(fake_gemini)[-1].json
    assert sent["toolConfig"] == {
        "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_time"]}
    }
    assert sent["tools"][0]["functionDeclarations"][1] == {
        "name": "get_time",
        "parametersJsonSchema": {"type": "object", "properties": {}},
    }


def test_reasoning_and_structured_output(gemini_gateway: Gateway, fake_gemini: FakeGemini) -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
    completion = gemini_gateway.client().chat.completions.create(
        model="gemini-2.5-flash",
        messages=MESSAGES,
        reasoning_effort="medium",
        response_format={"type": "json_schema", "json_schema": {"name": "a", "schema": schema}},
    )

    message = completion.choices[0].message
    assert message.content == '{"answer": "tok"}'
    assert (message.model_extra or {}).get("reasoning_content") == "Thinking it over…"
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 1 + 7
    assert completion.usage.completion_tokens_details is not None
    assert completion.usage.completion_tokens_details.reasoning_tokens == 7
    assert _calls(fake_gemini)[-1].json["generationConfig"] == {
        "responseMimeType": "application/json",
        "responseJsonSchema": schema,
        "thinkingConfig": {"thinkingBudget": 8192, "includeThoughts": True},
    }


def test_streamed_reasoning(gemini_gateway: Gateway) -> None:
    chunks = list(
        gemini_gateway.client().chat.completions.create(
            model="gemini-2.5-flash", messages=MESSAGES, reasoning_effort="low", stream=True
        )
    )
    reasoning = [(c.choices[0].delta.model_extra or {}).get("reasoning_content") for c in chunks if c.choices]
    assert "Thinking it over…" in reasoning


@pytest.mark.parametrize(
    ("model", "error", "status", "retry_after"),
    [
        ("fault-400", openai.BadRequestError, 400, None),
        ("fault-403", openai.PermissionDeniedError, 403, None),
        ("fault-list-error", openai.BadRequestError, 400, None),
        ("fault-429", openai.RateLimitError, 429, "7"),
        ("fault-429-header", openai.RateLimitError, 429, "9"),
        ("fault-500", openai.InternalServerError, 502, None),
        ("fault-503", openai.InternalServerError, 502, None),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_upstream_errors(
    gemini_gateway: Gateway,
    *,
    model: str,
    error: type[openai.APIStatusError],
    status: int,
    retry_after: str | None,
    stream: bool,
) -> None:
    with pytest.raises(error) as caught:
        gemini_gateway.client().chat.completions.create(model=model, messages=MESSAGES, stream=stream)
    assert caught.value.status_code == status
    assert caught.value.response.headers.get("retry-after") == retry_after
    (record,) = gemini_gateway.records.wait_for(1)
    assert record.status == status


def test_bad_api_key_is_reported_without_the_key(
    make_fake_gemini: Callable[..., FakeGemini], make_gateway: Callable[..., Gateway]
) -> None:
    fake = make_fake_gemini()
    wrong = "AIzaSy-this-key-is-wrong-0000"
    gateway = make_gateway(
        {"GEMINI_API_KEY": wrong, "GEMINI_BASE_URL": fake.ai_studio_url, "GEMINI_MODELS": "gemini-2.5-flash"}
    )
    with pytest.raises(openai.BadRequestError) as caught:
        gateway.client().chat.completions.create(model="gemini-2.5-flash", messages=MESSAGES)
    body = caught.value.body
    assert isinstance(body, dict)
    assert body["code"] == "api_key_invalid"
    assert body["message"] == "API key not valid. Please pass a valid API key."
    assert wrong not in caught.value.response.text
    (record,) = gateway.records.wait_for(1)
    assert wrong not in (record.error_message or "")


def test_blocked_prompt_is_a_content_filter_error(gemini_gateway: Gateway) -> None:
    for stream in (False, True):
        with pytest.raises(openai.BadRequestError) as caught:
            gemini_gateway.client().chat.completions.create(
                model="fault-blocked", messages=MESSAGES, stream=stream
            )
        assert isinstance(caught.value.body, dict)
        assert caught.value.body["code"] == "content_filter"


def test_safety_stop_and_malformed_call(gemini_gateway: Gateway) -> None:
    client = gemini_gateway.client()
    stopped = client.chat.completions.create(model="fault-safety", messages=MESSAGES)
    assert (stopped.choices[0].finish_reason, stopped.choices[0].message.content) == ("content_filter", None)
    with pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(model="fault-malformed", messages=MESSAGES)
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"] == "malformed_function_call"


@pytest.mark.parametrize("model", ["fault-stream-error", "fault-stream-cut"])
def test_stream_failing_midway_raises_in_the_client(gemini_gateway: Gateway, model: str) -> None:
    stream = gemini_gateway.client().chat.completions.create(model=model, messages=MESSAGES, stream=True)
    received: list[str] = []

    def read_all() -> None:
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                received.append(chunk.choices[0].delta.content)

    with pytest.raises(openai.APIError):
        read_all()
    assert received == ["tok0 ", "tok1 "]
    (record,) = gemini_gateway.records.wait_for(1)
    assert record.error_type is not None


def test_request_the_provider_cannot_express_is_a_400_before_any_call(
    gemini_gateway: Gateway, fake_gemini: FakeGemini
) -> None:
    messages = [*MESSAGES, {"role": "tool", "tool_call_id": "call_404", "content": "orphan"}]
    with pytest.raises(openai.BadRequestError) as caught:
        gemini_gateway.client().chat.completions.create(model="gemini-2.5-flash", messages=messages)
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["param"] == "messages[2].tool_call_id"
    assert _calls(fake_gemini) == []


def test_embeddings_in_batches_of_100(gemini_gateway: Gateway, fake_gemini: FakeGemini) -> None:
    inputs = [f"text {i}" for i in range(150)]
    answer = gemini_gateway.client().embeddings.create(
        model="gemini-embedding-001", input=inputs, dimensions=4
    )

    assert [row.index for row in answer.data] == list(range(150))
    assert all(len(row.embedding) == 4 for row in answer.data)
    single = gemini_gateway.client().embeddings.create(
        model="gemini-embedding-001", input="text 149", dimensions=4
    )
    assert single.data[0].embedding == answer.data[149].embedding
    # The two batches of the first call go out at once, in either order.
    sent = sorted(_calls(fake_gemini), key=lambda r: -len(r.json["requests"]))
    assert {r.path for r in sent} == {"/v1beta/models/gemini-embedding-001:batchEmbedContents"}
    assert [len(r.json["requests"]) for r in sent] == [100, 50, 1]
    assert sent[0].json["requests"][0] == {
        "model": "models/gemini-embedding-001",
        "content": {"parts": [{"text": "text 0"}]},
        "outputDimensionality": 4,
    }


def test_embedding_errors_are_mapped(gemini_gateway: Gateway) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        gemini_gateway.client().embeddings.create(model="gemini-2.5-flash", input="x")
    assert "not supported for batchEmbedContents" in caught.value.message


def test_model_list_is_paged_and_filtered(
    make_fake_gemini: Callable[..., FakeGemini], make_gateway: Callable[..., Gateway]
) -> None:
    fake = make_fake_gemini(
        page_size=3, models=("gemini-2.5-flash", "gemini-2.5-pro", "gemini-embedding-001")
    )
    gateway = make_gateway({"GEMINI_API_KEY": TEST_API_KEY, "GEMINI_BASE_URL": fake.ai_studio_url})
    ids = [model.id for model in gateway.client().models.list()]

    assert ids == ["gemini-2.5-flash", "gemini-2.5-pro", "gemini-embedding-001"]  # "aqa" only answers
    listing = [r for r in fake.requests if r.path == "/v1beta/models"]
    assert [r.query for r in listing] == [{"pageSize": "1000"}, {"pageSize": "1000", "pageToken": "p3"}]
    assert all(r.headers["x-goog-api-key"] == TEST_API_KEY for r in listing)


def test_an_openai_compatible_base_url_still_reaches_the_native_api(
    make_fake_gemini: Callable[..., FakeGemini], make_gateway: Callable[..., Gateway]
) -> None:
    fake = make_fake_gemini()
    gateway = make_gateway(
        {
            "GEMINI_API_KEY": TEST_API_KEY,
            "GEMINI_BASE_URL": fake.ai_studio_url + "/openai",
            "GEMINI_API_MODE": "native",
        }
    )
    completion = gateway.client().chat.completions.create(model="gemini-2.5-flash", messages=MESSAGES)
    assert completion.choices[0].message.content == REPLY
    assert _calls(fake)[-1].path == "/v1beta/models/gemini-2.5-flash:generateContent"


async def test_concurrent_streams(gemini_gateway: Gateway) -> None:
    async with gemini_gateway.async_client() as client:

        async def one() -> str:
            stream = await client.chat.completions.create(
                model="gemini-2.5-flash", messages=MESSAGES, stream=True
            )
            return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

        assert await asyncio.gather(*(one() for _ in range(10))) == [REPLY] * 10
