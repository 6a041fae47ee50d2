"""`gomodel.dialects.sse`: incremental framing must not depend on where the network cut the bytes."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from gomodel.dialects.sse import (
    MarkedEvents,
    SSEFramer,
    event_data,
    event_name,
    event_start,
    read_block,
    split_events,
)

FIXTURES = Path(__file__).parent / "fixtures"

#: Short enough to try every pair of split points; covers each shape the framer must keep intact.
TRANSCRIPT = (
    b": ping\n\n"
    b'event: message\ndata: {"text":"h\xc3\xa9llo \xf0\x9f\x91\x8b"}\n\n'
    b"id: 7\ndata: line one\ndata: line two\n\n"
    b"data: [DONE]\n\n"
)
EVENTS = [
    b": ping\n\n",
    b'event: message\ndata: {"text":"h\xc3\xa9llo \xf0\x9f\x91\x8b"}\n\n',
    b"id: 7\ndata: line one\ndata: line two\n\n",
    b"data: [DONE]\n\n",
]


def feed_all(chunks: Iterable[bytes]) -> tuple[list[bytes], list[bytes]]:
    """Events returned by ``feed`` over all chunks, and what ``flush`` returns afterwards."""
    framer = SSEFramer()
    events = [event for chunk in chunks for event in framer.feed(chunk)]
    return events, framer.flush()


def splits(data: bytes) -> Iterator[list[bytes]]:
    """``data`` cut into three pieces at every pair of positions (empty pieces included)."""
    for i in range(len(data) + 1):
        for j in range(i, len(data) + 1):
            yield [data[:i], data[i:j], data[j:]]


def test_whole_transcript_yields_each_event_byte_for_byte() -> None:
    assert feed_all([TRANSCRIPT]) == (EVENTS, [])


def test_every_pair_of_split_points_gives_the_same_events() -> None:
    for chunks in splits(TRANSCRIPT):
        assert feed_all(chunks) == (EVENTS, []), chunks


def blocks_then_events(chunks: Iterable[bytes]) -> list[bytes]:
    """What a block-wise relay sees: ``feed_block`` per chunk, split into events, then the flush."""
    framer = SSEFramer()
    events: list[bytes] = []
    for chunk in chunks:
        block = framer.feed_block(chunk)
        assert not block or block.endswith(b"\n\n")
        events += split_events(block) if block else []
    return events + framer.flush()


def test_blocks_give_the_same_events_at_every_pair_of_split_points() -> None:
    for chunks in splits(TRANSCRIPT):
        assert blocks_then_events(chunks) == EVENTS, chunks


def test_recorded_stream_in_blocks_is_the_recorded_bytes() -> None:
    recorded = (FIXTURES / "chat_stream_include_usage.sse").read_bytes()
    for size in (1, 7, 100, 4096):
        chunks = [recorded[i : i + size] for i in range(0, len(recorded), size)]
        assert b"".join(blocks_then_events(chunks)) == recorded


def test_a_block_cut_inside_a_run_of_newlines_keeps_every_byte() -> None:
    framer = SSEFramer()
    block = framer.feed_block(b"data: a\n\n\n")
    assert b"".join(split_events(block)) == block
    assert event_data(split_events(block)[0]) == b"a"


def test_byte_at_a_time_gives_the_same_events() -> None:
    assert feed_all(TRANSCRIPT[i : i + 1] for i in range(len(TRANSCRIPT))) == (EVENTS, [])


def test_recorded_stream_split_at_every_byte_matches_feeding_it_whole() -> None:
    recorded = (FIXTURES / "chat_stream_include_usage.sse").read_bytes()
    whole = feed_all([recorded])

    assert b"".join(whole[0]) == recorded
    assert whole[1] == []
    for cut in range(len(recorded) + 1):
        assert feed_all([recorded[:cut], recorded[cut:]]) == whole, cut


def test_utf8_sequence_split_across_chunks_is_kept_intact() -> None:
    event = 'data: {"content":"café ☕ 👋"}\n\n'.encode()
    cut = event.index("👋".encode()) + 2  # in the middle of the 4-byte sequence

    events, _ = feed_all([event[:cut], event[cut:]])

    assert events == [event]
    assert events[0].decode("utf-8").endswith('👋"}\n\n')


# --- line endings ---------------------------------------------------------------------------------


def test_crlf_events_match_lf_events_at_every_split() -> None:
    crlf = TRANSCRIPT.replace(b"\n", b"\r\n")

    for chunks in splits(crlf):
        assert feed_all(chunks) == (EVENTS, []), chunks


def test_cr_at_end_of_chunk_then_lf_at_start_of_next() -> None:
    assert feed_all([b"data: a\r\n\r", b"\ndata: b\r\n\r\n"]) == ([b"data: a\n\n", b"data: b\n\n"], [])


def test_cr_then_lf_in_separate_chunks_is_one_line_break() -> None:
    # Were "\r" and "\n" counted as two breaks, "data: a" would end after the first pair.
    assert feed_all([b"data: a\r", b"\n", b"data: b\r", b"\n", b"\r", b"\n"]) == (
        [b"data: a\ndata: b\n\n"],
        [],
    )


def test_mixed_line_endings() -> None:
    events, tail = feed_all([b"data: a\r\n\r\ndata: b\n\ndata: c\r\rdata: d\n\n"])

    assert events + tail == [b"data: a\n\n", b"data: b\n\n", b"data: c\n\n", b"data: d\n\n"]


def test_cr_only_events_are_all_delivered_at_every_split() -> None:
    cr_only = TRANSCRIPT.replace(b"\n", b"\r")

    for chunks in splits(cr_only):
        events, tail = feed_all(chunks)
        assert events + tail == EVENTS, chunks


def test_cr_terminated_event_is_released_without_waiting_for_more_bytes() -> None:
    assert SSEFramer().feed(b"data: a\r\r") == [b"data: a\n\n"]


# --- flush and bookkeeping ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tail",
    [b"data: tail", b"data: tail\n", b"data: tail\r", b"data: tail\r\n"],
)
def test_flush_completes_an_unterminated_tail(tail: bytes) -> None:
    framer = SSEFramer()
    assert framer.feed(tail) == []

    assert framer.flush() == [b"data: tail\n\n"]


@pytest.mark.parametrize("tail", [b"", b"\n", b"  \n", b"\r"])
def test_flush_of_whitespace_only_is_empty(tail: bytes) -> None:
    framer = SSEFramer()
    framer.feed(tail)

    assert framer.flush() == []


def test_flush_resets_the_framer() -> None:
    framer = SSEFramer()
    framer.feed(b"data: partial")
    framer.flush()

    assert framer.flush() == []
    assert framer.pending == 0
    assert framer.feed(b"data: next\n\n") == [b"data: next\n\n"]


def test_pending_counts_buffered_bytes() -> None:
    framer = SSEFramer()
    framer.feed(b"data: one\n\ndata: tw")

    assert framer.pending == len(b"data: tw")


def test_empty_chunk_is_harmless() -> None:
    framer = SSEFramer()

    assert framer.feed(b"") == []
    assert framer.feed(b"data: x\n\n") == [b"data: x\n\n"]


# --- event_data / event_name ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "data"),
    [
        (b'data: {"a":1}\n\n', b'{"a":1}'),
        (b'data:{"a":1}\n\n', b'{"a":1}'),
        (b"data:  two spaces\n\n", b" two spaces"),
        (b"data: \n\n", b""),
        (b"data: one\ndata: two\n\n", b"one\ntwo"),
        (b"event: delta\ndata: x\n\n", b"x"),
        (b"id: 1\ndata: x\nretry: 10\n\n", b"x"),
        (b"data: [DONE]\n\n", b"[DONE]"),
    ],
)
def test_event_data(event: bytes, data: bytes) -> None:
    assert event_data(event) == data


@pytest.mark.parametrize(
    "event", [b": ping\n\n", b": OPENROUTER PROCESSING\n\n", b"event: ping\n\n", b"id: 3\n\n"]
)
def test_event_without_data(event: bytes) -> None:
    assert event_data(event) is None


def test_event_data_of_every_framed_event() -> None:
    assert [event_data(e) for e in EVENTS] == [
        None,
        '{"text":"héllo 👋"}'.encode(),
        b"line one\nline two",
        b"[DONE]",
    ]


@pytest.mark.parametrize(
    ("event", "name"),
    [
        (b"event: message_start\ndata: {}\n\n", b"message_start"),
        (b"data: {}\nevent:error\n\n", b"error"),
        (b"data: {}\n\n", None),
        (b": comment\n\n", None),
    ],
)
def test_event_name(event: bytes, name: bytes | None) -> None:
    assert event_name(event) == name


class _DropsPings:
    """Reads only ``: ping`` comments, and drops them."""

    def __init__(self) -> None:
        self.asked: list[int] = []

    def next_to_read(self, block: bytes, start: int) -> int:
        self.asked.append(start)
        found = block.find(b": ping", start)
        return found if found >= 0 else len(block)

    def keep(self, event: bytes) -> bool:
        assert event == b": ping\n\n"
        return False


def test_read_block_relays_runs_untouched_and_shows_only_the_events_worth_reading() -> None:
    block = b"data: a\n\n: ping\n\ndata: b\n\ndata: c\n\n: ping\n\n"
    reader = _DropsPings()

    assert read_block(block, reader) == b"data: a\n\ndata: b\n\ndata: c\n\n"
    assert reader.asked == [0, 17, len(block)]


def test_read_block_with_nothing_to_read_is_the_block_itself() -> None:
    block = b"data: a\n\ndata: b\n\n"
    assert read_block(block, _DropsPings()) is block


# --- MarkedEvents -----------------------------------------------------------------------------------


def _naive_next(block: bytes, start: int, markers: tuple[bytes, ...]) -> int:
    found = [i for i in (block.find(marker, start) for marker in markers) if i >= 0]
    return event_start(block, min(found), start) if found else len(block)


def test_marked_events_agree_with_searching_afresh_every_time() -> None:
    rng = random.Random(3)
    markers = (b"AAA", b"BB", b"event: error")
    pieces = [b"data: plain", b"data: AAA here", b"data: x BB y", b"event: error\ndata: {}", b"data: AAABB"]
    for _ in range(500):
        block = b"".join(rng.choice(pieces) + b"\n\n" for _ in range(rng.randrange(1, 12)))
        marked = MarkedEvents(*markers)
        start = 0
        while start < len(block):
            expected = _naive_next(block, start, markers)
            assert marked.next_from(block, start) == expected
            if expected >= len(block):
                break
            start = block.find(b"\n\n", expected) + 2  # as read_block goes on after the event it read


def test_marked_events_start_over_on_a_new_block() -> None:
    marked = MarkedEvents(b"X")
    first = b"data: a\n\ndata: X\n\n"
    second = b"data: X\n\ndata: b\n\n"

    assert marked.next_from(first, 0) == 9
    assert marked.next_from(second, 0) == 0
    assert marked.next_from(second, 9) == len(second)


@pytest.mark.parametrize(
    ("event", "data"),
    [
        (b'event: message_start\ndata: {"a":1}\n\n', b'{"a":1}'),
        (b"event: e\ndata: one\ndata: two\n\n", b"one\ntwo"),
        (b"event: e\nid: 3\ndata: x\n\n", b"x"),
        (b"event: e\ndata:x\n\n", b"x"),
        (b"event: ping\n\n", None),
    ],
)
def test_event_data_after_an_event_line(event: bytes, data: bytes | None) -> None:
    assert event_data(event) == data
