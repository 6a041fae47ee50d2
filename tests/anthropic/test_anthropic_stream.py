"""`MessagesStreamDecoder`: recorded Anthropic SSE transcripts -> wire-neutral events.

Each transcript is replayed whole, byte by byte, and cut at every position, and must decode to the
same golden events; the OpenAI-style tool-call indices, usage totals and failure modes are pinned
separately so a golden update cannot hide them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import attrs
import orjson
import pytest

from gomodel.core.chat import (
    Finish,
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
from gomodel.core.errors import UpstreamError, UpstreamRateLimitError, UpstreamStatusError
from gomodel.core.records import Usage
from gomodel.dialects.anthropic import MessagesStreamDecoder

FIXTURES = Path(__file__).parent / "fixtures"
TRANSCRIPTS = sorted(path.name for path in FIXTURES.glob("*.sse"))
CREATED = 1_700_000_000


def transcript(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def decode(*chunks: bytes) -> list[StreamEvent]:
    """The events of ``chunks`` fed one by one, a `TextRun` (a read's burst of text deltas) split into
    its deltas: the goldens hold one event per upstream event, however the reads were cut."""
    decoder = MessagesStreamDecoder("anthropic", created=CREATED)
    events: list[StreamEvent] = []
    for chunk in [*chunks, None]:
        for event in decoder.feed(chunk) if chunk is not None else decoder.flush():
            events.extend(event.deltas() if isinstance(event, TextRun) else [event])
    return events


def as_json(events: list[StreamEvent]) -> list[dict[str, Any]]:
    out = []
    for event in events:
        if isinstance(event, StreamFailed):
            error = event.error
            fields: dict[str, Any] = {
                "error": type(error).__name__,
                "status": error.status,
                "code": error.code,
                "message": error.message,
            }
        else:
            fields = attrs.asdict(event)
        out.append({"event": type(event).__name__, **fields})
    return out


def merged(events: list[StreamEvent]) -> list[StreamEvent]:
    """Adjacent text/reasoning/argument deltas joined: what a client accumulates, independent of cuts."""
    out: list[StreamEvent] = []
    for event in events:
        last = out[-1] if out else None
        if isinstance(event, TextDelta) and isinstance(last, TextDelta):
            out[-1] = TextDelta(last.text + event.text)
        elif (
            isinstance(event, ToolCallDelta) and isinstance(last, ToolCallDelta) and last.index == event.index
        ):
            out[-1] = ToolCallDelta(index=event.index, arguments=last.arguments + event.arguments)
        elif isinstance(event, ReasoningDelta) and isinstance(last, ReasoningDelta) and not last.signature:
            out[-1] = ReasoningDelta(text=last.text + event.text, signature=event.signature)
        else:
            out.append(event)
    return out


@pytest.mark.parametrize("name", TRANSCRIPTS)
def test_transcript_matches_its_golden_events(name: str) -> None:
    golden = FIXTURES / name.replace(".sse", ".events.json")
    events = as_json(decode(transcript(name)))
    if os.environ.get("GOMODEL_UPDATE_GOLDEN"):
        golden.write_bytes(orjson.dumps(events, option=orjson.OPT_INDENT_2) + b"\n")

    assert events == orjson.loads(golden.read_bytes())


@pytest.mark.parametrize("name", TRANSCRIPTS)
def test_byte_by_byte_feeding_gives_the_same_events(name: str) -> None:
    data = transcript(name)
    whole = decode(data)

    assert as_json(merged(decode(*(data[i : i + 1] for i in range(len(data)))))) == as_json(merged(whole))


@pytest.mark.parametrize("name", ["stream_unicode.sse", "stream_tool_use.sse", "stream_thinking.sse"])
def test_every_cut_point_gives_the_same_events(name: str) -> None:
    data = transcript(name)
    whole = as_json(decode(data))

    for cut in range(1, len(data)):
        assert as_json(decode(data[:cut], data[cut:])) == whole, f"cut at byte {cut}"


def test_unicode_split_inside_multibyte_sequences_survives() -> None:
    data = transcript("stream_unicode.sse")
    flag = data.index("🇨🇭".encode())
    cuts = [flag + 1, flag + 5, data.index("東".encode()) + 2, data.index("👋🏽".encode()) + 3]
    pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]

    text = "".join(e.text for e in decode(*pieces) if isinstance(e, TextDelta))

    assert text == "Grüße aus Zürich 🇨🇭 und 東京 👋🏽 — ça va?"


def test_crlf_line_endings_decode_the_same() -> None:
    data = transcript("stream_tool_use.sse")

    assert decode(data.replace(b"\n", b"\r\n")) == decode(data)


# --- tool calls ------------------------------------------------------------------------------------


def test_tool_call_indices_count_only_tool_use_blocks() -> None:
    events = decode(transcript("stream_parallel_tools_cached.sse"))
    starts = [e for e in events if isinstance(e, ToolCallStart)]

    assert [(s.index, s.id, s.name) for s in starts] == [
        (0, "toolu_01WeatherParis", "get_weather"),
        (1, "toolu_01CurrentTime", "get_time"),
        (2, "toolu_01WeatherTokyo", "get_weather"),
    ]
    arguments: dict[int, str] = {}
    for event in events:
        if isinstance(event, ToolCallDelta):
            arguments[event.index] = arguments.get(event.index, "") + event.arguments
    assert arguments == {0: '{"city": "Paris"}', 1: "{}", 2: '{"city": "Tokyo"}'}


def test_each_argument_delta_follows_its_start() -> None:
    events = decode(transcript("stream_parallel_tools_cached.sse"))
    started: set[int] = set()
    for event in events:
        if isinstance(event, ToolCallStart):
            started.add(event.index)
        if isinstance(event, ToolCallDelta):
            assert event.index in started


def test_tool_use_transcript_reassembles_the_documented_arguments() -> None:
    events = decode(transcript("stream_tool_use.sse"))

    arguments = "".join(e.arguments for e in events if isinstance(e, ToolCallDelta))
    assert orjson.loads(arguments) == {"location": "San Francisco, CA", "unit": "fahrenheit"}
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == (
        "Okay, let's check the weather for San Francisco, CA:"
    )
    assert events[-2:] == [
        Finish("tool_calls"),
        UsageReport(Usage(prompt_tokens=472, completion_tokens=89, total_tokens=561)),
    ]


def test_tool_use_opening_with_inline_input_streams_it_as_arguments() -> None:
    events = decode(
        b'event: message_start\ndata: {"type":"message_start","message":{"id":"m","model":"c"}}\n\n'
        b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
        b'"content_block":{"type":"tool_use","id":"t","name":"f","input":{"a":1}}}\n\n'
        b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
        b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
    )

    assert events[1:3] == [
        ToolCallStart(index=0, id="t", name="f"),
        ToolCallDelta(index=0, arguments='{"a":1}'),
    ]


# --- usage, finish, order -----------------------------------------------------------------------------


def test_usage_counts_cached_prompt_tokens_as_openai_does() -> None:
    events = decode(transcript("stream_parallel_tools_cached.sse"))

    start = events[0]
    assert isinstance(start, StreamStart)
    assert start.usage == Usage(
        prompt_tokens=2012,
        completion_tokens=1,
        total_tokens=2013,
        cached_tokens=1800,
        cache_creation_tokens=200,
    )
    assert events[-1] == UsageReport(
        Usage(
            prompt_tokens=2012,
            completion_tokens=64,
            total_tokens=2076,
            cached_tokens=1800,
            cache_creation_tokens=200,
            reasoning_tokens=0,
        )
    )
    assert sum(isinstance(e, UsageReport) for e in events) == 1


def test_stream_without_usage_reports_none() -> None:
    events = decode(transcript("stream_thinking.sse"))

    assert not any(isinstance(e, UsageReport) for e in events)
    assert events[-1] == Finish("stop")


def test_thinking_becomes_reasoning_with_its_signature() -> None:
    events = decode(transcript("stream_thinking.sse"))

    reasoning = [e for e in events if isinstance(e, ReasoningDelta)]
    assert "".join(r.text for r in reasoning).startswith("I need to find the GCD")
    assert [r.signature for r in reasoning if r.signature] == [
        "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds..."
    ]


def test_events_come_in_the_documented_order() -> None:
    for name in TRANSCRIPTS:
        events = decode(transcript(name))
        assert isinstance(events[0], StreamStart), name
        kinds = [type(e) for e in events]
        if StreamFailed in kinds:
            assert kinds[-1] is StreamFailed
            continue
        finish = kinds.index(Finish)
        assert kinds.count(Finish) == 1
        assert all(k is UsageReport for k in kinds[finish + 1 :]), name


@pytest.mark.parametrize(
    ("stop_reason", "finish"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("pause_turn", "stop"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("something_new", "stop"),
    ],
)
def test_stop_reasons_map_to_openai_finish_reasons(stop_reason: str, finish: str) -> None:
    data = transcript("stream_text.sse").replace(b'"end_turn"', orjson.dumps(stop_reason))

    assert Finish(finish) in decode(data)  # type: ignore[arg-type]


def test_text_start_block_with_inline_text_is_not_lost() -> None:
    data = transcript("stream_text.sse").replace(b'"text": ""', b'"text": "Hey. "')

    assert "".join(e.text for e in decode(data) if isinstance(e, TextDelta)) == "Hey. Hello!"


# --- failures ------------------------------------------------------------------------------------------


def test_error_event_mid_stream_fails_with_an_overloaded_upstream_error() -> None:
    events = decode(transcript("stream_error_overloaded.sse"))

    assert events[1] == TextDelta("Once upon")
    failed = events[-1]
    assert isinstance(failed, StreamFailed)
    assert type(failed.error) is UpstreamError
    assert (failed.error.status, failed.error.code) == (502, "overloaded")
    assert "Overloaded" in failed.error.message
    assert not any(isinstance(e, Finish) for e in events)


@pytest.mark.parametrize(
    ("error_type", "kind", "status"),
    [
        ("rate_limit_error", UpstreamRateLimitError, 429),
        ("invalid_request_error", UpstreamStatusError, 400),
        ("api_error", UpstreamError, 502),
        ("mystery_error", UpstreamError, 502),
    ],
)
def test_error_event_types_map_like_http_errors(error_type: str, kind: type, status: int) -> None:
    data = transcript("stream_error_overloaded.sse").replace(b'"overloaded_error"', orjson.dumps(error_type))

    failed = decode(data)[-1]
    assert isinstance(failed, StreamFailed)
    assert type(failed.error) is kind
    assert failed.error.status == status


def test_nothing_after_an_error_event_is_decoded() -> None:
    data = transcript("stream_error_overloaded.sse") + transcript("stream_text.sse")

    events = decode(data)
    assert isinstance(events[-1], StreamFailed)
    assert sum(isinstance(e, StreamStart) for e in events) == 1


def test_stream_cut_before_the_message_ends_fails() -> None:
    data = transcript("stream_text.sse")
    cut = data.index(b"event: message_delta")

    failed = decode(data[:cut])[-1]
    assert isinstance(failed, StreamFailed)
    assert failed.error.code == "upstream_stream_incomplete"


def test_stream_missing_only_message_stop_still_finishes() -> None:
    data = transcript("stream_text.sse")
    events = decode(data[: data.index(b"event: message_stop")])

    assert events[-2:] == [
        Finish("stop"),
        UsageReport(Usage(prompt_tokens=25, completion_tokens=15, total_tokens=40)),
    ]


def test_unreadable_event_fails_the_stream() -> None:
    events = decode(transcript("stream_text.sse")[:200] + b"\n\nevent: content_block_delta\ndata: {oops\n\n")

    failed = events[-1]
    assert isinstance(failed, StreamFailed)
    assert failed.error.code == "upstream_bad_stream"


def test_feeding_after_the_end_is_ignored() -> None:
    decoder = MessagesStreamDecoder("anthropic", created=CREATED)
    decoder.feed(transcript("stream_text.sse"))

    assert decoder.done
    assert decoder.feed(transcript("stream_text.sse")) == []
    assert decoder.flush() == []
