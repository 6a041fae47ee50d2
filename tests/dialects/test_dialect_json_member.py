"""`last_object_member`: the usage object read off the end of a relayed answer, or a clear "don't know".

Whatever the quick read returns must be what decoding the whole body gives; when it cannot tell it
says `UNKNOWN` and the caller decodes.
"""

from __future__ import annotations

import json
import random
from typing import Any

import orjson
import pytest

from gomodel.dialects.json_member import UNKNOWN, last_object_member
from gomodel.dialects.openai_chat import QUICK_READ_FROM, usage_from_response

USAGE = b'"usage"'


def read(body: bytes) -> Any:
    return last_object_member(body, USAGE)


def test_usage_at_the_end_of_a_compact_answer() -> None:
    body = b'{"id":"x","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}'

    assert read(body) == {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}


def test_nested_details_and_members_after_the_usage() -> None:
    usage = {"prompt_tokens": 3, "prompt_tokens_details": {"cached_tokens": 1}, "completion_tokens": 4}
    body = orjson.dumps({"id": "x", "usage": usage, "system_fingerprint": "fp_1", "service_tier": "default"})

    assert read(body) == usage


def test_spaced_json_from_other_encoders() -> None:
    body = json.dumps({"choices": [], "usage": {"total_tokens": 9}}, indent=2).encode() + b"\n"

    assert read(body) == {"total_tokens": 9}


@pytest.mark.parametrize(
    "body",
    [
        # The last "usage" is nested: the top-level one is not the last occurrence.
        b'{"usage":{"total_tokens":1},"choices":[{"message":{"usage":{"total_tokens":99}}}]}',
        b'{"usage":{"total_tokens":1},"meta":{"usage":{"total_tokens":99},"other":1}}',
        # Not an object.
        b'{"usage":null}',
        b'{"usage":[1,2]}',
        # Absent, or only inside a string.
        b'{"choices":[]}',
        b'{"content":"say \\"usage\\": {\\"a\\":1}"}',
        # A top-level array.
        b'[{"usage":{"total_tokens":1}}]',
    ],
)
def test_unclear_cases_are_left_to_the_full_decode(body: bytes) -> None:
    assert read(body) is UNKNOWN


def test_braces_inside_strings_of_the_value_are_never_misread() -> None:
    body = b'{"usage":{"note":"a } and a { and \\"}\\"","total_tokens":5},"x":"}"}'

    assert read(body) in (UNKNOWN, {"note": 'a } and a { and "}"', "total_tokens": 5})


def _random_value(rng: random.Random, depth: int) -> Any:
    kind = rng.randrange(7 if depth < 3 else 4)
    if kind == 0:
        return rng.randrange(-5, 1000)
    if kind == 1:
        return rng.choice(["usage", '"usage":{', "{}", "}", '\\"usage\\"', "plain", ""])
    if kind == 2:
        return rng.choice([None, True, False, 1.5])
    if kind == 3:
        return rng.choice([[], {}])
    if kind == 4:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(3))]
    return {rng.choice(["usage", "a", "b", "total_tokens"]): _random_value(rng, depth + 1) for _ in range(3)}


def test_agrees_with_the_full_decode_on_random_documents() -> None:
    rng = random.Random(7)
    answered = 0
    for _ in range(5000):
        document = {key: _random_value(rng, 1) for key in rng.sample(["id", "usage", "choices", "x", "y"], 4)}
        encode = rng.choice(
            [orjson.dumps, lambda d: json.dumps(d).encode(), lambda d: json.dumps(d, indent=1).encode()]
        )
        body = encode(document)
        quick = read(body)
        if quick is not UNKNOWN:
            answered += 1
            assert quick == document["usage"], body
    assert answered > 200  # the quick read does answer in the common shapes


def test_large_answers_read_usage_quickly_and_small_ones_decode_the_same() -> None:
    vectors = [{"object": "embedding", "index": i, "embedding": [0.001 * i] * 64} for i in range(20)]
    large = orjson.dumps(
        {"object": "list", "data": vectors, "usage": {"prompt_tokens": 8, "total_tokens": 8}}
    )
    assert len(large) > QUICK_READ_FROM

    usage = usage_from_response(large)

    assert usage is not None
    assert (usage.prompt_tokens, usage.total_tokens) == (8, 8)
    nested_last = large[:-1] + b',"extra":{"usage":{"prompt_tokens":1}}}'
    usage = usage_from_response(nested_last)
    assert usage is not None
    assert usage.prompt_tokens == 8
