"""`gomodel.dialects.openai_embeddings`: OpenAI embeddings request -> neutral, neutral answer -> OpenAI."""

from __future__ import annotations

import base64
import struct
from typing import Any

import openai
import orjson
import pytest
from aiohttp import web
from openai.types import CreateEmbeddingResponse

from gomodel.core.chat import EmbeddingsRequest, EmbeddingsResponse
from gomodel.core.errors import InvalidRequestError
from gomodel.core.records import Usage
from gomodel.dialects.openai_embeddings import (
    encode_embeddings_response,
    parse_embeddings_request,
    to_embeddings_request,
)
from gomodel.testing.threaded_server import ThreadedServer


def call(**fields: Any) -> Any:
    return parse_embeddings_request(
        orjson.dumps({"model": "text-embedding-3-small", "input": "The food was delicious.", **fields})
    )


def float32(value: float) -> float:
    """``value`` rounded to the float32 the base64 encoding carries."""
    return float(struct.unpack("<f", struct.pack("<f", value))[0])


# --- to_embeddings_request ------------------------------------------------------------------------


def test_string_input_with_every_option() -> None:
    request = to_embeddings_request(
        call(dimensions=256, encoding_format="base64", user="u"), "gemini-embedding-001"
    )

    assert request == EmbeddingsRequest(
        model="gemini-embedding-001",
        inputs=("The food was delicious.",),
        dimensions=256,
        encoding_format="base64",
    )


def test_list_input_and_defaults() -> None:
    request = to_embeddings_request(call(input=["first", "second ☕"]), "up")

    assert request == EmbeddingsRequest(model="up", inputs=("first", "second ☕"))
    assert request.encoding_format == "float"
    assert request.dimensions is None


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        pytest.param({"input": [1212, 318, 257]}, "input", id="token array"),
        pytest.param({"input": [[1212, 318], [257]]}, "input", id="token arrays"),
        pytest.param({"input": ["text", 318]}, "input", id="mixed"),
        pytest.param({"dimensions": "256"}, "dimensions", id="dimensions a string"),
        pytest.param({"dimensions": 256.0}, "dimensions", id="dimensions a float"),
        pytest.param({"dimensions": True}, "dimensions", id="dimensions a bool"),
        pytest.param({"encoding_format": "int8"}, "encoding_format", id="encoding unknown"),
        pytest.param({"encoding_format": "FLOAT"}, "encoding_format", id="encoding wrong case"),
        pytest.param({"encoding_format": 1}, "encoding_format", id="encoding a number"),
    ],
)
def test_bad_requests_are_400_naming_the_param(fields: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        to_embeddings_request(call(**fields), "up")

    assert caught.value.param == param
    assert caught.value.status == 400


@pytest.mark.parametrize("dimensions", [0, -8])
def test_dimensions_below_one_are_400(dimensions: int) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        to_embeddings_request(call(dimensions=dimensions), "up")

    assert caught.value.param == "dimensions"


def test_null_encoding_format_means_float() -> None:
    assert to_embeddings_request(call(encoding_format=None), "up").encoding_format == "float"


# --- encode_embeddings_response -------------------------------------------------------------------

VECTORS = ((0.0023064255, -0.009327292, -0.0028842222), (1.0, -0.5, 0.1))
USAGE = Usage(prompt_tokens=8, total_tokens=8)


def encoded(encoding_format: str, usage: Usage | None = USAGE) -> dict[str, Any]:
    request = EmbeddingsRequest(
        model="gemini-embedding-001", inputs=("a", "b"), encoding_format=encoding_format
    )  # type: ignore[arg-type]
    response = EmbeddingsResponse(model="gemini-embedding-001", vectors=VECTORS, usage=usage)
    payload: dict[str, Any] = orjson.loads(encode_embeddings_response(response, request, "my-embedder"))
    return payload


def test_float_response() -> None:
    assert encoded("float") == {
        "object": "list",
        "data": [
            {"object": "embedding", "index": 0, "embedding": list(VECTORS[0])},
            {"object": "embedding", "index": 1, "embedding": list(VECTORS[1])},
        ],
        "model": "my-embedder",
        "usage": {"prompt_tokens": 8, "total_tokens": 8},
    }


def test_base64_response_is_little_endian_float32() -> None:
    payload = encoded("base64")

    for row, vector in zip(payload["data"], VECTORS, strict=True):
        raw = base64.b64decode(row["embedding"], validate=True)
        assert len(raw) == 4 * len(vector)
        assert struct.unpack(f"<{len(vector)}f", raw) == tuple(float32(v) for v in vector)
    assert [row["index"] for row in payload["data"]] == [0, 1]
    assert payload["model"] == "my-embedder"


def test_response_without_usage_has_no_usage_key() -> None:
    assert "usage" not in encoded("float", usage=None)


def test_sdk_model_reads_the_float_response() -> None:
    parsed = CreateEmbeddingResponse.model_validate(encoded("float"))

    assert parsed.model == "my-embedder"
    assert [d.index for d in parsed.data] == [0, 1]
    assert parsed.data[1].embedding == list(VECTORS[1])
    assert parsed.usage.total_tokens == 8


def test_sdk_client_decodes_the_base64_response() -> None:
    """The SDK asks for base64 by default and unpacks it itself: the bytes must be what it expects."""
    sent: list[Any] = []

    async def handle(request: web.Request) -> web.Response:
        sent.append(await request.json())
        return web.Response(
            body=orjson.dumps(encoded(sent[-1].get("encoding_format", "float"))),
            content_type="application/json",
        )

    app = web.Application()
    app.router.add_post("/v1/embeddings", handle)
    with ThreadedServer() as server:
        server.start(app, access_log=None)
        with openai.OpenAI(
            base_url=server.base_url + "/v1", api_key="sk-test", max_retries=0, timeout=10
        ) as client:
            result = client.embeddings.create(model="my-embedder", input=["a", "b"])

    assert sent[0]["encoding_format"] == "base64", "the SDK default this test relies on"
    assert [d.embedding for d in result.data] == [[float32(v) for v in vector] for vector in VECTORS]
    assert result.usage.prompt_tokens == 8
