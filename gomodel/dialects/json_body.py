"""Shared request-body checks for every JSON dialect: one place words the 400s."""

from __future__ import annotations

from typing import Any

import orjson

from gomodel.core.errors import InvalidRequestError

__all__ = ["as_dict", "as_int", "decode_object", "require_model"]


def decode_object(body: bytes) -> dict[str, Any]:
    if not body:
        raise InvalidRequestError("The request body is empty; expected a JSON object.", code="invalid_json")
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequestError(f"The request body is not valid JSON: {exc}", code="invalid_json") from None
    if not isinstance(payload, dict):
        raise InvalidRequestError("The request body must be a JSON object.", code="invalid_json")
    return payload


def require_model(payload: dict[str, Any]) -> str:
    model = payload.get("model")
    if not isinstance(model, str) or not model.strip():
        raise InvalidRequestError(
            "you must provide a model parameter (a non-empty string)", param="model", code="missing_model"
        )
    return model


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (for tolerant reading of provider replies)."""
    return value if isinstance(value, dict) else {}


def as_int(value: Any) -> int:
    """``value`` when it is a JSON integer (not a boolean), else 0: token counts read tolerantly."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
