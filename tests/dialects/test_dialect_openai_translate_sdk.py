"""`ChunkEncoder` output read by the official ``openai`` SDK, as a gateway client would read it.

A tiny aiohttp app on 127.0.0.1 serves pre-encoded bytes as ``POST /v1/chat/completions``; the sync SDK
streams them with its own SSE parser and chunk models.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openai
import orjson
import pytest
from aiohttp import web

from gomodel.core.chat import (
    Finish,
    ReasoningDelta,
    StreamEvent,
    StreamFailed,
    StreamStart,
    TextDelta,
    TextRun,
    UsageReport,
)
from gomodel.core.errors import UpstreamError
from gomodel.core.records import Usage
from gomodel.dialects.openai_chat_stream_decode import ChunkDecoder
from gomodel.dialects.openai_chat_stream_encode import ChunkEncoder
from gomodel.testing.threaded_server import ThreadedServer

TRANSCRIPT = (
    Path(__file__).parent / "fixtures" / "openai_translate" / "stream_text_and_tools.sse"
).read_bytes()
MESSAGES: list[Any] = [{"role": "user", "content": "Weather in Zürich and 東京?"}]


def recorded_events() -> list[StreamEvent]:
    decoder = ChunkDecoder("openai")
    return decoder.feed(TRANSCRIPT) + decoder.flush()


def encode(events: list[StreamEvent], *, include_usage: bool, done: bool = True) -> bytes:
    encoder = ChunkEncoder(include_usage=include_usage)
    return b"".join(encoder.encode(e) for e in events) + (encoder.finish() if done else b"")


class Upstream:
    """Serves ``body`` as an SSE response; ``pieces`` > 1 writes it in that many separate writes."""

    def __init__(self) -> None:
        self.body = b""
        self.pieces = 1

    async def handle(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        size = max(1, -(-len(self.body) // self.pieces))
        for start in range(0, len(self.body), size):
            await response.write(self.body[start : start + size])
        await response.write_eof()
        return response


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Upstream, openai.OpenAI]]:
    upstream = Upstream()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", upstream.handle)
    with ThreadedServer() as server:
        server.start(app, access_log=None)
        client = openai.OpenAI(base_url=server.base_url + "/v1", api_key="sk-test", max_retries=0, timeout=10)
        yield upstream, client
        client.close()


@pytest.fixture
def serve(served: tuple[Upstream, openai.OpenAI]) -> Callable[..., openai.OpenAI]:
    def set_body(body: bytes, pieces: int = 1) -> openai.OpenAI:
        upstream, client = served
        upstream.body, upstream.pieces = body, pieces
        return client

    return set_body


def stream_chunks(client: openai.OpenAI, **kwargs: Any) -> list[Any]:
    return list(client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True, **kwargs))


@pytest.mark.parametrize("pieces", [1, 97], ids=["one write", "97 writes"])
def test_sdk_reads_content_tool_calls_finish_and_usage(
    serve: Callable[..., openai.OpenAI], pieces: int
) -> None:
    client = serve(encode(recorded_events(), include_usage=True), pieces)

    chunks = stream_chunks(client, stream_options={"include_usage": True})

    assert {(c.id, c.model, c.created, c.object) for c in chunks} == {
        ("chatcmpl-C4pX7tQm2LwE9vNa1Rk3Jd8sHfYbZ", "gpt-4o-2024-08-06", 1755001234, "chat.completion.chunk")
    }
    *body, usage_chunk = chunks
    assert body[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in body)
    assert text == "Je vérifie la météo à Zürich et à 東京… 🌦️ un instant."
    calls: dict[int, dict[str, str]] = {}
    for c in body:
        for call in c.choices[0].delta.tool_calls or []:
            slot = calls.setdefault(call.index, {"id": "", "name": "", "arguments": ""})
            slot["id"] += call.id or ""
            assert call.function is not None
            slot["name"] += call.function.name or ""
            slot["arguments"] += call.function.arguments or ""
    assert calls == {
        0: {
            "id": "call_9pLq2mXf8R1sT4vW6yZ0aB3c",
            "name": "get_current_weather",
            "arguments": '{"location":"Zürich, CH","unit":"celsius"}',
        },
        1: {
            "id": "call_Hk3nD7eQ2jM5pR8tV1wX4yZ6",
            "name": "get_current_weather",
            "arguments": '{"location":"東京, JP","unit":"celsius"}',
        },
    }
    assert [c.choices[0].finish_reason for c in body if c.choices[0].finish_reason] == ["tool_calls"]
    assert all(c.usage is None for c in body)
    assert usage_chunk.choices == []
    assert usage_chunk.usage is not None
    usage = usage_chunk.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (154, 71, 225)
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 128


def test_sdk_stream_helper_accumulates_the_final_completion(serve: Callable[..., openai.OpenAI]) -> None:
    client = serve(encode(recorded_events(), include_usage=True))

    with client.chat.completions.stream(
        model="gpt-4o", messages=MESSAGES, stream_options={"include_usage": True}
    ) as stream:
        completion = stream.get_final_completion()

    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content == "Je vérifie la météo à Zürich et à 東京… 🌦️ un instant."
    assert choice.message.tool_calls is not None
    assert [(c.id, orjson.loads(c.function.arguments)) for c in choice.message.tool_calls] == [  # type: ignore[union-attr]
        ("call_9pLq2mXf8R1sT4vW6yZ0aB3c", {"location": "Zürich, CH", "unit": "celsius"}),
        ("call_Hk3nD7eQ2jM5pR8tV1wX4yZ6", {"location": "東京, JP", "unit": "celsius"}),
    ]
    assert completion.usage is not None
    assert completion.usage.total_tokens == 225


def test_sdk_without_usage_sees_no_usage_chunk(serve: Callable[..., openai.OpenAI]) -> None:
    client = serve(encode(recorded_events(), include_usage=False))

    chunks = stream_chunks(client)

    assert all(c.choices for c in chunks)
    assert all(c.usage is None for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_sdk_reads_reasoning_content_as_an_extra_field(serve: Callable[..., openai.OpenAI]) -> None:
    events: list[StreamEvent] = [
        StreamStart(id="msg_01", model="claude-sonnet-4", created=1755000000),
        ReasoningDelta(text="The user greets me."),
        TextDelta("Hello!"),
        Finish("stop"),
        UsageReport(Usage(prompt_tokens=8, completion_tokens=9, total_tokens=17, reasoning_tokens=5)),
    ]
    client = serve(encode(events, include_usage=True))

    chunks = stream_chunks(client, stream_options={"include_usage": True})

    reasoning = [(c.choices[0].delta.model_extra or {}).get("reasoning_content") for c in chunks if c.choices]
    assert "The user greets me." in reasoning
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello!"
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens_details is not None
    assert chunks[-1].usage.completion_tokens_details.reasoning_tokens == 5


def test_stream_failed_makes_the_sdk_raise(serve: Callable[..., openai.OpenAI]) -> None:
    # The start and the first three texts, which the decoder reads as one run with the rest.
    deltas = [d for e in recorded_events() for d in (e.deltas() if type(e) is TextRun else [e])]
    events = [
        *deltas[:4],
        StreamFailed(UpstreamError("provider anthropic: Overloaded", code="upstream_error")),
    ]
    client = serve(encode(events, include_usage=True, done=False))
    received: list[Any] = []
    stream = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)

    with pytest.raises(openai.APIError) as caught:
        received.extend(stream)

    assert "Overloaded" in caught.value.message
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["type"] == "upstream_error"
    assert caught.value.body["code"] == "upstream_error"
    assert "".join(c.choices[0].delta.content or "" for c in received) == "Je vérifie la"
