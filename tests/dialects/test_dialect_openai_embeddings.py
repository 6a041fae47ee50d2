"""`gomodel.dialects.openai_embeddings`: request checks and the upstream body."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from gomodel.core.errors import InvalidRequestError
from gomodel.dialects.openai_embeddings import parse_embeddings_request, upstream_embeddings_body


def body(**fields: Any) -> bytes:
    return orjson.dumps({"model": "text-embedding-3-small", "input": "The food was delicious.", **fields})


@pytest.mark.parametrize(
    "value",
    [
        "The food was delicious.",
        ["first", "second"],
        [1212, 318, 257, 1332],
        [[1212, 318], [257, 1332]],
    ],
)
def test_parse_accepts_every_input_shape(value: object) -> None:
    call = parse_embeddings_request(body(input=value, encoding_format="float", dimensions=256))

    assert call.model == "text-embedding-3-small"
    assert call.payload["input"] == value
    assert call.payload["dimensions"] == 256


@pytest.mark.parametrize(
    ("raw", "param"),
    [
        pytest.param(b"", None, id="empty body"),
        pytest.param(b"{", None, id="invalid json"),
        pytest.param(b"[1]", None, id="array"),
        pytest.param(orjson.dumps({"input": "x"}), "model", id="missing model"),
        pytest.param(body(model=""), "model", id="empty model"),
        pytest.param(orjson.dumps({"model": "m"}), "input", id="missing input"),
        pytest.param(body(input=None), "input", id="null input"),
        pytest.param(body(input=""), "input", id="empty string"),
        pytest.param(body(input=[]), "input", id="empty list"),
        pytest.param(body(input=42), "input", id="number"),
        pytest.param(body(input={"text": "x"}), "input", id="object"),
    ],
)
def test_parse_rejects(raw: bytes, param: str | None) -> None:
    with pytest.raises(InvalidRequestError) as info:
        parse_embeddings_request(raw)

    assert (info.value.status, info.value.param) == (400, param)


def test_unchanged_body_is_the_same_bytes_object() -> None:
    raw = body()

    assert upstream_embeddings_body(parse_embeddings_request(raw), raw, "text-embedding-3-small") is raw


def test_provider_prefixed_model_is_rewritten() -> None:
    raw = body(model="openai/text-embedding-3-small", dimensions=256)

    sent = orjson.loads(
        upstream_embeddings_body(parse_embeddings_request(raw), raw, "text-embedding-3-small")
    )

    assert sent == {"model": "text-embedding-3-small", "input": "The food was delicious.", "dimensions": 256}
