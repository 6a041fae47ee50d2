"""`ChunkDecoder`'s fast path: text chunks read through the envelope learnt from the first one.

Whatever the fast path does, the events must be those of reading every chunk the slow way (parsing its
JSON), once each `TextRun` is split into its deltas as the pump splits it. The slow way is the same
decoder never allowed to learn an envelope.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

import orjson
import pytest

from gomodel.core.chat import StreamEvent, StreamFailed, StreamStart, TextDelta, TextRun
from gomodel.dialects import openai_chat_stream_decode
from gomodel.dialects.openai_chat_stream_decode import ChunkDecoder

CHUNK = (
    '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-x",'
    '"choices":[{"index":0,"delta":%s,"logprobs":null,"finish_reason":%s}],"usage":null}'
)
USAGE = (
    '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-x",'
    '"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}'
)
ROLE = CHUNK % ('{"role":"assistant","content":""}', "null")
FINISH = CHUNK % ("{}", '"stop"')
CALL = '{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}'
#: Texts a chunk's string may hold: plain, multibyte, and every kind that needs an escape.
TEXTS = ["Hello", " wor", "", "é", "東京", "🌦️", 'a "quote"', "back\\slash", "line\nbreak", "\x00", "\x1f"]
#: Stand-ins for bytes written raw into a chunk's string, which the slow way reads (or rejects) as
#: they are: half of "é" at each end of a text, a raw tab (not JSON), DEL (JSON, but not printable).
RAW = {"\ue000": b"\xc3", "\ue001": b"\xa9", "\ue002": b"\t", "\ue003": b"\x7f"}


def chunk(delta: str, finish: str = "null") -> str:
    return CHUNK % (delta, finish)


def text_chunk(text: str) -> str:
    return chunk(orjson.dumps({"content": text}).decode())


#: A chunk with its delta left out (``%s``): the text chunks of the opening tests are these too.
PLAIN = CHUNK % ("%s", "null")
#: First chunks (a chunk, then its delta) the envelope may or may not be learnt from: each must read as
#: the slow way reads it, and so must text chunks in the same chunk.
OPENINGS = [
    (PLAIN, '{"role":"assistant","content":"","refusal":null}'),
    (PLAIN, '{"role":"assistant"}'),
    (PLAIN, '{"role":"assistant","content":null}'),
    (PLAIN, '{"role":"assistant","content":"Hi"}'),
    (PLAIN, '{"role":"assistant","content":"}"}'),
    (PLAIN, '{"role":"assistant","tool_calls":[' + CALL + "]}"),
    (PLAIN, '{"role":"assistant","reasoning_content":"hmm"}'),
    (PLAIN, "null"),
    (CHUNK % ("%s", '"stop"'), '{"role":"assistant"}'),
    (PLAIN.replace('"index":0', '"index":1'), '{"role":"assistant"}'),
    (PLAIN.replace('"usage":null', '"usage":{"prompt_tokens":1}'), '{"role":"assistant"}'),
    (PLAIN.replace('[{"index":0,', '[{"index":0,"delta":{"content":"first"},'), '{"role":"assistant"}'),
    (PLAIN.replace('"delta":%s', '"delta": %s'), '{"role":"assistant"}'),
    ('{"id":"x","choices":[{"index":0,"delta":%s}],"delta":{}}', '{"role":"assistant"}'),
    ('{"error":{"message":"overloaded"},"choices":[{"delta":%s}]}', '{"role":"assistant"}'),
    (PLAIN[:-1] + ',"x":"\\u0000"}', '{"role":"assistant"}'),
    ('{"choices":[{"index":0,"delta":%s,"delta":{"content":"\\u0000"}}]}', '{"role":"assistant"}'),
    (PLAIN.replace("}]", '},{"index":0,"delta":{"content":"again"}}]'), '{"role":"assistant"}'),
    (PLAIN, '{"content":"Hello"}'),
]


#: Members a chunk may end with: OpenAI's (letters and digits), then ones that must be read the slow
#: way or that are no trailer at all.
TRAILERS = [
    *(f',"obfuscation":"{t}"' for t in ["x", "Zk3", "lRK2aBv", "0wmdEACq9XyTT4"]),
    ',"obfuscation":""',
    ',"obfuscation":"a-b"',
    ',"obfuscation":"\\u0041"',
    ',"obfuscation":"a\\"b"',
    ',"obfuscation": "x"',
    ',"obfuscation":"x","z":1',
    ',"obfuscation":"ab1',
    ',"obfuscation":"x","z":"y"',
    ',"obfuscation":"a\\"',
    ',"obfuscation":"x","obfuscation":"y"',
    ',"obfuscation":7',
    '"obfuscation":"x"',
]


def trailed(chunk: str, trailer: str = ',"obfuscation":"Zk3"') -> str:
    """``chunk`` with ``trailer`` as its last member."""
    return chunk[:-1] + trailer + "}"


def sse(*chunks: str) -> bytes:
    return b"".join(f"data: {chunk}\n\n".encode() for chunk in chunks)


def body(texts: Iterable[str]) -> bytes:
    return sse(ROLE, *map(text_chunk, texts), FINISH, USAGE, "[DONE]")


def split_runs(events: Iterable[StreamEvent]) -> list[StreamEvent]:
    split: list[StreamEvent] = []
    for event in events:
        split.extend(event.deltas() if type(event) is TextRun else [event])
    return split


def comparable(events: Iterable[StreamEvent]) -> list[object]:
    """Failures compare by their error's type and message (errors compare by identity)."""
    return [(type(e.error), str(e.error)) if isinstance(e, StreamFailed) else e for e in split_runs(events)]


def decode(pieces: Iterable[bytes]) -> list[StreamEvent]:
    decoder = ChunkDecoder("openai")
    events: list[StreamEvent] = []
    for piece in pieces:
        events += decoder.feed(piece)
    return events + decoder.flush()


def decode_slowly(pieces: Iterable[bytes], monkeypatch: pytest.MonkeyPatch) -> list[StreamEvent]:
    with monkeypatch.context() as patch:
        patch.setattr(openai_chat_stream_decode, "_MAX_LEARNT", 0)
        return decode(pieces)


def cuts(data: bytes, rng: random.Random) -> list[bytes]:
    points = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(1, 9))))
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


def per_event(data: bytes) -> list[bytes]:
    blank = b"\r\n\r\n" if b"\r" in data else b"\n\n"
    return [event + blank for event in data.split(blank)[:-1]]


# --- what the fast path gives ----------------------------------------------------------------------------


def test_text_chunks_read_together_come_as_one_run_with_their_json() -> None:
    events = decode([body(["Hello", " wor", "ld", "!"])])

    assert events[0] == StreamStart(id="chatcmpl-1", model="gpt-x", created=1700000000)
    # The envelope is learnt from the opening chunk (a role and an empty text), so every text chunk
    # of the read is in the run.
    run = events[1]
    assert type(run) is TextRun
    assert run.texts == ("Hello", " wor", "ld", "!")
    assert run.text == "Hello world!"
    assert run.escaped == (b"Hello", b" wor", b"ld", b"!")


@pytest.mark.parametrize(
    "opening",
    [
        '{"role":"assistant","content":"","extra":{}}',  # not a whole value up to its first brace
        '{"role":"assistant","content":"}"}',
        "null",
    ],
)
def test_an_opening_chunk_that_teaches_nothing_leaves_it_to_the_first_text(opening: str) -> None:
    events = decode([sse(chunk(opening), *map(text_chunk, ["Hello", " wor", "ld"]), FINISH)])

    texts = [e for e in events if isinstance(e, TextDelta)]
    # Read the slow way, the first text chunk teaches the envelope; the rest come as a run.
    assert texts[-2:] == [TextDelta("Hello"), TextRun("".join([" wor", "ld"]), (" wor", "ld"))]


def test_a_run_with_a_text_needing_escapes_has_no_escaped_json() -> None:
    run = decode([body(["Hello", "a", 'say "hi"', "b"])])[1]

    assert type(run) is TextRun
    assert run.texts == ("Hello", "a", 'say "hi"', "b")
    assert run.escaped is None


def test_a_run_of_texts_beyond_ascii_keeps_their_json() -> None:
    run = decode([body(["é", "東京", "🌦️"])])[1]

    assert type(run) is TextRun
    assert run.texts == ("é", "東京", "🌦️")
    assert run.escaped == tuple(text.encode() for text in run.texts)


@pytest.mark.parametrize(
    "raw",
    [
        [b"x\xc3", b"\xa9y"],  # "é" cut between two texts: valid joined, neither valid alone
        [b"a\xc3", b"\xa9"],
        [b"a\tb", b"c"],  # a raw tab: not JSON
        [b"a\x7fb", b"c"],  # DEL: JSON, read the slow way all the same
        [b"a", b'b"c'],  # a quote that is not escaped
    ],
)
def test_raw_bytes_in_a_run_read_as_the_slow_way_reads_them(
    raw: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = body(["Hello", "\ue000", "\ue001", "tail"])
    data = data.replace("\ue000".encode(), raw[0]).replace("\ue001".encode(), raw[1])

    assert comparable(decode([data])) == comparable(decode_slowly([data], monkeypatch))


def test_empty_texts_inside_a_run_are_left_out() -> None:
    run = decode([body(["Hello", "a", "", "b"])])[1]

    assert type(run) is TextRun
    assert run.texts == ("Hello", "a", "b")
    assert run.escaped == (b"Hello", b"a", b"b")


def test_chunks_that_end_with_openais_obfuscation_come_as_one_run() -> None:
    # OpenAI's own chunks, each with random letters of its own after the text's envelope.
    opening = PLAIN % '{"role":"assistant","content":"","refusal":null}'
    pairs = [("He", "Ab9"), ("ll", "x"), ("o", "Ab9Ab9Ab9")]
    texts = [trailed(text_chunk(t), f',"obfuscation":"{x}"') for t, x in pairs]
    data = sse(trailed(opening, ',"obfuscation":"q"'), *texts, trailed(FINISH), trailed(USAGE), "[DONE]")

    events = decode([data])

    assert type(events[1]) is TextRun
    assert events[1].texts == ("He", "ll", "o")
    assert events[1].escaped == (b"He", b"ll", b"o")
    assert events[2:] == decode([body([])])[1:]


def test_chunks_read_one_read_at_a_time_are_plain_text_deltas() -> None:
    events = decode(per_event(body(["Hello", " wor", "ld"])))

    assert events[1:4] == [TextDelta("Hello"), TextDelta(" wor"), TextDelta("ld")]


@pytest.mark.parametrize("trailer", ["", ',"obfuscation":"Zk%d"'])
@pytest.mark.parametrize(("opening", "teaching"), [(ROLE, 0), (chunk("null"), 1)])
def test_text_chunks_read_one_read_at_a_time_are_not_parsed(
    trailer: str, opening: str, teaching: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    chunks = [opening, *map(text_chunk, ["Hello", " wor", "ld"]), FINISH, USAGE]
    # Each with letters of its own after it, as OpenAI writes them.
    data = sse(*(trailed(c, trailer % i) if trailer else c for i, c in enumerate(chunks)), "[DONE]")
    parsed: list[bytes] = []
    read = ChunkDecoder._data

    def spy(self: ChunkDecoder, data: bytes, out: list[StreamEvent]) -> None:
        parsed.append(data)
        read(self, data, out)

    monkeypatch.setattr(ChunkDecoder, "_data", spy)
    events = decode(per_event(data))

    assert events[1:4] == [TextDelta("Hello"), TextDelta(" wor"), TextDelta("ld")]
    # The opening, the finish, the usage and the end marker, and the first text if the opening
    # teaches no envelope.
    assert len(parsed) == 4 + teaching


# --- the fast path changes nothing -----------------------------------------------------------------------


def variants(rng: random.Random) -> bytes:
    """A stream whose text chunks mostly share one envelope, with every kind of chunk that must not."""
    template, delta = rng.choice(OPENINGS)
    chunks = [ROLE if rng.random() < 0.5 else template % delta]
    for _ in range(rng.randint(1, 40)):
        roll = rng.random()
        text = rng.choice(TEXTS) if roll < 0.3 else f"tok{rng.randint(0, 99)} "
        if roll < 0.7:
            chunks.append(text_chunk(text))
        elif roll < 0.74:  # the same chunk, written with blanks
            chunks.append(text_chunk(text).replace('":', '": ').replace(',"', ', "'))
        elif roll < 0.78:  # Python's json.dumps: non-ASCII escaped
            literal = orjson.dumps(text).decode().replace("é", "\\u00e9")
            chunks.append(chunk('{"content": ' + literal + "}"))
        elif roll < 0.82:
            chunks.append(text_chunk(text).replace("1700000000", "1700000001"))
        elif roll < 0.84:
            chunks.append(text_chunk(text)[:-1] + ',"extra":{"content":"x"}}')
        elif roll < 0.86:
            chunks.append(chunk('{"content":"r","role":"assistant"}'))
        elif roll < 0.88:
            chunks.append(chunk('{"content":null,"reasoning_content":"hmm"}'))
        elif roll < 0.9:
            chunks.append(chunk('{"content":7}'))
        elif roll < 0.92:
            chunks.append(chunk('{"content":"t"}', '"length"'))
        elif roll < 0.94:
            chunks.append(chunk('{"content":"c","tool_calls":[' + CALL + "]}"))
        elif roll < 0.96:
            chunks.append(text_chunk(text).replace('"usage":null', '"usage":{"prompt_tokens":1}'))
        elif roll < 0.97:
            chunks.append(text_chunk(text)[:-3])  # broken JSON
        elif roll < 0.98:  # raw bytes in the string: a character cut between two texts, a tab, DEL
            chunks += [
                text_chunk("x\ue000"),
                text_chunk("\ue001y"),
                text_chunk(rng.choice(["\ue002", "\ue003"])),
            ]
        else:
            chunks.append('{"error":{"message":"overloaded"}}')
    chunks += [FINISH, USAGE]
    if rng.random() < 0.4:  # OpenAI's trailing member on (nearly) every chunk
        chunks = [
            trailed(c, TRAILERS[rng.randrange(4)] if rng.random() < 0.9 else rng.choice(TRAILERS))
            if c.endswith("}")
            else c
            for c in chunks
        ]
    data = sse(*chunks, "[DONE]")
    for stand_in, raw in RAW.items():
        data = data.replace(stand_in.encode(), raw)
    if rng.random() < 0.1:
        data = data.replace(b"\n", b"\r\n")
    if rng.random() < 0.1:
        data = data.replace(b"\n\ndata: ", b"\n\n: keep-alive\n\ndata: ", 3)
    return data


@pytest.mark.parametrize("seed", range(60))
def test_every_stream_decodes_as_the_slow_way_reads_it(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    data = variants(rng)
    expected = comparable(decode_slowly([data], monkeypatch))

    for pieces in ([data], per_event(data), cuts(data, rng), [data[i : i + 1] for i in range(len(data))]):
        assert comparable(decode(pieces)) == expected


@pytest.mark.parametrize(("template", "delta"), OPENINGS)
def test_every_opening_and_its_text_chunks_decode_as_the_slow_way_reads_them(
    template: str, delta: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = [template % orjson.dumps({"content": text}).decode() for text in ["Hello", " wor", "ld"]]
    # Text chunks after a finish reason and a usage report: those of the opening, if it has any,
    # are theirs too and so must be the last ones read.
    data = sse(template % delta, *texts, chunk("{}", '"length"'), USAGE, *texts, "[DONE]")
    expected = comparable(decode_slowly([data], monkeypatch))

    assert comparable(decode([data])) == expected
    assert comparable(decode(per_event(data))) == expected


@pytest.mark.parametrize(
    "extra", ['"reasoning_content":"r"', '"reasoning":"r"', '"tool_calls":[' + CALL + "]", '"refusal":null']
)
def test_text_chunks_whose_delta_holds_more_decode_as_the_slow_way_reads_them(
    extra: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = [chunk('{"content":"' + text + '",' + extra + "}") for text in ["Hello", "wor", "ld"]]
    data = sse(chunk("null"), *texts, FINISH, USAGE, "[DONE]")

    assert comparable(decode([data])) == comparable(decode_slowly([data], monkeypatch))


@pytest.mark.parametrize("trailer", TRAILERS)
def test_chunks_with_any_trailer_decode_as_the_slow_way_reads_them(
    trailer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The trailer on every chunk, then on the text chunks only, after one that is OpenAI's.
    chunks = [ROLE, *map(text_chunk, ["Hello", " wor", "ld"]), FINISH, USAGE]
    everywhere = sse(*(trailed(c, trailer) for c in chunks), "[DONE]")
    texts = sse(trailed(ROLE), *(trailed(c, trailer) for c in chunks[1:4]), FINISH, "[DONE]")

    for data in (everywhere, texts):
        expected = comparable(decode_slowly([data], monkeypatch))
        assert comparable(decode([data])) == expected
        assert comparable(decode(per_event(data))) == expected


def test_a_text_that_is_the_probe_itself_is_read_right(monkeypatch: pytest.MonkeyPatch) -> None:
    data = body(["\x00", "a", "\x00", "b", "\x00"])

    assert comparable(decode([data])) == comparable(decode_slowly([data], monkeypatch))


def test_a_content_key_elsewhere_in_the_chunk_is_not_taken_for_the_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The only compact '"content":' is another key's; the delta's is written with a blank.
    chunks = [
        chunk('{"content" : ' + orjson.dumps(t).decode() + "}")[:-1] + ',"x":{"content":"y"}}' for t in "abcd"
    ]
    data = sse(ROLE, *chunks, FINISH)

    assert comparable(decode([data])) == comparable(decode_slowly([data], monkeypatch))


def test_a_comment_before_the_first_data_event_leaves_the_run_whole() -> None:
    events = decode([b": keep-alive\n\n" + body(["Hello", " wor", "ld", "!"])])

    assert type(events[1]) is TextRun
    assert events[1].texts == ("Hello", " wor", "ld", "!")


def test_events_with_more_lines_than_their_data_read_as_the_slow_way_reads_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An `id:` line after a text chunk's data, a text chunk whose data spans two lines, an `event:`
    # line before one: none of them is one line of data, all of them must give their text.
    data = body(["Hello", "a", "b", "c", "d"])
    a_event = sse(text_chunk("a"))
    data = data.replace(a_event, a_event[:-1] + b"id: 7\n\n", 1)
    data = data.replace(b"data: {", b"event: chunk\ndata: {", 1)
    data = data.replace(b'{"content":"c"}', b'{"content":\ndata: "c"}', 1)

    assert comparable(decode([data])) == comparable(decode_slowly([data], monkeypatch))
    assert "".join(e.text for e in split_runs(decode([data])) if type(e) is TextDelta) == "Helloabcd"
