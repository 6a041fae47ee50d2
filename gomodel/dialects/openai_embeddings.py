"""OpenAI embeddings: validate and relay requests; translate to and from the wire-neutral types."""

from __future__ import annotations

import base64
import struct
from typing import Any

import attrs
import orjson

from gomodel.core.chat import EmbeddingsRequest, EmbeddingsResponse
from gomodel.core.errors import InvalidRequestError
from gomodel.dialects.json_body import decode_object, require_model
from gomodel.dialects.openai_usage import usage_to_openai

__all__ = [
    "EmbeddingsCall",
    "encode_embeddings_response",
    "parse_embeddings_request",
    "to_embeddings_request",
    "upstream_embeddings_body",
]


@attrs.frozen(slots=True)
class EmbeddingsCall:
    payload: dict[str, Any]
    model: str


def parse_embeddings_request(body: bytes) -> EmbeddingsCall:
    payload = decode_object(body)
    model = require_model(payload)
    value = payload.get("input")
    if value is None or value in ("", []):
        raise InvalidRequestError("'input' must be a non-empty string or array", param="input")
    if not isinstance(value, str | list):
        raise InvalidRequestError("'input' must be a string or an array", param="input")
    return EmbeddingsCall(payload=payload, model=model)


def upstream_embeddings_body(call: EmbeddingsCall, raw: bytes, upstream_model: str) -> bytes:
    if upstream_model == call.model:
        return raw
    return orjson.dumps({**call.payload, "model": upstream_model})


def to_embeddings_request(call: EmbeddingsCall, upstream_model: str) -> EmbeddingsRequest:
    """For providers with their own embeddings API: text inputs only (token arrays are OpenAI's)."""
    value = call.payload["input"]
    inputs = [value] if isinstance(value, str) else value
    if not all(isinstance(item, str) for item in inputs):
        raise InvalidRequestError("this provider takes text inputs only, not token arrays", param="input")
    dimensions = call.payload.get("dimensions")
    if dimensions is not None and (
        isinstance(dimensions, bool) or not isinstance(dimensions, int) or dimensions < 1
    ):
        raise InvalidRequestError("'dimensions' must be a positive integer", param="dimensions")
    encoding = call.payload.get("encoding_format") or "float"
    if encoding not in ("float", "base64"):
        raise InvalidRequestError("'encoding_format' must be float or base64", param="encoding_format")
    return EmbeddingsRequest(
        model=upstream_model,
        inputs=tuple(inputs),
        dimensions=dimensions,
        encoding_format="base64" if encoding == "base64" else "float",
    )


def encode_embeddings_response(response: EmbeddingsResponse, request: EmbeddingsRequest, model: str) -> bytes:
    rows = []
    for index, vector in enumerate(response.vectors):
        embedding: Any = list(vector)
        if request.encoding_format == "base64":
            # The SDKs ask for base64 by default: little-endian float32, as OpenAI sends it.
            embedding = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        rows.append({"object": "embedding", "index": index, "embedding": embedding})
    body: dict[str, Any] = {"object": "list", "data": rows, "model": model}
    if response.usage is not None:
        body["usage"] = usage_to_openai(response.usage, embeddings=True)
    return orjson.dumps(body)
