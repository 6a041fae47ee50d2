"""`ChunkEncoder` on a `TextRun`: the same bytes as its deltas encoded one by one."""

from __future__ import annotations

import orjson
import pytest

from gomodel.core.chat import Finish, StreamStart, TextDelta, TextRun
from gomodel.dialects.openai_chat_stream_encode import ChunkEncoder

START = StreamStart(id='chatcmpl-"1"', model="claude-x", created=1_700_000_000)
WORDS = ("Hello", ",", " wörld", " 東京", " 🌦️", ' "q"', "a\nb", "back\\slash", "\u2028", "\x7f")


def encoded(*events: TextDelta | Finish, include_usage: bool = True) -> bytes:
    encoder = ChunkEncoder(include_usage=include_usage)
    return encoder.start(START) + b"".join(encoder.encode(event) for event in events)


@pytest.mark.parametrize("include_usage", [True, False])
def test_a_run_is_written_as_its_deltas(include_usage: bool) -> None:
    run = TextRun("".join(WORDS), WORDS)

    one_by_one = encoded(*map(TextDelta, WORDS), Finish("stop"), include_usage=include_usage)

    assert encoded(run, Finish("stop"), include_usage=include_usage) == one_by_one


def test_a_run_with_json_at_hand_copies_it() -> None:
    words = ("plain", " text", " ünï", " 🌦️")
    escaped = tuple(orjson.dumps(word)[1:-1] for word in words)

    assert encoded(TextRun("".join(words), words, escaped)) == encoded(*map(TextDelta, words))
    # The copied JSON is what is written (the encoder does not serialise the texts again).
    assert b'"content":"COPIED"' in encoded(TextRun("xy", ("x", "y"), (b"COPIED", b"y")))


def test_empty_texts_in_a_run_have_no_chunk() -> None:
    assert encoded(TextRun("ab", ("a", "", "b"))) == encoded(TextDelta("a"), TextDelta("b"))
    assert encoded(TextRun("", ("", ""))) == encoded()


def test_the_encoder_says_it_writes_runs() -> None:
    assert ChunkEncoder.text_runs is True
