"""`AnthropicProvider` against the fake Anthropic API on a real socket."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import attrs
import pytest

from gomodel.config.errors import ConfigError
from gomodel.config.schema import HTTPConfig, ProviderConfig, Seconds
from gomodel.core.chat import (
    ChatRequest,
    EmbeddingsRequest,
    Finish,
    Message,
    StreamEvent,
    StreamFailed,
    StreamStart,
    TextDelta,
    TextPart,
    Tool,
    ToolCallDelta,
    ToolCallStart,
    UsageReport,
)
from gomodel.core.errors import (
    InvalidRequestError,
    UpstreamError,
    UpstreamRateLimitError,
    UpstreamStatusError,
    UpstreamTimeoutError,
)
from gomodel.core.records import Usage
from gomodel.providers.anthropic import AnthropicProvider
from gomodel.providers.specs import SPECS
from gomodel.testing.fake_anthropic import FakeAnthropic

KEY = "fake-anthropic-key"
HELLO = (Message(role="user", content=(TextPart("Hello there"),)),)
WEATHER = Tool(name="get_weather", parameters={"type": "object", "properties": {"city": {"type": "string"}}})


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(json_pieces=3, cache_read_tokens=100, cache_creation_tokens=20).serve() as running:
        yield running


@contextlib.asynccontextmanager
async def started(base_url: str, **fields: Any) -> AsyncIterator[AnthropicProvider]:
    http = fields.pop("http", HTTPConfig())
    fields.setdefault("api_key", KEY)
    config = ProviderConfig(name="anthropic", type="anthropic", base_url=base_url, **fields)
    provider = AnthropicProvider(config, SPECS["anthropic"], http)
    await provider.start()
    try:
        yield provider
    finally:
        await provider.aclose()


@pytest.fixture
async def provider(fake: FakeAnthropic) -> AsyncIterator[AnthropicProvider]:
    async with started(fake.base_url) as running:
        yield running


def chat(model: str = "claude-fake", **fields: Any) -> ChatRequest:
    return ChatRequest(model=model, messages=HELLO, **fields)


async def collect(provider: AnthropicProvider, request: ChatRequest) -> list[StreamEvent]:
    return [event async for batch in provider.chat_stream(request) for event in batch]


# --- identity, relay, models --------------------------------------------------------------------------


async def test_relay_target_and_dialect(provider: AnthropicProvider, fake: FakeAnthropic) -> None:
    url, headers = await provider.relay_target("/messages", "claude-fake")

    assert url == fake.base_url + "/messages"
    assert headers["x-api-key"] == KEY
    assert headers["anthropic-version"] == "2023-06-01"
    assert "Authorization" not in headers
    assert provider.dialect_for("claude-fake") == provider.dialect == "anthropic_messages"


async def test_list_models_reads_every_page() -> None:
    models = tuple(f"claude-{i}" for i in range(5))
    with FakeAnthropic(models=models, max_page_size=2).serve() as fake:
        async with started(fake.base_url) as provider:
            assert await provider.list_models() == list(models)

    assert [r.query for r in fake.requests] == [
        {"limit": "1000"},
        {"limit": "1000", "after_id": "claude-1"},
        {"limit": "1000", "after_id": "claude-3"},
    ]
    assert all(r.headers["x-api-key"] == KEY and "Content-Type" not in r.headers for r in fake.requests)


async def test_list_models_failure_maps_the_error(fake: FakeAnthropic) -> None:
    async with started(fake.base_url, api_key="wrong") as provider:
        with pytest.raises(UpstreamStatusError) as info:
            await provider.list_models()

    assert info.value.status == 401


# --- chat -------------------------------------------------------------------------------------------------


async def test_chat_sends_the_messages_body_and_decodes_the_answer(
    provider: AnthropicProvider, fake: FakeAnthropic
) -> None:
    response = await provider.chat(chat(temperature=0.5))

    assert response.content == "tok0 tok1 tok2 tok3 tok4 "
    assert response.finish_reason == "stop"
    assert response.usage == Usage(
        prompt_tokens=2 + 100 + 20,
        completion_tokens=5,
        total_tokens=127,
        cached_tokens=100,
        cache_creation_tokens=20,
    )
    sent = fake.requests[-1]
    assert (sent.method, sent.path) == ("POST", "/v1/messages")
    assert sent.headers["x-api-key"] == KEY
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert sent.json == {
        "model": "claude-fake",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hello there"}]}],
        "max_tokens": 4096,
        "temperature": 0.5,
    }


async def test_default_max_tokens_and_api_version_come_from_config(fake: FakeAnthropic) -> None:
    async with started(
        fake.base_url, options={"default_max_tokens": "1234"}, api_version="2026-10-21"
    ) as provider:
        await provider.chat(chat())

    assert fake.requests[-1].json["max_tokens"] == 1234
    assert fake.requests[-1].headers["anthropic-version"] == "2026-10-21"


@pytest.mark.parametrize("value", ["zero", "0", "-5"])
def test_invalid_default_max_tokens_is_a_config_error(value: str) -> None:
    config = ProviderConfig(
        name="anthropic", type="anthropic", api_key=KEY, options={"default_max_tokens": value}
    )

    with pytest.raises(ConfigError, match="default_max_tokens"):
        AnthropicProvider(config, SPECS["anthropic"], HTTPConfig())


async def test_chat_errors_map_to_gateway_errors(provider: AnthropicProvider) -> None:
    with pytest.raises(UpstreamRateLimitError) as limited:
        await provider.chat(chat("fault-429"))
    with pytest.raises(UpstreamError) as overloaded:
        await provider.chat(chat("fault-529"))
    with pytest.raises(UpstreamStatusError) as missing:
        await provider.chat(chat("claude-missing"))

    assert limited.value.headers == {"retry-after": "7"}
    assert (overloaded.value.status, overloaded.value.code) == (502, "overloaded")
    assert (missing.value.status, missing.value.error_type) == (404, "not_found_error")


async def test_wrong_key_is_a_401_that_never_echoes_the_key(fake: FakeAnthropic) -> None:
    async with started(fake.base_url, api_key="sk-ant-secret-value-123") as provider:
        with pytest.raises(UpstreamStatusError) as info:
            await provider.chat(chat())

    assert info.value.status == 401
    assert "sk-ant-secret" not in info.value.message


async def test_embeddings_are_refused_naming_the_provider(provider: AnthropicProvider) -> None:
    with pytest.raises(InvalidRequestError, match="provider anthropic does not offer embeddings") as info:
        await provider.embeddings(EmbeddingsRequest(model="claude-fake", inputs=("hi",)))

    assert info.value.status == 400


# --- streams ----------------------------------------------------------------------------------------------


async def test_stream_of_parallel_tool_calls(provider: AnthropicProvider, fake: FakeAnthropic) -> None:
    clock = Tool(name="get_time")
    events = await collect(provider, chat(tools=(WEATHER, clock)))

    assert isinstance(events[0], StreamStart)
    assert events[0].id.startswith("msg_fake_")
    starts = [(e.index, e.name) for e in events if isinstance(e, ToolCallStart)]
    assert starts == [(0, "get_weather"), (1, "get_time")]
    arguments = {0: "", 1: ""}
    for event in events:
        if isinstance(event, ToolCallDelta):
            arguments[event.index] += event.arguments
    assert arguments == {0: '{"city":"city-value"}', 1: "{}"}
    assert sum(isinstance(e, ToolCallDelta) and e.index == 0 for e in events) == 3
    assert events[-2] == Finish("tool_calls")
    assert isinstance(events[-1], UsageReport)
    assert fake.requests[-1].json["stream"] is True


async def test_stream_split_into_three_byte_writes_keeps_unicode() -> None:
    text = "Grüße 🇨🇭 東京 — ça va?"
    with FakeAnthropic(reply_text=text, chunks=6, write_size=3).serve() as fake:
        async with started(fake.base_url) as provider:
            events = await collect(provider, chat())

    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == text
    assert events[-2] == Finish("stop")


async def test_refused_stream_raises_before_any_event(provider: AnthropicProvider) -> None:
    with pytest.raises(UpstreamRateLimitError):
        await collect(provider, chat("fault-429"))


@pytest.mark.parametrize(
    ("model", "kind", "status"),
    [("fault-stream-error", UpstreamError, 502), ("fault-stream-rate-limit", UpstreamRateLimitError, 429)],
)
async def test_mid_stream_error_event_ends_with_stream_failed(
    provider: AnthropicProvider, model: str, kind: type, status: int
) -> None:
    events = await collect(provider, chat(model))

    assert isinstance(events[0], StreamStart)
    failed = events[-1]
    assert isinstance(failed, StreamFailed)
    assert type(failed.error) is kind
    assert failed.error.status == status
    assert not any(isinstance(e, Finish) for e in events)


async def test_cut_stream_ends_with_stream_failed(provider: AnthropicProvider) -> None:
    events = await collect(provider, chat("fault-stream-cut"))

    failed = events[-1]
    assert isinstance(failed, StreamFailed)
    assert failed.error.code in ("upstream_stream_incomplete", "upstream_connection_lost")


async def test_stalled_stream_times_out_as_stream_failed(fake: FakeAnthropic) -> None:
    http = HTTPConfig(stream_idle_timeout=Seconds(0.3))
    async with started(fake.base_url, http=http) as provider:
        events = await collect(provider, chat("fault-stream-stall"))

    failed = events[-1]
    assert isinstance(failed, StreamFailed)
    assert type(failed.error) is UpstreamTimeoutError


async def test_closing_the_stream_early_disconnects_upstream(
    provider: AnthropicProvider, fake: FakeAnthropic
) -> None:
    stream = provider.chat_stream(chat("fault-stream-stall"))
    first = (await anext(stream))[0]
    await stream.aclose()  # type: ignore[attr-defined]  # an async generator

    assert isinstance(first, StreamStart)
    for _ in range(100):
        if any(event == "client_disconnected" for _, event in fake.stream_events):
            break
        await asyncio.sleep(0.02)
    assert (first.id, "client_disconnected") in fake.stream_events


async def test_requests_the_encoder_refuses_never_reach_upstream(
    provider: AnthropicProvider, fake: FakeAnthropic
) -> None:
    bad = attrs.evolve(chat(), reasoning_effort="extreme")

    with pytest.raises(InvalidRequestError):
        await provider.chat(bad)
    with pytest.raises(InvalidRequestError):
        await collect(provider, bad)
    assert fake.requests == []
