"""`MessagesStreamDecoder` on bursts: the text deltas of one read become one `TextRun`.

Whatever the decoder reads in one go, the run split into its deltas must be exactly what it decodes
one event at a time (the reference: each event its own read), including where it stops on a failure.
"""

from __future__ import annotations

import random

import orjson
import pytest

from gomodel.core.chat import (
    ReasoningDelta,
    StreamEvent,
    StreamFailed,
    StreamStart,
    TextDelta,
    TextRun,
)
from gomodel.dialects.anthropic import MessagesStreamDecoder

CREATED = 1_700_000_000
START = (
    b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message",'
    b'"role":"assistant","model":"claude-x","content":[],"stop_reason":null,"stop_sequence":null,'
    b'"usage":{"input_tokens":12,"output_tokens":1}}}\n\n'
    b'event: ping\ndata: {"type":"ping"}\n\n'
)
STOP = (
    b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn",'
    b'"stop_sequence":null},"usage":{"output_tokens":9}}\n\n'
    b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
)


def block_start(index: int, kind: str = "text") -> bytes:
    block = {"type": kind, kind: ""}
    payload = {"type": "content_block_start", "index": index, "content_block": block}
    return b"event: content_block_start\ndata: " + orjson.dumps(payload) + b"\n\n"


def block_stop(index: int) -> bytes:
    return b'event: content_block_stop\ndata: {"type":"content_block_stop","index":%d}\n\n' % index


def text(index: int, value: bytes) -> bytes:
    """A text delta in Anthropic's compact shape, ``value`` being the JSON of the text as sent."""
    return (
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":%d,' % index
        + b'"delta":{"type":"text_delta","text":'
        + value
        + b"}}\n\n"
    )


def texts(index: int, *values: str) -> bytes:
    return b"".join(text(index, orjson.dumps(value)) for value in values)


def stream(*middle: bytes) -> bytes:
    return START + block_start(0) + b"".join(middle) + block_stop(0) + STOP


def feed(*reads: bytes) -> list[StreamEvent]:
    decoder = MessagesStreamDecoder("anthropic", created=CREATED)
    events: list[StreamEvent] = []
    for read in reads:
        events.extend(decoder.feed(read))
    return events + decoder.flush()


def split(events: list[StreamEvent]) -> list[object]:
    """Runs split into their deltas; a failure as its error's type, code and message (errors are
    exceptions, equal only to themselves)."""
    out: list[object] = []
    for event in events:
        if isinstance(event, TextRun):
            out.extend(event.deltas())
        elif isinstance(event, StreamFailed):
            out.append((type(event.error).__name__, event.error.code, event.error.message))
        else:
            out.append(event)
    return out


def one_by_one(data: bytes) -> list[object]:
    """The reference: every event its own read (and so never a run)."""
    reads = [event + b"\n\n" for event in data.split(b"\n\n") if event]
    events = feed(*reads)
    assert not any(isinstance(event, TextRun) for event in events)
    return split(events)


def runs(events: list[StreamEvent]) -> list[TextRun]:
    return [event for event in events if isinstance(event, TextRun)]


def test_a_burst_of_text_is_one_run_holding_each_delta_and_its_json() -> None:
    words = ["Hello", ",", " wörld", " 東京", " 🌦️", " /ok"]
    data = stream(texts(0, *words))

    events = feed(data)

    [run] = runs(events)
    assert run.texts == tuple(words)
    assert run.text == "".join(words)
    assert run.escaped == tuple(orjson.dumps(word)[1:-1] for word in words)
    assert isinstance(events[0], StreamStart)
    assert split(events) == one_by_one(data)


def test_run_deltas_are_plain_text_deltas() -> None:
    run = TextRun("ab", ("a", "b"))

    assert run.deltas() == [TextDelta("a"), TextDelta("b")]
    assert all(type(delta) is TextDelta for delta in run.deltas())


def test_texts_with_escapes_make_a_run_without_json() -> None:
    words = ['say "hi"', "line\nbreak", "back\\slash", "tab\t", "\u2028"]
    data = stream(texts(0, *words))

    [run] = runs(feed(data))

    assert run.texts == tuple(words)
    assert run.escaped is None
    assert split(feed(data)) == one_by_one(data)


def test_upstream_escapes_orjson_would_not_write_are_decoded_not_copied() -> None:
    data = stream(text(0, b'"caf\\u00e9"'), text(0, b'"a\\/b"'), text(0, b'"plain"'))

    [run] = runs(feed(data))

    assert run.texts == ("café", "a/b", "plain")
    assert run.escaped is None


def test_a_single_text_delta_in_a_read_is_a_text_delta() -> None:
    events = feed(START, block_start(0), texts(0, "only"), block_stop(0), STOP)

    assert TextDelta("only") in events
    assert not runs(events)


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(b'"a\xffb"', id="invalid utf-8"),
        pytest.param(b'"a\x01b"', id="raw control character"),
        pytest.param(b'"a"b"', id="unescaped quote"),
        pytest.param(b'"a\\"', id="unterminated"),
        pytest.param(b'"\\ud800"', id="lone surrogate"),
    ],
)
def test_an_unreadable_text_in_a_burst_fails_where_it_stands(bad: bytes) -> None:
    data = stream(texts(0, "one", "two"), text(0, bad), texts(0, "three"))

    events = split(feed(data))

    assert events == one_by_one(data)
    assert events[-3:] == [
        TextDelta("one"),
        TextDelta("two"),
        ("UpstreamError", "upstream_bad_stream", "provider anthropic sent an unreadable stream event"),
    ]


@pytest.mark.parametrize(
    "odd",
    [
        pytest.param(b'""', id="empty text"),
        pytest.param(b"null", id="null"),
        pytest.param(b"5", id="a number"),
        pytest.param(b'"x" ', id="trailing space"),
    ],
)
def test_odd_but_readable_texts_decode_as_one_by_one(odd: bytes) -> None:
    data = stream(texts(0, "one", "two"), text(0, odd), texts(0, "three"))

    assert split(feed(data)) == one_by_one(data)


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(text(0, b'"x"')[:-4] + b',"more":1}}\n\n', id="extra field"),
        pytest.param(text(0, b'"x"')[:-2] + b"x\n\n", id="trailing garbage"),
        pytest.param(text(0, b'"x"')[:-2] + b"\ndata: more\n\n", id="second data line"),
        pytest.param(text(0, b'"x"').replace(b"\ndata:", b"\nid: 7\ndata:"), id="id line"),
        pytest.param(text(0, b'"x"').replace(b"event: content_block_delta\n", b""), id="no event line"),
        pytest.param(text(1, b'"x"'), id="another block"),
        pytest.param(text(0, b'"x"') + b"\n", id="extra blank line"),
        pytest.param(b"event: content_block_delta\ndata: {oops\n\n", id="not json"),
    ],
)
def test_events_that_only_look_like_text_deltas_decode_as_one_by_one(event: bytes) -> None:
    data = stream(texts(0, "one", "two"), event, texts(0, "three", "four"))

    assert split(feed(data)) == one_by_one(data)


def test_text_after_thinking_is_read_in_runs_for_its_own_block() -> None:
    thinking = (
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
        b'"delta":{"type":"thinking_delta","thinking":"hmm"}}\n\n'
    )
    data = (
        START
        + block_start(0, "thinking")
        + thinking
        + block_stop(0)
        + block_start(1)
        + texts(1, "a", "b")
        + block_stop(1)
        + STOP
    )

    events = feed(data)

    assert ReasoningDelta(text="hmm") in events
    assert split(events) == one_by_one(data)
    # Once the block is known, a later read of its deltas is one run.
    decoder = MessagesStreamDecoder("anthropic", created=CREATED)
    decoder.feed(data[: data.index(texts(1, "a", "b"))])
    assert decoder.feed(texts(1, "c", "d", "e")) == [TextRun("cde", ("c", "d", "e"))]


def test_nothing_after_the_message_stop_is_read() -> None:
    data = stream(texts(0, "a", "b")) + texts(0, "late", "later")

    events = feed(data)

    assert split(events) == one_by_one(data)
    assert TextDelta("late") not in split(events)


@pytest.mark.parametrize("seed", range(20))
def test_random_bursts_and_cuts_decode_as_one_by_one(seed: int) -> None:
    rng = random.Random(seed)
    words = ["tok", " a", "ü", "東", "🌦️", '"q"', "x\ny", "\\", "", ",", "}}", '"}}']
    middle = [texts(0, rng.choice(words) + rng.choice(words)) for _ in range(rng.randint(0, 40))]
    for _ in range(rng.randint(0, 2)):
        middle.insert(rng.randint(0, len(middle)), b'event: ping\ndata: {"type":"ping"}\n\n')
    data = stream(*middle)
    cuts = sorted(rng.sample(range(1, len(data)), rng.randint(0, 6)))
    reads = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]

    assert split(feed(*reads)) == one_by_one(data)
