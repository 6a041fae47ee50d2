"""streamGenerateContent SSE transcripts -> stream events, whatever the chunk boundaries."""

from __future__ import annotations

import random
import timeit
from pathlib import Path

import orjson
import pytest

from gomodel.core.chat import (
    Finish,
    ReasoningDelta,
    StreamEvent,
    StreamFailed,
    StreamStart,
    TextDelta,
    ToolCallDelta,
    ToolCallStart,
    UsageReport,
)
from gomodel.core.errors import UpstreamError, UpstreamStatusError
from gomodel.core.records import Usage
from gomodel.dialects.gemini.stream_decode import GeminiStreamDecoder

FIXTURES = Path(__file__).parent / "fixtures"
CREATED = 1_750_000_000


def _decode(data: bytes, sizes: list[int] | int | None = None, model: str = "requested") -> list[StreamEvent]:
    """Feed ``data`` in pieces (all at once, fixed ``sizes``, or the given list cycled) then flush."""
    decoder = GeminiStreamDecoder("gemini", model, created=CREATED)
    events: list[StreamEvent] = []
    if sizes is None:
        events += decoder.feed(data)
    else:
        steps = [sizes] if isinstance(sizes, int) else sizes
        position = index = 0
        while position < len(data):
            step = steps[index % len(steps)]
            events += decoder.feed(data[position : position + step])
            position += step
            index += 1
    return events + decoder.flush()


def _comparable(events: list[StreamEvent]) -> list[object]:
    """Errors compare by identity; compare failures by what a client sees instead."""
    return [
        (type(e.error), e.error.status, e.error.code, e.error.message) if isinstance(e, StreamFailed) else e
        for e in events
    ]


def _merged(events: list[StreamEvent]) -> list[StreamEvent]:
    """Adjacent text deltas joined: how finely text is cut does not matter, its order does."""
    out: list[StreamEvent] = []
    for event in events:
        if isinstance(event, TextDelta) and out and isinstance(out[-1], TextDelta):
            out[-1] = TextDelta(out[-1].text + event.text)
        else:
            out.append(event)
    return out


TEXT_EVENTS: list[StreamEvent] = [
    StreamStart(id="chatcmpl-9NJkaNeVLdCB7dcPiYrC-QM", model="gemini-2.5-flash", created=CREATED),
    ReasoningDelta(text="**Greeting the user**\nA short, friendly answer."),
    TextDelta("Hello"),
    TextDelta(", wörld ☃ — "),
    TextDelta("日本語も大丈夫。"),
    Finish("stop"),
    UsageReport(Usage(prompt_tokens=9, completion_tokens=73, total_tokens=82, reasoning_tokens=62)),
]


def test_text_transcript() -> None:
    assert _decode((FIXTURES / "stream_text.sse").read_bytes()) == TEXT_EVENTS


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64])
def test_any_split_gives_the_same_events(size: int) -> None:
    # Byte-sized pieces cut every multi-byte character (ö, ☃, 日本語) and every CRLF apart.
    assert _decode((FIXTURES / "stream_text.sse").read_bytes(), size) == TEXT_EVENTS


def test_random_splits_of_every_transcript() -> None:
    rng = random.Random(7)
    for name in ("stream_text.sse", "stream_tools.sse", "stream_error.sse", "stream_blocked.sse"):
        data = (FIXTURES / name).read_bytes()
        whole = _comparable(_decode(data))
        for _ in range(20):
            assert _comparable(_decode(data, [rng.randint(1, 40) for _ in range(50)])) == whole, name


def test_tool_calls_are_numbered_across_events() -> None:
    events = _decode((FIXTURES / "stream_tools.sse").read_bytes(), 11)
    assert _merged(events) == [
        StreamStart(id="chatcmpl-tools-stream-1", model="gemini-2.5-pro", created=CREATED),
        TextDelta("Let me look that up."),
        ToolCallStart(index=0, id="call_0__thought__CiQBcsjafJ0P0q7m1u5k", name="get_weather"),
        ToolCallDelta(index=0, arguments='{"city":"Zürich","unit":"celsius"}'),
        ToolCallStart(index=1, id="call_1", name="get_weather"),
        ToolCallDelta(index=1, arguments='{"city":"東京"}'),
        ToolCallStart(index=2, id="call_2", name="get_time"),
        ToolCallDelta(index=2, arguments="{}"),
        Finish("tool_calls"),
        UsageReport(Usage(prompt_tokens=120, completion_tokens=41, total_tokens=161)),
    ]


def test_error_event_mid_stream() -> None:
    events = _decode((FIXTURES / "stream_error.sse").read_bytes())
    assert events[:3] == [
        StreamStart(id="chatcmpl-err-stream", model="gemini-2.5-flash", created=CREATED),
        TextDelta("Once upon"),
        TextDelta(" a time"),
    ]
    assert len(events) == 4
    failed = events[3]
    assert isinstance(failed, StreamFailed)
    assert failed.error.status == 502
    assert "The model is overloaded" in failed.error.message


def test_rate_limit_event_mid_stream_stays_a_429() -> None:
    error = {"error": {"code": 429, "message": "Resource exhausted.", "status": "RESOURCE_EXHAUSTED"}}
    events = _decode(b"data: " + orjson.dumps(error) + b"\r\n\r\n")
    assert len(events) == 1
    assert isinstance(events[0], StreamFailed)
    assert events[0].error.status == 429


def test_blocked_prompt_fails_before_the_stream_starts() -> None:
    events = _decode((FIXTURES / "stream_blocked.sse").read_bytes())
    assert len(events) == 1
    assert isinstance(events[0], StreamFailed)
    error = events[0].error
    assert isinstance(error, UpstreamStatusError)
    assert (error.status, error.code) == (400, "content_filter")
    assert "PROHIBITED_CONTENT" in error.message


def test_malformed_function_call_fails_the_stream() -> None:
    chunk = {"candidates": [{"index": 0, "finishReason": "MALFORMED_FUNCTION_CALL"}], "responseId": "r"}
    events = _decode(b"data: " + orjson.dumps(chunk) + b"\r\n\r\n")
    assert isinstance(events[0], StreamStart)
    assert isinstance(events[1], StreamFailed)
    assert events[1].error.code == "malformed_function_call"
    assert len(events) == 2


def test_body_that_stops_before_a_finish_reason_fails() -> None:
    data = (FIXTURES / "stream_text.sse").read_bytes()
    cut = data[: data.rindex(b"data: ")]  # the last event (with finishReason) never arrives
    events = _decode(cut)
    assert isinstance(events[-1], StreamFailed)
    assert isinstance(events[-1].error, UpstreamError)
    assert events[-1].error.code == "upstream_incomplete_stream"
    assert not any(isinstance(e, Finish) for e in events)


def test_an_empty_body_gives_no_events() -> None:
    assert _decode(b"") == []


def test_events_after_a_failure_are_ignored() -> None:
    data = (FIXTURES / "stream_error.sse").read_bytes() + (FIXTURES / "stream_text.sse").read_bytes()
    events = _decode(data)
    assert isinstance(events[-1], StreamFailed)
    assert len(events) == 4


def test_garbage_event_fails_the_stream() -> None:
    events = _decode(b"data: {not json\r\n\r\n")
    assert len(events) == 1
    assert isinstance(events[0], StreamFailed)


def test_unterminated_last_event_is_still_read() -> None:
    data = (FIXTURES / "stream_text.sse").read_bytes().rstrip(b"\r\n")
    assert _decode(data) == TEXT_EVENTS


def test_stream_start_without_response_id_gets_a_fresh_id() -> None:
    chunk = {"candidates": [{"index": 0, "content": {"parts": [{"text": "x"}]}, "finishReason": "STOP"}]}
    events = _decode(b"data: " + orjson.dumps(chunk) + b"\r\n\r\n")
    start = events[0]
    assert isinstance(start, StreamStart)
    assert start.id.startswith("chatcmpl-")
    assert len(start.id) > len("chatcmpl-")
    assert start.model == "requested"


def test_decoder_speed_is_reported() -> None:
    """Not an assertion on speed: prints events/s for a 50-chunk transcript (run with -s to see it)."""
    chunk = {
        "candidates": [
            {"content": {"parts": [{"text": "some words of text, ünïcode too "}], "role": "model"}}
        ],
        "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 5, "totalTokenCount": 14},
        "modelVersion": "gemini-2.5-flash",
        "responseId": "bench",
    }
    events = [b"data: " + orjson.dumps(chunk) + b"\r\n\r\n" for _ in range(49)]
    chunk["candidates"][0]["finishReason"] = "STOP"
    events.append(b"data: " + orjson.dumps(chunk) + b"\r\n\r\n")

    def run() -> None:
        decoder = GeminiStreamDecoder("gemini", "m", created=0)
        for event in events:
            decoder.feed(event)
        decoder.flush()

    rounds = 200
    seconds = timeit.timeit(run, number=rounds)
    print(f"\ngemini stream decode: {50 * rounds / seconds:,.0f} events/s")
