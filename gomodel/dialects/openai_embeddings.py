"""OpenAI embeddings requests: validate the shape, relay the body."""

from __future__ import annotations

from typing import Any

import attrs
import orjson

from gomodel.core.errors import InvalidRequestError
from gomodel.dialects.json_body import decode_object, require_model

__all__ = ["EmbeddingsCall", "parse_embeddings_request", "upstream_embeddings_body"]


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
