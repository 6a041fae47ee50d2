"""`AnthropicStreamEncoder` writes each event as fixed bytes around its strings: the bytes must be
exactly ``orjson.dumps`` of the event's dict, as the encoder wrote them when it built the dicts.

The reference below is that dict-building encoder, kept here to compare with on every kind of event,
and on runs of text written whole.
"""

from __future__ import annotations

import random
from typing import Any

import orjson
import pytest

from gomodel.core.chat import (
    Finish,
    FinishReason,
    ReasoningDelta,
    StreamEvent,
    StreamFailed,
    StreamStart,
    TextDelta,
    TextRun,
    ToolCallDelta,
    ToolCallStart,
    UsageReport,
)
from gomodel.core.errors import UpstreamError
from gomodel.core.records import Usage
from gomodel.dialects.anthropic.response_encode import stop_reason, usage_to_anthropic
from gomodel.dialects.anthropic.stream_encode import AnthropicStreamEncoder

START = StreamStart(id="msg_fixed", model="gpt-x", created=1_700_000_000, usage=Usage(prompt_tokens=5))
WORDS = ("Hello", ",", " wörld", " 東京", " 🌦️", ' "q"', "a\nb", "back\\slash", "\u2028", "\x7f", "\x00")


def sse(kind: str, data: dict[str, Any]) -> bytes:
    return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


class Reference:
    """The encoder as it was: a dict per event, serialised by orjson."""

    def __init__(self) -> None:
        self.index = -1
        self.open: str | None = None
        self.tools: dict[int, int] = {}
        self.finish: FinishReason = "stop"
        self.usage: Usage | None = None

    def start(self, event: StreamStart) -> bytes:
        self.usage = event.usage
        message = {
            "id": event.id,
            "type": "message",
            "role": "assistant",
            "model": event.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage_to_anthropic(event.usage),
        }
        return sse("message_start", {"type": "message_start", "message": message})

    def encode(self, event: StreamEvent) -> bytes:
        if isinstance(event, TextDelta):
            if not event.text:
                return b""
            return self.ensure("text", {"type": "text", "text": ""}) + self.delta(
                {"type": "text_delta", "text": event.text}
            )
        if isinstance(event, ToolCallDelta):
            if event.index not in self.tools or not event.arguments:
                return b""
            delta = {"type": "input_json_delta", "partial_json": event.arguments}
            data = {"type": "content_block_delta", "index": self.tools[event.index], "delta": delta}
            return sse("content_block_delta", data)
        if isinstance(event, ReasoningDelta):
            out = b""
            thinking = {"type": "thinking", "thinking": "", "signature": ""}
            if event.text:
                out += self.ensure("thinking", thinking)
                out += self.delta({"type": "thinking_delta", "thinking": event.text})
            if event.signature:
                out += self.ensure("thinking", thinking)
                out += self.delta({"type": "signature_delta", "signature": event.signature})
            return out
        if isinstance(event, ToolCallStart):
            out = self.close()
            self.index += 1
            self.open = "tool_use"
            self.tools[event.index] = self.index
            block = {"type": "tool_use", "id": event.id, "name": event.name, "input": {}}
            start = {"type": "content_block_start", "index": self.index, "content_block": block}
            return out + sse("content_block_start", start)
        if isinstance(event, Finish):
            self.finish = event.reason
        elif isinstance(event, UsageReport):
            self.usage = event.usage
        return b""

    def finish_stream(self) -> bytes:
        delta = {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason(self.finish), "stop_sequence": None},
            "usage": usage_to_anthropic(self.usage),
        }
        return self.close() + sse("message_delta", delta) + sse("message_stop", {"type": "message_stop"})

    def ensure(self, kind: str, block: dict[str, Any]) -> bytes:
        if self.open == kind:
            return b""
        out = self.close()
        self.index += 1
        self.open = kind
        start = {"type": "content_block_start", "index": self.index, "content_block": block}
        return out + sse("content_block_start", start)

    def delta(self, delta: dict[str, Any]) -> bytes:
        return sse(
            "content_block_delta", {"type": "content_block_delta", "index": self.index, "delta": delta}
        )

    def close(self) -> bytes:
        if self.open is None:
            return b""
        self.open = None
        return sse("content_block_stop", {"type": "content_block_stop", "index": self.index})


def reference(events: list[StreamEvent]) -> bytes:
    encoder = Reference()
    out = encoder.start(START)
    for event in events:
        for delta in event.deltas() if type(event) is TextRun else [event]:
            out += encoder.encode(delta)
    return out + encoder.finish_stream()


def encoded(events: list[StreamEvent]) -> bytes:
    encoder = AnthropicStreamEncoder("gpt-x")
    return encoder.start(START) + b"".join(map(encoder.encode, events)) + encoder.finish()


def run(words: tuple[str, ...], *, escaped: bool) -> TextRun:
    json = tuple(orjson.dumps(word)[1:-1] for word in words) if escaped else None
    return TextRun("".join(words), words, json)


# --- tests ------------------------------------------------------------------------------------------------


def test_text_is_written_as_the_dicts_were() -> None:
    events: list[StreamEvent] = [TextDelta(word) for word in ("", *WORDS, "")]

    assert encoded(events) == reference(events)


@pytest.mark.parametrize("escaped", [True, False])
def test_a_run_is_written_as_its_deltas(escaped: bool) -> None:
    plain = tuple(word for word in WORDS if orjson.dumps(word)[1:-1] == word.encode())
    events: list[StreamEvent] = [run(plain if escaped else WORDS, escaped=escaped), TextDelta("!")]

    assert encoded(events) == reference(events)


def test_a_run_opens_a_text_block_after_another_block() -> None:
    events: list[StreamEvent] = [
        ReasoningDelta(text="hmm"),
        run(("a", "b"), escaped=True),
        ToolCallStart(index=0, id="call_1", name="f"),
        run(("c", "d"), escaped=False),
    ]

    assert encoded(events) == reference(events)


def test_reasoning_tools_finish_and_usage_are_written_as_the_dicts_were() -> None:
    usage = Usage(prompt_tokens=12, completion_tokens=7, total_tokens=19, cached_tokens=2)
    events: list[StreamEvent] = [
        ReasoningDelta(text="Let me think"),
        ReasoningDelta(text=' about "it"', signature="sig=="),
        ReasoningDelta(signature="only-sig"),
        TextDelta("Calling."),
        ToolCallStart(index=0, id="call_é", name="get_weather"),
        ToolCallDelta(index=0, arguments='{"city":'),
        ToolCallDelta(index=5, arguments="ignored"),
        ToolCallDelta(index=0, arguments=""),
        ToolCallStart(index=1, id='call_"2"', name="get_time"),
        ToolCallDelta(index=1, arguments="{}"),
        ToolCallDelta(index=0, arguments='"Zürich"}'),
        Finish("tool_calls"),
        UsageReport(usage),
    ]

    assert encoded(events) == reference(events)


@pytest.mark.parametrize("reason", ["stop", "length", "tool_calls", "content_filter", "error"])
def test_every_finish_reason(reason: FinishReason) -> None:
    events: list[StreamEvent] = [TextDelta("x"), Finish(reason)]

    assert encoded(events) == reference(events)


def test_a_stream_without_events_or_usage() -> None:
    start = StreamStart(id="msg_x", model="m", created=0)
    encoder = AnthropicStreamEncoder("m")
    expected = Reference()

    assert encoder.start(start) + encoder.finish() == expected.start(start) + expected.finish_stream()


def test_start_and_failure_events_write_nothing_mid_stream() -> None:
    failed = StreamFailed(UpstreamError("boom"))

    assert AnthropicStreamEncoder("m").encode(START) == b""
    assert AnthropicStreamEncoder("m").encode(failed) == b""


@pytest.mark.parametrize("seed", range(40))
def test_random_event_sequences(seed: int) -> None:
    rng = random.Random(seed)
    events: list[StreamEvent] = []
    tools = 0
    for _ in range(rng.randint(0, 30)):
        roll = rng.random()
        if roll < 0.35:
            events.append(TextDelta(rng.choice(("", *WORDS))))
        elif roll < 0.5:
            events.append(run(tuple(rng.sample(WORDS, rng.randint(2, 5))), escaped=False))
        elif roll < 0.6:
            events.append(ReasoningDelta(text=rng.choice(("", *WORDS)), signature=rng.choice((None, "s"))))
        elif roll < 0.7:
            events.append(ToolCallStart(index=tools, id=f"call_{tools}", name=rng.choice(WORDS)))
            tools += 1
        elif roll < 0.85:
            events.append(ToolCallDelta(index=rng.randint(0, tools), arguments=rng.choice(("", *WORDS))))
        elif roll < 0.92:
            events.append(Finish(rng.choice(("stop", "length", "tool_calls"))))
        else:
            events.append(UsageReport(Usage(prompt_tokens=rng.randint(0, 9), completion_tokens=3)))

    assert encoded(events) == reference(events)


def test_the_encoder_says_it_writes_runs() -> None:
    assert AnthropicStreamEncoder.text_runs is True
