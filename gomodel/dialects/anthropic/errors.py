"""Anthropic error bodies and stream ``error`` events -> gateway errors.

Anthropic answers ``{"type": "error", "error": {"type": ..., "message": ...}}``. Client mistakes
(4xx) keep their status and message; 429 keeps ``retry-after``; Anthropic's own failures (500
``api_error``, 529 ``overloaded_error``) become 502 with a code saying which, and its 504
``timeout_error`` a gateway timeout. A stream ``error`` event has no HTTP status, so its error type
stands for the status it would have had.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import orjson

from gomodel.core.errors import GatewayError, UpstreamError, UpstreamTimeoutError
from gomodel.dialects.openai_errors import error_from_upstream

__all__ = ["error_from_anthropic", "error_from_event"]

#: The status Anthropic documents for each error type.
_STATUS: Final[Mapping[str, int]] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}
_MAX_MESSAGE = 2000


def error_from_anthropic(provider: str, status: int, body: bytes, headers: Mapping[str, str]) -> GatewayError:
    """An HTTP error answer of the Messages or Models API -> the gateway error to raise."""
    if status < 500:
        # 4xx bodies read the same as OpenAI's ({"error": {"type", "message"}}): one mapper for both.
        return error_from_upstream(provider, status, body, headers)
    error_type, message = _parse(body)
    return _server_error(provider, status, error_type, message, f"with HTTP {status}")


def error_from_event(provider: str, event: Mapping[str, Any]) -> GatewayError:
    """The payload of a stream ``error`` event -> the gateway error the stream fails with."""
    error = event.get("error")
    error_type, message = _fields(error if isinstance(error, dict) else {})
    status = _STATUS.get(error_type or "", 500)
    if status < 500:
        return error_from_upstream(provider, status, orjson.dumps(event), {})
    return _server_error(provider, status, error_type, message, "in the middle of the stream")


def _server_error(
    provider: str, status: int, error_type: str | None, message: str | None, where: str
) -> GatewayError:
    detail = f" ({error_type}: {message})" if message else ""
    if status == 504:
        return UpstreamTimeoutError(f"provider {provider} timed out {where}{detail}")
    code = "overloaded" if status == 529 else "upstream_error"
    return UpstreamError(f"provider {provider} failed {where}{detail}", code=code)


def _parse(body: bytes) -> tuple[str | None, str | None]:
    try:
        payload = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        # A proxy in front of the API may answer HTML or plain text.
        text = body.decode("utf-8", "replace").strip()
        return None, text[:_MAX_MESSAGE] or None
    error = payload.get("error") if isinstance(payload, dict) else None
    return _fields(error if isinstance(error, dict) else {})


def _fields(error: Mapping[str, Any]) -> tuple[str | None, str | None]:
    kind = error.get("type")
    message = error.get("message")
    return (
        kind if isinstance(kind, str) and kind else None,
        str(message)[:_MAX_MESSAGE] if message else None,
    )
