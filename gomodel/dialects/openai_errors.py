"""Provider error bodies in the OpenAI family, turned into gateway errors.

Upstreams disagree on the shape (``{"error": {...}}``, ``{"error": "text"}``, ``{"message": ...}``,
``{"detail": ...}``, plain text, a list with one error); the client always gets the OpenAI envelope.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from gomodel.core.errors import GatewayError, UpstreamError, UpstreamRateLimitError, UpstreamStatusError

__all__ = ["error_envelope", "error_from_upstream", "stream_error_event"]

_MAX_MESSAGE = 2000


def error_from_upstream(provider: str, status: int, body: bytes, headers: Mapping[str, str]) -> GatewayError:
    message, error_type, code, param = _parse(body)
    if status == 429:
        retry_after = headers.get("retry-after")
        return UpstreamRateLimitError(
            message or f"provider {provider} is rate limiting requests",
            code=code,
            param=param,
            headers={"retry-after": retry_after} if retry_after else None,
        )
    if 400 <= status < 500:
        return UpstreamStatusError(
            message or f"provider {provider} rejected the request (HTTP {status})",
            status=status,
            error_type=error_type or "invalid_request_error",
            code=code,
            param=param,
        )
    detail = f": {message}" if message else ""
    return UpstreamError(f"provider {provider} failed with HTTP {status}{detail}", code="upstream_error")


def _parse(body: bytes) -> tuple[str | None, str | None, str | None, str | None]:
    try:
        payload: Any = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        text = body.decode("utf-8", "replace").strip()
        return (text[:_MAX_MESSAGE] or None), None, None, None
    if isinstance(payload, list) and payload:
        payload = payload[0]
    if not isinstance(payload, dict):
        return None, None, None, None
    error = payload.get("error", payload)
    if isinstance(error, str):
        return error[:_MAX_MESSAGE], None, None, None
    if not isinstance(error, dict):
        return None, None, None, None
    message = error.get("message") or error.get("detail") or error.get("msg")
    return (
        str(message)[:_MAX_MESSAGE] if message else None,
        _text(error.get("type")),
        _text(error.get("code")),
        _text(error.get("param")),
    )


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    return str(value)


def error_envelope(error: GatewayError, message: str | None = None) -> dict[str, Any]:
    """The OpenAI error body: ``{"error": {"message", "type", "param", "code"}}``."""
    return {
        "error": {
            "message": message if message is not None else error.message,
            "type": error.error_type,
            "param": error.param,
            "code": error.code,
        }
    }


def stream_error_event(error: GatewayError, message: str | None = None) -> bytes:
    """An SSE event the OpenAI SDKs raise on, so a broken stream never looks like a clean end."""
    return b"data: " + orjson.dumps(error_envelope(error, message)) + b"\n\n"
