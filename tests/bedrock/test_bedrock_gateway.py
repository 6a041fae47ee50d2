"""End to end: the official openai SDK -> the gateway -> the fake Bedrock on real sockets, checking both
what the client got and what Bedrock received."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import openai
import orjson
import pytest

from gomodel.testing.fake_bedrock import (
    EMBEDDING_MODELS,
    TEST_ACCESS_KEY,
    TEST_SECRET_KEY,
    TEST_SESSION_TOKEN,
    TEXT_MODELS,
    FakeBedrock,
)
from gomodel.testing.fake_bedrock_wire import JSON_REPLY, REASONING_TEXT, REPLY_TEXT, TOOL_INPUT
from tests.harness import MASTER_KEY, Gateway

CLAUDE = TEXT_MODELS[0]
SONNET_4 = TEXT_MODELS[1]
FAULTS = "fault-throttle,fault-denied,fault-timeout,fault-not-ready,fault-stream-throttle"
TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a place",
            "parameters": {"type": "object", "properties": {"location": {"type": "string"}}},
        },
    },
    {
        "type": "function",
        "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
    },
]


@pytest.fixture
def gateway_for(
    aws_env: pytest.MonkeyPatch, make_gateway: Callable[..., Gateway]
) -> Callable[[FakeBedrock], Gateway]:
    def start(fake: FakeBedrock) -> Gateway:
        env = {
            "BEDROCK_BASE_URL": fake.base_url,
            "BEDROCK_MODELS": f"us.amazon.nova-pro-v1:0,{EMBEDDING_MODELS[0]},{FAULTS}",
            "GOMODEL_MASTER_KEY": MASTER_KEY,
        }
        return make_gateway(env)

    return start


def _converse_requests(fake: FakeBedrock) -> list[Any]:
    return [r for r in fake.requests if r.path.startswith("/model/")]


def test_sync_chat_is_translated_both_ways(
    gateway_for: Callable[[FakeBedrock], Gateway], bedrock: FakeBedrock
) -> None:
    gateway = gateway_for(bedrock)
    answer = gateway.client().chat.completions.create(
        model=CLAUDE,
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}],
        max_tokens=100,
        temperature=0.2,
        stop=["STOP"],
    )
    assert answer.choices[0].message.content == "".join(REPLY_TEXT)
    assert answer.choices[0].finish_reason == "stop"
    assert answer.model == CLAUDE
    assert answer.usage is not None
    assert (answer.usage.completion_tokens, answer.usage.total_tokens) == (
        len(REPLY_TEXT),
        answer.usage.prompt_tokens + len(REPLY_TEXT),
    )
    (sent,) = _converse_requests(bedrock)
    assert (sent.method, sent.path) == ("POST", f"/model/{CLAUDE}/converse")
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.headers["Authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={TEST_ACCESS_KEY}/")
    assert "X-Amz-Date" in sent.headers
    assert sent.json == {
        "system": [{"text": "Be brief."}],
        "messages": [{"role": "user", "content": [{"text": "Hello"}]}],
        "inferenceConfig": {"maxTokens": 100, "temperature": 0.2, "stopSequences": ["STOP"]},
    }
    (record,) = gateway.records.wait_for(1)
    assert (record.provider, record.provider_type, record.status) == ("bedrock", "bedrock", 200)


def test_sync_stream_with_usage(
    gateway_for: Callable[[FakeBedrock], Gateway], make_bedrock: Callable[..., FakeBedrock]
) -> None:
    fake = make_bedrock(cache_tokens=(30, 20), write_delay=0.001)
    gateway = gateway_for(fake)
    chunks = list(
        gateway.client().chat.completions.create(
            model="us.amazon.nova-pro-v1:0",
            messages=[{"role": "user", "content": "Hello"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "".join(REPLY_TEXT)
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == [
        "stop"
    ]
    usage = chunks[-1].usage
    assert usage is not None
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 30
    (sent,) = _converse_requests(fake)
    assert sent.path == "/model/us.amazon.nova-pro-v1:0/converse-stream"
    (record,) = gateway.records.wait_for(1)
    assert record.usage is not None
    assert record.usage.prompt_tokens == usage.prompt_tokens
    assert record.usage.prompt_tokens >= 50  # cache reads and writes count as prompt tokens
    assert record.usage.cache_creation_tokens == 20


async def test_async_stream_with_two_tool_calls(
    gateway_for: Callable[[FakeBedrock], Gateway], bedrock: FakeBedrock
) -> None:
    gateway = gateway_for(bedrock)
    stream = await gateway.async_client().chat.completions.create(
        model=CLAUDE,
        messages=[{"role": "user", "content": "Use get_weather and get_time"}],
        tools=TOOLS,
        tool_choice="required",
        stream=True,
    )
    calls: dict[int, dict[str, str]] = {}
    finish = []
    async for chunk in stream:
        choice = chunk.choices[0]
        for call in choice.delta.tool_calls or []:
            entry = calls.setdefault(call.index, {"id": "", "name": "", "arguments": ""})
            entry["id"] += call.id or ""
            entry["name"] += (call.function and call.function.name) or ""
            entry["arguments"] += (call.function and call.function.arguments) or ""
        if choice.finish_reason:
            finish.append(choice.finish_reason)
    assert finish == ["tool_calls"]
    assert [calls[i]["name"] for i in sorted(calls)] == ["get_weather", "get_time"]
    assert all(orjson.loads(c["arguments"]) == TOOL_INPUT for c in calls.values())
    assert all(c["id"].startswith("tooluse_") for c in calls.values())
    (sent,) = _converse_requests(bedrock)
    assert sent.json["toolConfig"]["toolChoice"] == {"any": {}}
    assert [t["toolSpec"]["name"] for t in sent.json["toolConfig"]["tools"]] == ["get_weather", "get_time"]


async def test_async_tool_results_go_back_as_one_user_turn(
    gateway_for: Callable[[FakeBedrock], Gateway], bedrock: FakeBedrock
) -> None:
    gateway = gateway_for(bedrock)
    calls = [
        {
            "id": "tooluse_a",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"location":"Paris"}'},
        },
        {"id": "tooluse_b", "type": "function", "function": {"name": "get_time", "arguments": "{}"}},
    ]
    answer = await gateway.async_client().chat.completions.create(
        model=CLAUDE,
        messages=[
            {"role": "user", "content": "Weather and time?"},
            {"role": "assistant", "content": None, "tool_calls": calls},
            {"role": "tool", "tool_call_id": "tooluse_a", "content": "18°C"},
            {"role": "tool", "tool_call_id": "tooluse_b", "content": "21:05"},
        ],
        tools=TOOLS,
    )
    assert answer.choices[0].message.content == "Tool said: 18°C 21:05"
    (sent,) = _converse_requests(bedrock)
    assert [m["role"] for m in sent.json["messages"]] == ["user", "assistant", "user"]
    assert sent.json["messages"][2]["content"] == [
        {"toolResult": {"toolUseId": "tooluse_a", "content": [{"text": "18°C"}]}},
        {"toolResult": {"toolUseId": "tooluse_b", "content": [{"text": "21:05"}]}},
    ]


def test_reasoning_and_structured_output(
    gateway_for: Callable[[FakeBedrock], Gateway], bedrock: FakeBedrock
) -> None:
    client = gateway_for(bedrock).client()
    answer = client.chat.completions.create(
        model=SONNET_4,
        messages=[{"role": "user", "content": "2+2?"}],
        reasoning_effort="low",
        max_tokens=4000,
    )
    extra = answer.choices[0].message.model_extra
    assert extra is not None
    assert extra["reasoning_content"] == "".join(REASONING_TEXT)
    assert extra["reasoning_signature"], "the signature rides along so clients can replay the thinking"
    structured = client.chat.completions.create(
        model=CLAUDE,
        messages=[{"role": "user", "content": "Is it ok?"}],
        response_format={
            "type": "json_schema",
            "json_schema": {
                "name": "verdict",
                "schema": {"type": "object", "properties": {"ok": {"type": "boolean"}}},
            },
        },
    )
    assert structured.choices[0].message.content == "".join(JSON_REPLY)
    thinking, schema = _converse_requests(bedrock)
    assert thinking.json["additionalModelRequestFields"] == {
        "thinking": {"type": "enabled", "budget_tokens": 1024}
    }
    assert schema.json["outputConfig"]["textFormat"]["structure"]["jsonSchema"]["name"] == "verdict"


def test_embeddings_go_through_titan_invoke(
    gateway_for: Callable[[FakeBedrock], Gateway], bedrock: FakeBedrock
) -> None:
    answer = (
        gateway_for(bedrock)
        .client()
        .embeddings.create(model=EMBEDDING_MODELS[0], input=["hello world", "bonjour"], dimensions=256)
    )
    assert [len(item.embedding) for item in answer.data] == [8, 8]
    assert answer.usage.prompt_tokens == 3
    sent = sorted(r.json["inputText"] for r in _converse_requests(bedrock))
    assert sent == ["bonjour", "hello world"]


def test_the_model_list_holds_configured_and_listed_models(
    gateway_for: Callable[[FakeBedrock], Gateway], bedrock: FakeBedrock
) -> None:
    client = gateway_for(bedrock).client()
    client.chat.completions.create(
        model=CLAUDE, messages=[{"role": "user", "content": "x"}]
    )  # waits for the list
    ids = {model.id for model in client.models.list()}
    assert {"us.amazon.nova-pro-v1:0", CLAUDE, SONNET_4, EMBEDDING_MODELS[0]} <= ids


@pytest.mark.parametrize(
    ("model", "error", "status"),
    [
        ("fault-denied", openai.PermissionDeniedError, 403),
        ("fault-timeout", openai.APIStatusError, 504),
        ("fault-not-ready", openai.InternalServerError, 503),
    ],
)
def test_bedrock_errors_reach_the_client_with_their_status(
    gateway_for: Callable[[FakeBedrock], Gateway],
    bedrock: FakeBedrock,
    model: str,
    error: type[openai.APIStatusError],
    status: int,
) -> None:
    with pytest.raises(error) as caught:
        gateway_for(bedrock).client().chat.completions.create(
            model=model, messages=[{"role": "user", "content": "x"}]
        )
    assert caught.value.status_code == status


def test_throttling_passes_retry_after_on(
    gateway_for: Callable[[FakeBedrock], Gateway], make_bedrock: Callable[..., FakeBedrock]
) -> None:
    client = gateway_for(make_bedrock(retry_after="3")).client()
    for stream in (False, True):
        with pytest.raises(openai.RateLimitError) as caught:
            client.chat.completions.create(
                model="fault-throttle", messages=[{"role": "user", "content": "x"}], stream=stream
            )
        assert caught.value.response.headers["retry-after"] == "3"


def test_a_validation_exception_is_a_400_with_bedrock_s_message(
    gateway_for: Callable[[FakeBedrock], Gateway], bedrock: FakeBedrock
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        gateway_for(bedrock).client().chat.completions.create(
            model=CLAUDE, messages=[{"role": "user", "content": "x"}], temperature=1.5
        )
    assert "inferenceConfig.temperature" in caught.value.message
    assert "less than or equal to 1" in caught.value.message


def test_an_image_url_is_refused_before_bedrock_is_called(
    gateway_for: Callable[[FakeBedrock], Gateway], bedrock: FakeBedrock
) -> None:
    content: Any = [{"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]
    with pytest.raises(openai.BadRequestError, match="data: URL"):
        gateway_for(bedrock).client().chat.completions.create(
            model=CLAUDE, messages=[{"role": "user", "content": content}]
        )
    assert _converse_requests(bedrock) == []


async def test_a_throttling_exception_mid_stream_fails_the_client_stream(
    gateway_for: Callable[[FakeBedrock], Gateway], bedrock: FakeBedrock
) -> None:
    gateway = gateway_for(bedrock)
    stream = await gateway.async_client().chat.completions.create(
        model="fault-stream-throttle", messages=[{"role": "user", "content": "x"}], stream=True
    )
    received: list[str | None] = []

    async def drain() -> None:
        async for chunk in stream:
            received.append(chunk.choices[0].delta.content if chunk.choices else None)

    with pytest.raises(openai.APIError, match="Too many tokens"):
        await drain()
    assert "Hello" in received
    (record,) = gateway.records.wait_for(1)
    assert record.error_type is not None


def test_credentials_never_reach_the_client_or_the_logs(
    aws_env: pytest.MonkeyPatch,
    make_gateway: Callable[..., Gateway],
    make_bedrock: Callable[..., FakeBedrock],
    caplog: pytest.LogCaptureFixture,
) -> None:
    aws_env.setenv("AWS_SESSION_TOKEN", TEST_SESSION_TOKEN)
    # The fake expects another secret: it answers with AWS's signature diagnostics, token included.
    fake = make_bedrock(session_token=TEST_SESSION_TOKEN, secret_key="another-secret")
    gateway = make_gateway(
        {"BEDROCK_BASE_URL": fake.base_url, "BEDROCK_MODELS": CLAUDE, "GOMODEL_MASTER_KEY": MASTER_KEY}
    )
    caplog.set_level(logging.DEBUG)
    with pytest.raises(openai.PermissionDeniedError) as caught:
        gateway.client().chat.completions.create(model=CLAUDE, messages=[{"role": "user", "content": "x"}])
    body = caught.value.response.text
    assert "InvalidSignatureException" in body
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in (TEST_SESSION_TOKEN, TEST_SECRET_KEY):
        assert secret not in body
        assert secret not in logged
