"""Google API error answers (AI Studio and Vertex AI) -> gateway errors.

Google answers ``{"error": {"code", "message", "status", "details"}}``, sometimes wrapped in a list
(``[{"error": ...}]``, what ``streamGenerateContent`` without ``alt=sse`` sends), and the same object
as an SSE event when a stream fails midway. The HTTP status is passed on for 4xx; ``status``
(``INVALID_ARGUMENT``, ``RESOURCE_EXHAUSTED``...) picks the OpenAI error type, and the ``ErrorInfo``
reason (``API_KEY_INVALID``), when present, becomes the code. A 429 keeps its retry delay, from the
``retry-after`` header or else the ``RetryInfo`` detail (``"retryDelay": "7s"``).

A blocked prompt (``promptFeedback.blockReason``) is not an HTTP error upstream but is one here: a
400 with code ``content_filter``, because nothing was generated.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import orjson

from gomodel.core.errors import GatewayError, UpstreamError, UpstreamRateLimitError, UpstreamStatusError
from gomodel.dialects.json_body import as_dict

__all__ = ["error_from_google", "error_from_payload", "prompt_blocked_error"]

_MAX_MESSAGE = 2000
_ERROR_TYPES = {
    "INVALID_ARGUMENT": "invalid_request_error",
    "FAILED_PRECONDITION": "invalid_request_error",
    "OUT_OF_RANGE": "invalid_request_error",
    "UNAUTHENTICATED": "authentication_error",
    "PERMISSION_DENIED": "permission_error",
    "NOT_FOUND": "not_found_error",
}
_RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
_ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"


def error_from_google(provider: str, status: int, body: bytes, headers: Mapping[str, str]) -> GatewayError:
    """The error for a non-2xx answer from a Google generative API."""
    try:
        payload: Any = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        text = body.decode("utf-8", "replace").strip()[:_MAX_MESSAGE]
        return _error(provider, status, {"message": text} if text else {}, headers.get("retry-after"))
    if isinstance(payload, list) and payload:
        payload = payload[0]
    return _error(provider, status, as_dict(as_dict(payload).get("error")), headers.get("retry-after"))


def error_from_payload(provider: str, error: Any) -> GatewayError:
    """The error for an ``{"error": ...}`` object met inside a stream (no HTTP status of its own)."""
    error = as_dict(error)
    code = error.get("code")
    status = code if isinstance(code, int) and 400 <= code < 600 else 500
    return _error(provider, status, error, None)


def prompt_blocked_error(provider: str, feedback: Any) -> GatewayError | None:
    """The 400 for a prompt the provider refused to answer, or None when it was not blocked."""
    feedback = as_dict(feedback)
    reason = feedback.get("blockReason")
    if not reason:
        return None
    detail = feedback.get("blockReasonMessage")
    return UpstreamStatusError(
        f"provider {provider} blocked the prompt (blockReason {reason})" + (f": {detail}" if detail else ""),
        status=400,
        error_type="invalid_request_error",
        code="content_filter",
    )


def _error(provider: str, status: int, error: dict[str, Any], retry_after: str | None) -> GatewayError:
    message = str(error["message"])[:_MAX_MESSAGE] if error.get("message") else None
    google_status = error.get("status") if isinstance(error.get("status"), str) else None
    raw_details = error.get("details")
    details = [as_dict(d) for d in raw_details] if isinstance(raw_details, list) else []
    if status == 429:
        delay = retry_after or _retry_delay(details)
        return UpstreamRateLimitError(
            message or f"provider {provider} is rate limiting requests",
            headers={"retry-after": delay} if delay else None,
        )
    if 400 <= status < 500:
        reason = next((d.get("reason") for d in details if d.get("@type") == _ERROR_INFO), None)
        code = reason or google_status
        return UpstreamStatusError(
            message or f"provider {provider} rejected the request (HTTP {status})",
            status=status,
            error_type=_ERROR_TYPES.get(google_status or "", "invalid_request_error"),
            code=str(code).lower() if code else None,
        )
    detail = f": {message}" if message else ""
    return UpstreamError(f"provider {provider} failed with HTTP {status}{detail}", code="upstream_error")


def _retry_delay(details: list[dict[str, Any]]) -> str | None:
    """``RetryInfo.retryDelay`` (a protobuf Duration such as ``"7s"`` or ``"0.25s"``) in whole seconds."""
    for detail in details:
        delay = detail.get("retryDelay") if detail.get("@type") == _RETRY_INFO else None
        if isinstance(delay, str) and delay.endswith("s"):
            try:
                return str(max(1, math.ceil(float(delay[:-1]))))
            except ValueError:
                return None
    return None
