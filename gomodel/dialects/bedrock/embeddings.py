"""Titan text embeddings through InvokeModel: one JSON body per input text.

Bedrock has no common embeddings API; every family takes its own InvokeModel body. Only Amazon Titan
text embeddings are translated (v2 ``amazon.titan-embed-text-v2:0`` with ``dimensions`` 256/512/1024
and ``normalize``; v1 and G1 without dimensions). Other embedding models are refused with a 400.
"""

from __future__ import annotations

from typing import Any

import orjson

from gomodel.core.errors import InvalidRequestError, UpstreamError

__all__ = ["titan_body", "titan_embedding", "titan_version"]

_V2_DIMENSIONS = (256, 512, 1024)


def titan_version(model: str, dimensions: int | None) -> int:
    """2 or 1 for a Titan text embeddings model; raises `InvalidRequestError` for anything else."""
    model = model.lower()
    if "titan-embed-text-v2" in model:
        if dimensions is not None and dimensions not in _V2_DIMENSIONS:
            raise InvalidRequestError(
                f"Titan text embeddings v2 supports dimensions {list(_V2_DIMENSIONS)}, not {dimensions}",
                param="dimensions",
            )
        return 2
    if "titan-embed-text-v1" in model or "titan-embed-g1-text" in model:
        if dimensions is not None:
            raise InvalidRequestError(
                "Titan text embeddings v1 has a fixed size; 'dimensions' needs v2", param="dimensions"
            )
        return 1
    raise InvalidRequestError(
        f"Bedrock embeddings are supported for Amazon Titan text embeddings models only, not {model!r}",
        param="model",
    )


def titan_body(version: int, text: str, dimensions: int | None) -> bytes:
    body: dict[str, Any] = {"inputText": text}
    if version == 2:
        body["normalize"] = True
        if dimensions is not None:
            body["dimensions"] = dimensions
    return orjson.dumps(body)


def titan_embedding(body: bytes) -> tuple[tuple[float, ...], int]:
    """(vector, input token count) of a Titan InvokeModel answer."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise UpstreamError("Bedrock returned an embedding that is not JSON") from None
    vector = payload.get("embedding") if isinstance(payload, dict) else None
    if not isinstance(vector, list):
        raise UpstreamError("Bedrock returned an embedding answer without 'embedding'")
    tokens = payload.get("inputTextTokenCount")
    return tuple(float(x) for x in vector), tokens if isinstance(tokens, int) else 0
