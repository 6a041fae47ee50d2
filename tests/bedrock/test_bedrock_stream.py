"""ConverseStream frames -> stream events: golden transcripts, fed whole, byte by byte and in random cuts."""

from __future__ import annotations

import random
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs
import orjson
import pytest

from gomodel.core.chat import StreamEvent, StreamFailed
from gomodel.dialects.bedrock.stream_decode import ConverseStreamDecoder
from gomodel.testing.fake_bedrock_wire import encode_frame, event_frame, exception_frame

FIXTURES = Path(__file__).parent / "fixtures"
TRANSCRIPTS = [
    "stream_text.json",
    "stream_tools.json",
    "stream_reasoning.json",
    "stream_throttled.json",
    "stream_model_error.json",
]
MODEL = "anthropic.claude-3-5-sonnet-20240620-v1:0"


def _decoder() -> ConverseStreamDecoder:
    return ConverseStreamDecoder("bedrock", response_id="chatcmpl-test", model=MODEL, created=1700000000)


def _frame(spec: Any) -> bytes:
    if isinstance(spec, dict):
        headers = {
            ":exception-type": spec["exception"],
            ":content-type": "application/json",
            ":message-type": "exception",
        }
        return encode_frame(headers, orjson.dumps(spec["payload"]))
    return event_frame(spec[0], spec[1])


def _body(name: str) -> tuple[bytes, list[dict[str, Any]]]:
    fixture = orjson.loads((FIXTURES / name).read_bytes())
    return b"".join(_frame(spec) for spec in fixture["frames"]), fixture["events"]


def _plain(events: Iterable[StreamEvent]) -> list[dict[str, Any]]:
    plain = []
    for event in events:
        if isinstance(event, StreamFailed):
            error = event.error
            plain.append(
                {
                    "StreamFailed": {
                        "type": type(error).__name__,
                        "status": error.status,
                        "message": error.message,
                    }
                }
            )
        else:
            plain.append({type(event).__name__: attrs.asdict(event)})
    return plain


def _decode(pieces: Iterable[bytes]) -> list[StreamEvent]:
    decoder = _decoder()
    events = [event for piece in pieces for event in decoder.feed(piece)]
    return events + decoder.flush()


@pytest.mark.parametrize("name", TRANSCRIPTS)
def test_transcripts_decode_to_the_golden_events(name: str) -> None:
    body, expected = _body(name)
    assert _plain(_decode([body])) == expected


@pytest.mark.parametrize("name", TRANSCRIPTS)
def test_byte_by_byte_feeding_changes_nothing(name: str) -> None:
    # Every frame and every multi-byte character is split across reads this way.
    body, expected = _body(name)
    assert _plain(_decode(body[i : i + 1] for i in range(len(body)))) == expected


@pytest.mark.parametrize("seed", range(20))
def test_random_cuts_change_nothing(seed: int) -> None:
    rng = random.Random(seed)
    body, expected = _body(TRANSCRIPTS[seed % len(TRANSCRIPTS)])
    cuts = sorted(rng.sample(range(1, len(body)), 12))
    pieces = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
    assert _plain(_decode(pieces)) == expected


def test_tool_call_indexes_follow_order_of_appearance_not_block_indexes() -> None:
    body, _ = _body("stream_tools.json")
    starts = [e for e in _decode([body]) if type(e).__name__ == "ToolCallStart"]
    assert [(s.index, s.name) for s in starts] == [(0, "get_weather"), (1, "get_time")]  # type: ignore[attr-defined]


def test_a_corrupt_frame_fails_the_stream_and_nothing_follows() -> None:
    good = event_frame("messageStart", {"role": "assistant"})
    bad = bytearray(event_frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "x"}}))
    bad[-1] ^= 0xFF  # the message CRC no longer matches
    decoder = _decoder()
    events = decoder.feed(good + bytes(bad))
    assert type(events[0]).__name__ == "StreamStart"
    assert isinstance(events[-1], StreamFailed)
    assert events[-1].error.status == 502
    assert decoder.feed(good) == []
    assert decoder.flush() == []


def test_a_body_cut_inside_a_frame_fails_at_flush() -> None:
    body, _ = _body("stream_text.json")
    events = _decode([body[:-10]])
    assert isinstance(events[-1], StreamFailed)
    assert "ended the stream before it finished" in events[-1].error.message


def test_a_body_ending_before_message_stop_fails() -> None:
    body = event_frame("messageStart", {"role": "assistant"}) + event_frame(
        "contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "hi"}}
    )
    assert isinstance(_decode([body])[-1], StreamFailed)


def test_a_body_ending_after_message_stop_without_usage_still_finishes() -> None:
    body = event_frame("messageStart", {"role": "assistant"}) + event_frame(
        "messageStop", {"stopReason": "end_turn"}
    )
    assert _plain(_decode([body]))[-1] == {"Finish": {"reason": "stop"}}


def test_an_exception_before_any_event_is_the_only_event() -> None:
    events = _decode([exception_frame("validationException", "The model returned the following errors: bad")])
    assert _plain(events) == [
        {
            "StreamFailed": {
                "type": "UpstreamStatusError",
                "status": 400,
                "message": "The model returned the following errors: bad",
            }
        }
    ]


def test_generic_event_stream_errors_and_bad_json_fail_the_stream() -> None:
    error = encode_frame(
        {":message-type": "error", ":error-code": "InternalFailure", ":error-message": "oops"}, b""
    )
    (failed,) = _decode([error])
    assert isinstance(failed, StreamFailed)
    assert "InternalFailure: oops" in failed.error.message
    junk = encode_frame({":message-type": "event", ":event-type": "messageStart"}, b"{not json")
    (failed,) = _decode([junk])
    assert isinstance(failed, StreamFailed)


def test_content_without_message_start_still_opens_the_stream() -> None:
    body = event_frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "hi"}})
    body += event_frame("messageStop", {"stopReason": "end_turn"})
    names = [type(e).__name__ for e in _decode([body])]
    assert names == ["StreamStart", "TextDelta", "Finish"]


def test_unknown_events_and_empty_deltas_are_ignored() -> None:
    body = event_frame("messageStart", {"role": "assistant"})
    body += event_frame("somethingNew", {"x": 1})
    body += event_frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": ""}})
    body += event_frame("contentBlockDelta", {"contentBlockIndex": 9, "delta": {"toolUse": {"input": "{}"}}})
    body += event_frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"citation": {"title": "t"}}})
    body += event_frame("messageStop", {"stopReason": "end_turn"})
    body += event_frame("metadata", {"usage": {"inputTokens": 1, "outputTokens": 0, "totalTokens": 1}})
    names = [type(e).__name__ for e in _decode([body])]
    assert names == ["StreamStart", "Finish", "UsageReport"]
