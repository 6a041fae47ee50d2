"""`OpenAICompatibleProvider` on the translate path (chat, chat_stream, embeddings) against the fake upstream.

Both the fake and the provider run on the test's own event loop; the fake records what it received.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from gomodel.config.schema import HTTPConfig, ProviderConfig
from gomodel.core.chat import (
    ChatRequest,
    ChatResponse,
    EmbeddingsRequest,
    Finish,
    StreamEvent,
    StreamFailed,
    StreamStart,
    TextDelta,
    TextRun,
    UsageReport,
)
from gomodel.core.errors import (
    GatewayError,
    UpstreamError,
    UpstreamRateLimitError,
    UpstreamStatusError,
    UpstreamTimeoutError,
)
from gomodel.core.records import Usage
from gomodel.dialects.openai_chat_request import decode_chat_request, encode_chat_request
from gomodel.providers.base import Provider
from gomodel.providers.registry import build_provider
from gomodel.testing import fake_upstream_wire as wire
from gomodel.testing.fake_upstream import FakeUpstream

PIECES = ["tok0 ", "tok1 ", "tok2 ", "tok3 ", "tok4 "]
MESSAGES = [{"role": "developer", "content": "Be brief."}, {"role": "user", "content": "hello there friend"}]
PROMPT_TOKENS = 5  # words in the string contents, as the fake counts them


@pytest.fixture
async def upstream() -> AsyncIterator[FakeUpstream]:
    fake = FakeUpstream()
    await fake.start()
    yield fake
    await fake.close()


async def open_provider(
    fake: FakeUpstream, api_key: str = "fake-key", http: HTTPConfig | None = None
) -> Provider:
    config = ProviderConfig(name="openai", type="openai", api_key=api_key, base_url=fake.base_url)
    provider = build_provider(config, http or HTTPConfig())
    await provider.start()
    return provider


@pytest.fixture
async def provider(upstream: FakeUpstream) -> AsyncIterator[Provider]:
    provider = await open_provider(upstream)
    yield provider
    await provider.aclose()


def chat_request(model: str = "gpt-fake", *, stream: bool = False, **fields: Any) -> ChatRequest:
    return decode_chat_request({"model": model, "messages": MESSAGES, "stream": stream, **fields})


async def collect(provider: Provider, request: ChatRequest) -> list[StreamEvent]:
    """The provider's events, runs of text split back into their deltas (as `pump` does)."""
    events: list[StreamEvent] = []
    async for batch in provider.chat_stream(request):
        for event in batch:
            events.extend(event.deltas() if isinstance(event, TextRun) else [event])
    return events


def test_registry_builds_the_openai_compatible_provider(upstream: FakeUpstream) -> None:
    config = ProviderConfig(name="openai", type="openai", api_key="fake-key", base_url=upstream.base_url)

    provider = build_provider(config, HTTPConfig())

    assert type(provider).__name__ == "OpenAICompatibleProvider"
    assert (provider.name, provider.type, provider.dialect) == ("openai", "openai", "openai_chat")


# --- chat -----------------------------------------------------------------------------------------


async def test_chat_sends_the_encoded_request_and_returns_the_neutral_answer(
    provider: Provider, upstream: FakeUpstream
) -> None:
    request = chat_request(temperature=0.3, max_tokens=50, stop="END", user="u-1")

    response = await provider.chat(request)

    assert response == ChatResponse(
        id="chatcmpl-fake-1",
        model="gpt-fake",
        created=wire.CREATED,
        content="".join(PIECES),
        finish_reason="stop",
        usage=Usage(prompt_tokens=PROMPT_TOKENS, completion_tokens=5, total_tokens=PROMPT_TOKENS + 5),
    )
    (sent,) = upstream.requests
    assert (sent.method, sent.path) == ("POST", "/v1/chat/completions")
    assert sent.headers["Authorization"] == "Bearer fake-key"
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.json == {
        "model": "gpt-fake",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "hello there friend"},
        ],
        "max_completion_tokens": 50,
        "temperature": 0.3,
        "stop": ["END"],
        "user": "u-1",
    }
    assert "stream" not in sent.json


async def test_chat_with_tools_images_and_schema_reaches_the_upstream_intact(
    provider: Provider, upstream: FakeUpstream
) -> None:
    payload = {
        "model": "gpt-fake",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {
                        "type": "image_url",
                        "image_url": {"url": "https://example.com/cat.png", "detail": "low"},
                    },
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "look", "arguments": '{"q":"cat"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "a cat"},
        ],
        "tools": [{"type": "function", "function": {"name": "look", "parameters": {"type": "object"}}}],
        "tool_choice": "auto",
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": {"type": "object"}},
        },
        "seed": 3,
    }
    request = decode_chat_request(payload)

    await provider.chat(request)

    sent = upstream.requests[-1].json
    assert sent == orjson.loads(orjson.dumps(encode_chat_request(request)))
    assert sent["messages"][0]["content"][1] == payload["messages"][0]["content"][1]  # type: ignore[index]
    assert sent["messages"][1]["tool_calls"] == payload["messages"][1]["tool_calls"]  # type: ignore[index]
    assert sent["tool_choice"] == "auto"


# --- chat_stream ----------------------------------------------------------------------------------


async def test_chat_stream_asks_for_usage_and_yields_events_in_order(
    provider: Provider, upstream: FakeUpstream
) -> None:
    events = await collect(provider, chat_request(stream=True))

    assert events == [
        StreamStart(id="chatcmpl-fake-1", model="gpt-fake", created=wire.CREATED),
        *(TextDelta(p) for p in PIECES),
        Finish("stop"),
        UsageReport(Usage(prompt_tokens=PROMPT_TOKENS, completion_tokens=5, total_tokens=PROMPT_TOKENS + 5)),
    ]
    sent = upstream.requests[-1].json
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}
    assert sent["model"] == "gpt-fake"
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hello there friend"},
    ]
    async with asyncio.timeout(5):
        await upstream.wait_for_event_async("completed", stream_id="chatcmpl-fake-1")


async def test_chat_stream_of_a_long_answer() -> None:
    fake = FakeUpstream(chunks=300)
    await fake.start()
    provider = await open_provider(fake)
    try:
        events = await collect(provider, chat_request(stream=True))
    finally:
        await provider.aclose()
        await fake.close()

    assert isinstance(events[0], StreamStart)
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "".join(
        f"tok{i} " for i in range(300)
    )
    assert events[-2:] == [Finish("stop"), UsageReport(Usage(PROMPT_TOKENS, 300, PROMPT_TOKENS + 300))]


async def test_stream_cut_mid_way_ends_with_stream_failed(provider: Provider) -> None:
    events = await collect(provider, chat_request(wire.FAULT_STREAM_CUT, stream=True))

    *before, last = events
    assert before == [
        StreamStart(id="chatcmpl-fake-1", model=wire.FAULT_STREAM_CUT, created=wire.CREATED),
        TextDelta("tok0 "),
    ]
    assert isinstance(last, StreamFailed)
    assert isinstance(last.error, UpstreamError)
    assert last.error.code == "upstream_connection_lost"
    assert "openai" in last.error.message


async def test_stream_error_event_ends_with_stream_failed(provider: Provider) -> None:
    events = await collect(provider, chat_request(wire.FAULT_STREAM_ERROR, stream=True))

    assert [type(e) for e in events] == [StreamStart, TextDelta, StreamFailed]
    failed = events[-1]
    assert isinstance(failed, StreamFailed)
    assert "upstream exploded" in failed.error.message


async def test_stream_stall_hits_the_idle_timeout(upstream: FakeUpstream) -> None:
    provider = await open_provider(upstream, http=HTTPConfig(stream_idle_timeout=0.3))  # type: ignore[arg-type]
    try:
        async with asyncio.timeout(10):
            events = await collect(provider, chat_request(wire.FAULT_STREAM_STALL, stream=True))
    finally:
        await provider.aclose()

    assert [type(e) for e in events] == [StreamStart, TextDelta, StreamFailed]
    assert isinstance(events[-1], StreamFailed)
    assert isinstance(events[-1].error, UpstreamTimeoutError)


async def test_abandoned_stream_closes_the_upstream_connection() -> None:
    fake = FakeUpstream(chunks=1000, chunk_delay=0.05)
    await fake.start()
    provider = await open_provider(fake)
    try:
        stream = provider.chat_stream(chat_request(stream=True))
        (first,) = await anext(stream)  # one upstream read: one batch
        (second,) = await anext(stream)
        await stream.aclose()  # type: ignore[attr-defined]
        async with asyncio.timeout(5):
            await fake.wait_for_event_async("client_disconnected")
    finally:
        await provider.aclose()
        await fake.close()

    assert isinstance(first, StreamStart)
    assert second == TextDelta("tok0 ")
    assert ("chatcmpl-fake-1", "completed") not in fake.stream_events


# --- upstream refusals: raised before the first event ---------------------------------------------

REFUSALS = [
    pytest.param("fault-400", UpstreamStatusError, 400, None, id="400"),
    pytest.param("fault-401", UpstreamStatusError, 401, "invalid_api_key", id="401"),
    pytest.param("fault-429", UpstreamRateLimitError, 429, "rate_limit_exceeded", id="429"),
    pytest.param("no-such-model", UpstreamStatusError, 404, "model_not_found", id="404 unknown model"),
    pytest.param("fault-500", UpstreamError, 502, "upstream_error", id="500"),
    pytest.param("fault-503", UpstreamError, 502, "upstream_error", id="503"),
]


def check_refusal(error: GatewayError, kind: type[GatewayError], status: int, code: str | None) -> None:
    assert type(error) is kind
    assert (error.status, error.code) == (status, code)
    assert error.message
    if status == 429:
        assert error.headers == {"retry-after": str(wire.RETRY_AFTER_SECONDS)}
        assert error.error_type == "rate_limit_error"
    if status in (400, 401, 404):
        assert error.error_type == "invalid_request_error"


@pytest.mark.parametrize(("model", "kind", "status", "code"), REFUSALS)
async def test_chat_refusals_raise_gateway_errors(
    provider: Provider, model: str, kind: type[GatewayError], status: int, code: str | None
) -> None:
    with pytest.raises(GatewayError) as caught:
        await provider.chat(chat_request(model))

    check_refusal(caught.value, kind, status, code)


@pytest.mark.parametrize(("model", "kind", "status", "code"), REFUSALS)
async def test_stream_refusals_raise_before_the_first_event(
    provider: Provider, model: str, kind: type[GatewayError], status: int, code: str | None
) -> None:
    stream = provider.chat_stream(chat_request(model, stream=True))

    with pytest.raises(GatewayError) as caught:
        await anext(stream)

    check_refusal(caught.value, kind, status, code)
    assert [e async for e in stream] == [], "nothing follows the refusal"


async def test_rate_limit_message_is_the_upstream_one(provider: Provider) -> None:
    with pytest.raises(UpstreamRateLimitError, match="Rate limit reached for fake-model"):
        await provider.chat(chat_request("fault-429"))


async def test_wrong_key_is_a_401_without_echoing_it(upstream: FakeUpstream) -> None:
    provider = await open_provider(upstream, api_key="sk-wrong-key-1234")
    try:
        with pytest.raises(UpstreamStatusError) as caught:
            await provider.chat(chat_request())
    finally:
        await provider.aclose()

    assert (caught.value.status, caught.value.code) == (401, "invalid_api_key")
    assert "sk-wrong-key-1234" not in caught.value.message


async def test_unreachable_upstream_is_an_upstream_error() -> None:
    fake = FakeUpstream()
    await fake.start()
    base_url = fake.base_url
    await fake.close()
    config = ProviderConfig(name="openai", type="openai", api_key="k", base_url=base_url)
    provider = build_provider(config, HTTPConfig())
    await provider.start()
    try:
        with pytest.raises(UpstreamError) as caught:
            await anext(provider.chat_stream(chat_request(stream=True)))
    finally:
        await provider.aclose()

    assert caught.value.code == "upstream_unreachable"


# --- embeddings -----------------------------------------------------------------------------------


def fake_vector(text: str, dim: int) -> tuple[float, ...]:
    return tuple(struct.unpack(f"<{dim}f", wire.embedding_vector(text, dim)))


async def test_embeddings_round_trip(provider: Provider, upstream: FakeUpstream) -> None:
    request = EmbeddingsRequest(
        model="text-embedding-fake", inputs=("The food was delicious.", "☕"), dimensions=4
    )

    response = await provider.embeddings(request)

    assert response.model == "text-embedding-fake"
    assert response.vectors == (fake_vector("The food was delicious.", 4), fake_vector("☕", 4))
    assert response.usage == Usage(prompt_tokens=5, total_tokens=5)
    sent = upstream.requests[-1]
    assert sent.path == "/v1/embeddings"
    assert sent.json == {
        "model": "text-embedding-fake",
        "input": ["The food was delicious.", "☕"],
        "dimensions": 4,
    }


async def test_embeddings_always_asks_upstream_for_floats(provider: Provider, upstream: FakeUpstream) -> None:
    request = EmbeddingsRequest(model="text-embedding-fake", inputs=("a",), encoding_format="base64")

    response = await provider.embeddings(request)

    assert "encoding_format" not in upstream.requests[-1].json
    assert response.vectors == (fake_vector("a", upstream.embedding_dim),)


@pytest.mark.parametrize(
    ("model", "kind", "status"),
    [
        ("fault-429", UpstreamRateLimitError, 429),
        ("fault-400", UpstreamStatusError, 400),
        ("fault-500", UpstreamError, 502),
    ],
)
async def test_embeddings_refusals(
    provider: Provider, model: str, kind: type[GatewayError], status: int
) -> None:
    with pytest.raises(GatewayError) as caught:
        await provider.embeddings(EmbeddingsRequest(model=model, inputs=("a",)))

    assert type(caught.value) is kind
    assert caught.value.status == status
