"""OpenAI clients through the gateway to the fake Anthropic API, both on real sockets.

Each test asserts what the client got (official ``openai`` SDK, sync and async) and what the
upstream received (path, headers, Messages body).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import openai
import pytest

from gomodel.testing.fake_anthropic import FakeAnthropic
from gomodel.testing.fake_anthropic_wire import FAULT_MODES
from tests.harness import MASTER_KEY, Gateway

KEY = "fake-anthropic-key"
HELLO: list[Any] = [{"role": "user", "content": "Hello there"}]
WEATHER: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
CLOCK: dict[str, Any] = {
    "type": "function",
    "function": {"name": "get_time", "parameters": {"type": "object"}},
}


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    # Fault models are listed so the gateway's catalog routes them to the fake.
    models = ("claude-fake", "claude-fake-haiku", *sorted(FAULT_MODES))
    with FakeAnthropic(
        models=models, json_pieces=3, cache_read_tokens=40, cache_creation_tokens=10
    ).serve() as running:
        yield running


def gateway_for(make_gateway: Callable[..., Gateway], fake: FakeAnthropic, **env: str) -> Gateway:
    return make_gateway(
        {
            "ANTHROPIC_API_KEY": KEY,
            "ANTHROPIC_BASE_URL": fake.base_url,
            "GOMODEL_MASTER_KEY": MASTER_KEY,
            **env,
        }
    )


@pytest.fixture
def gateway(make_gateway: Callable[..., Gateway], fake: FakeAnthropic) -> Gateway:
    return gateway_for(make_gateway, fake)


def messages_sent(fake: FakeAnthropic) -> list[Any]:
    return [r for r in fake.requests if r.path == "/v1/messages"]


# --- plain chat -----------------------------------------------------------------------------------------


def test_sync_chat_is_translated_both_ways(gateway: Gateway, fake: FakeAnthropic) -> None:
    completion = gateway.client().chat.completions.create(
        model="claude-fake",
        messages=[{"role": "system", "content": "Be brief."}, *HELLO],
        max_tokens=50,
        temperature=0.3,
        stop=["END"],
        user="alice",
    )

    assert completion.choices[0].message.content == "tok0 tok1 tok2 tok3 tok4 "
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == "claude-fake"
    assert completion.id.startswith("msg_fake_")
    assert completion.created > 0
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (4 + 40 + 10, 5)
    assert completion.usage.prompt_tokens_details is not None
    assert completion.usage.prompt_tokens_details.cached_tokens == 40

    (sent,) = messages_sent(fake)
    assert sent.headers["x-api-key"] == KEY
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert "Authorization" not in sent.headers
    assert sent.json == {
        "model": "claude-fake",
        "system": "Be brief.",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hello there"}]}],
        "max_tokens": 50,
        "temperature": 0.3,
        "stop_sequences": ["END"],
        "metadata": {"user_id": "alice"},
    }


def test_sync_stream_with_usage(gateway: Gateway, fake: FakeAnthropic) -> None:
    chunks = list(
        gateway.client().chat.completions.create(
            model="claude-fake", messages=HELLO, stream=True, stream_options={"include_usage": True}
        )
    )

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "tok0 tok1 tok2 tok3 tok4 "
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == [
        "stop"
    ]
    usage = chunks[-1].usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (2 + 40 + 10, 5, 57)
    assert messages_sent(fake)[-1].json["stream"] is True

    (record,) = gateway.records.wait_for(1)
    assert record.provider_type == "anthropic"
    assert record.usage is not None
    assert (record.usage.cached_tokens, record.usage.cache_creation_tokens) == (40, 10)


def test_stream_without_include_usage_has_no_usage_chunk(gateway: Gateway) -> None:
    chunks = list(gateway.client().chat.completions.create(model="claude-fake", messages=HELLO, stream=True))

    assert all(c.choices for c in chunks)
    assert all(c.usage is None for c in chunks)


async def test_async_chat_and_stream(gateway: Gateway, fake: FakeAnthropic) -> None:
    client = gateway.async_client()
    completion = await client.chat.completions.create(model="claude-fake-haiku", messages=HELLO)
    stream = await client.chat.completions.create(model="claude-fake-haiku", messages=HELLO, stream=True)
    pieces = [
        chunk.choices[0].delta.content
        async for chunk in stream
        if chunk.choices and chunk.choices[0].delta.content
    ]

    assert completion.choices[0].message.content == "".join(pieces) == "tok0 tok1 tok2 tok3 tok4 "
    assert [r.json["model"] for r in messages_sent(fake)] == ["claude-fake-haiku", "claude-fake-haiku"]


def test_unicode_split_across_upstream_writes_reaches_the_client_intact(
    make_gateway: Callable[..., Gateway],
) -> None:
    text = "Grüße aus Zürich 🇨🇭 und 東京 👋🏽 — ça va?"
    with FakeAnthropic(reply_text=text, chunks=7, write_size=3).serve() as fake:
        gateway = gateway_for(make_gateway, fake)
        stream = gateway.client().chat.completions.create(model="claude-fake", messages=HELLO, stream=True)

        assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == text


# --- tools ------------------------------------------------------------------------------------------------


def test_streamed_parallel_tool_calls_and_the_follow_up_turn(gateway: Gateway, fake: FakeAnthropic) -> None:
    client = gateway.client()
    chunks = list(
        client.chat.completions.create(
            model="claude-fake", messages=HELLO, tools=[WEATHER, CLOCK], stream=True
        )
    )

    calls: dict[int, dict[str, str]] = {}
    for chunk in chunks:
        for call in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            entry = calls.setdefault(call.index, {"id": "", "name": "", "arguments": ""})
            entry["id"] += call.id or ""
            entry["name"] += (call.function.name or "") if call.function else ""
            entry["arguments"] += (call.function.arguments or "") if call.function else ""
    assert sorted(calls) == [0, 1]
    assert (calls[0]["name"], json.loads(calls[0]["arguments"])) == ("get_weather", {"city": "city-value"})
    assert (calls[1]["name"], json.loads(calls[1]["arguments"])) == ("get_time", {})
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == [
        "tool_calls"
    ]

    follow_up: list[Any] = [
        *HELLO,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": c["id"],
                    "type": "function",
                    "function": {"name": c["name"], "arguments": c["arguments"]},
                }
                for c in (calls[0], calls[1])
            ],
        },
        {"role": "tool", "tool_call_id": calls[0]["id"], "content": "sunny"},
        {"role": "tool", "tool_call_id": calls[1]["id"], "content": "noon"},
    ]
    answer = client.chat.completions.create(model="claude-fake", messages=follow_up, tools=[WEATHER, CLOCK])

    assert answer.choices[0].finish_reason == "stop"
    last_turn = messages_sent(fake)[-1].json["messages"][-1]
    assert last_turn == {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": calls[0]["id"], "content": "sunny"},
            {"type": "tool_result", "tool_use_id": calls[1]["id"], "content": "noon"},
        ],
    }


async def test_async_non_streaming_forced_tool_call(gateway: Gateway, fake: FakeAnthropic) -> None:
    completion = await gateway.async_client().chat.completions.create(
        model="claude-fake",
        messages=HELLO,
        tools=[WEATHER, CLOCK],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )

    message = completion.choices[0].message
    assert completion.choices[0].finish_reason == "tool_calls"
    assert message.tool_calls is not None
    assert [(c.function.name, c.function.arguments) for c in message.tool_calls] == [  # type: ignore[union-attr]
        ("get_weather", '{"city":"city-value"}')
    ]
    assert messages_sent(fake)[-1].json["tool_choice"] == {"type": "tool", "name": "get_weather"}


def test_invalid_tool_arguments_are_a_400_before_reaching_upstream(
    gateway: Gateway, fake: FakeAnthropic
) -> None:
    history: list[Any] = [
        *HELLO,
        {
            "role": "assistant",
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{oops"}}],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "x"},
    ]

    with pytest.raises(openai.BadRequestError) as info:
        gateway.client().chat.completions.create(model="claude-fake", messages=history)

    assert "valid JSON" in info.value.message
    assert messages_sent(fake) == []


# --- reasoning and structured output ---------------------------------------------------------------------


def test_reasoning_effort_turns_thinking_on_and_streams_reasoning_content(
    gateway: Gateway, fake: FakeAnthropic
) -> None:
    chunks = list(
        gateway.client().chat.completions.create(
            model="claude-fake", messages=HELLO, reasoning_effort="low", stream=True
        )
    )

    reasoning = "".join(
        (c.choices[0].delta.model_extra or {}).get("reasoning_content") or "" for c in chunks if c.choices
    )
    assert reasoning == "Thinking it over."
    sent = messages_sent(fake)[-1].json
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert sent["max_tokens"] > 2048


def test_json_schema_response_format_uses_structured_output(gateway: Gateway, fake: FakeAnthropic) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    completion = gateway.client().chat.completions.create(
        model="claude-fake",
        messages=HELLO,
        response_format={"type": "json_schema", "json_schema": {"name": "place", "schema": schema}},
    )

    assert json.loads(completion.choices[0].message.content or "") == {"city": "city-value"}
    assert messages_sent(fake)[-1].json["output_config"] == {
        "format": {"type": "json_schema", "schema": {**schema, "additionalProperties": False}}
    }


# --- errors ----------------------------------------------------------------------------------------------


def test_rate_limit_passes_status_and_retry_after(gateway: Gateway) -> None:
    with pytest.raises(openai.RateLimitError) as info:
        gateway.client().chat.completions.create(model="fault-429", messages=HELLO)

    assert info.value.response.headers["retry-after"] == "7"


@pytest.mark.parametrize("stream", [False, True])
def test_overloaded_upstream_is_a_502(gateway: Gateway, stream: bool) -> None:
    with pytest.raises(openai.InternalServerError) as info:
        gateway.client().chat.completions.create(model="fault-529", messages=HELLO, stream=stream)

    assert info.value.status_code == 502
    assert info.value.code == "overloaded"


def test_upstream_not_found_is_passed_on(make_gateway: Callable[..., Gateway], fake: FakeAnthropic) -> None:
    # An allowlisted model the upstream does not know: the 404 is Anthropic's, passed on.
    gateway = gateway_for(
        make_gateway, fake, ANTHROPIC_MODELS="claude-retired", CONFIGURED_PROVIDER_MODELS_MODE="allowlist"
    )

    with pytest.raises(openai.NotFoundError, match="model: claude-retired"):
        gateway.client().chat.completions.create(model="claude-retired", messages=HELLO)
    assert messages_sent(fake)[-1].json["model"] == "claude-retired"


def test_mid_stream_error_event_reaches_the_client_as_an_error(gateway: Gateway) -> None:
    stream = gateway.client().chat.completions.create(model="fault-stream-error", messages=HELLO, stream=True)
    received: list[str] = []

    def drain() -> None:
        received.extend(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)

    with pytest.raises(openai.APIError, match="overloaded"):
        drain()

    assert "".join(received) == "tok0 "  # what arrived before the error event
    (record,) = gateway.records.wait_for(1)
    assert record.status == 502


def test_wrong_upstream_key_is_a_401_without_the_key(
    make_gateway: Callable[..., Gateway], fake: FakeAnthropic
) -> None:
    gateway = gateway_for(
        make_gateway, fake, ANTHROPIC_API_KEY="sk-ant-wrong-secret", ANTHROPIC_MODELS="claude-fake"
    )

    with pytest.raises(openai.AuthenticationError) as info:
        gateway.client().chat.completions.create(model="claude-fake", messages=HELLO)

    assert "sk-ant-wrong-secret" not in str(info.value.body)


def test_embeddings_are_a_400_naming_the_provider(gateway: Gateway) -> None:
    with pytest.raises(openai.BadRequestError, match="anthropic does not offer embeddings"):
        gateway.client().embeddings.create(model="claude-fake", input="hello")
