"""Embedding bodies: AI Studio ``batchEmbedContents`` and Vertex AI ``predict`` / ``embedContent``.

AI Studio embeds up to 100 texts per ``batchEmbedContents`` call and reports no token usage, so its
responses carry none (estimating would put made-up numbers in usage records).

Vertex serves text embeddings through ``predict`` (``{"instances": [{"content"}]}``, up to 250 texts,
each prediction with its ``statistics.token_count``), except that ``gemini-embedding-001`` takes one
text per call and the later Gemini embedding models only ``embedContent``, also one text per call,
which is what the official SDK does too.
"""

from __future__ import annotations

from typing import Any, Literal

from gomodel.core.chat import EmbeddingsRequest, EmbeddingsResponse
from gomodel.core.errors import UpstreamError
from gomodel.core.records import Usage
from gomodel.dialects.json_body import as_dict, as_int

__all__ = [
    "BATCH_EMBED_LIMIT",
    "Vector",
    "decode_batch_embed",
    "decode_vertex_embed_content",
    "decode_vertex_predict",
    "embeddings_response",
    "encode_batch_embed",
    "encode_vertex_embed_content",
    "encode_vertex_predict",
    "vertex_embedding_method",
]

BATCH_EMBED_LIMIT = 100
_PREDICT_LIMIT = 250
Vector = tuple[float, ...]


def encode_batch_embed(texts: tuple[str, ...], model_path: str, dimensions: int | None) -> dict[str, Any]:
    """``model_path`` is the model's resource name, ``models/<id>``, repeated in every request."""
    extra = {"outputDimensionality": dimensions} if dimensions is not None else {}
    return {
        "requests": [{"model": model_path, "content": {"parts": [{"text": text}]}, **extra} for text in texts]
    }


def decode_batch_embed(payload: Any, provider: str, expected: int) -> list[Vector]:
    rows = as_dict(payload).get("embeddings")
    return _checked(provider, [_values(as_dict(row)) for row in rows or ()], expected)


def vertex_embedding_method(model: str) -> tuple[Literal["predict", "embedContent"], int]:
    """How Vertex embeds with ``model``: the method, and how many texts one call may carry."""
    if "gemini" not in model:
        return "predict", _PREDICT_LIMIT
    return ("predict" if model == "gemini-embedding-001" else "embedContent"), 1


def encode_vertex_predict(texts: tuple[str, ...], dimensions: int | None) -> dict[str, Any]:
    body: dict[str, Any] = {"instances": [{"content": text} for text in texts]}
    if dimensions is not None:
        body["parameters"] = {"outputDimensionality": dimensions}
    return body


def decode_vertex_predict(payload: Any, provider: str, expected: int) -> tuple[list[Vector], int]:
    """The vectors and the number of input tokens they took."""
    predictions = as_dict(payload).get("predictions")
    embeddings = [as_dict(as_dict(row).get("embeddings")) for row in predictions or ()]
    tokens = sum(as_int(as_dict(e.get("statistics")).get("token_count")) for e in embeddings)
    return _checked(provider, [_values(e) for e in embeddings], expected), tokens


def encode_vertex_embed_content(text: str, dimensions: int | None) -> dict[str, Any]:
    body: dict[str, Any] = {"content": {"parts": [{"text": text}]}}
    if dimensions is not None:
        body["embedContentConfig"] = {"outputDimensionality": dimensions}
    return body


def decode_vertex_embed_content(payload: Any, provider: str) -> tuple[list[Vector], int]:
    payload = as_dict(payload)
    vectors = _checked(provider, [_values(as_dict(payload.get("embedding")))], 1)
    return vectors, as_int(as_dict(payload.get("usageMetadata")).get("promptTokenCount"))


def embeddings_response(
    request: EmbeddingsRequest, vectors: list[Vector], tokens: int | None
) -> EmbeddingsResponse:
    usage = Usage(prompt_tokens=tokens, total_tokens=tokens) if tokens is not None else None
    return EmbeddingsResponse(model=request.model, vectors=tuple(vectors), usage=usage)


def _values(row: dict[str, Any]) -> Vector | None:
    values = row.get("values")
    if not isinstance(values, list):
        return None
    try:
        return tuple(float(x) for x in values)
    except (TypeError, ValueError):
        return None


def _checked(provider: str, vectors: list[Vector | None], expected: int) -> list[Vector]:
    if len(vectors) != expected or any(v is None for v in vectors):
        raise UpstreamError(f"provider {provider} returned an unreadable embeddings response")
    return [v for v in vectors if v is not None]
