"""AWS error answers and ConverseStream exception frames -> gateway errors.

An error names its kind in the ``x-amzn-ErrorType`` header (``ValidationException:http://...``), the
body's ``__type`` (``com.amazon.coral.validate#ValidationException``) or, mid-stream, the frame's
``:exception-type`` (``throttlingException``). The kind decides the mapping where the HTTP status
alone would mislead: a model that is still loading answers 429, but is a 503 to clients, and the model
timing out (408) is a gateway timeout.

AWS appends diagnostics after a blank line to some messages (a bad signature gets the canonical
request, session token included), so only the first paragraph is ever passed on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from gomodel.core.errors import (
    GatewayError,
    UpstreamError,
    UpstreamRateLimitError,
    UpstreamStatusError,
    UpstreamTimeoutError,
)

__all__ = ["error_from_exception_frame", "error_from_response"]

_MAX_MESSAGE = 2000
#: Statuses of the kinds ConverseStream may send as frames, where no HTTP status comes along.
_FRAME_STATUS = {
    "ValidationException": 400,
    "ThrottlingException": 429,
    "ModelStreamErrorException": 424,
    "InternalServerException": 500,
    "ServiceUnavailableException": 503,
}
_ERROR_TYPES = {401: "authentication_error", 403: "permission_error", 404: "not_found_error"}


def error_from_response(provider: str, status: int, body: bytes, headers: Mapping[str, str]) -> GatewayError:
    """The error for a non-2xx Bedrock answer (any operation)."""
    payload = _json(body)
    kind = headers.get("x-amzn-errortype", "").partition(":")[0] or str(payload.get("__type", ""))
    message = payload.get("message") or payload.get("Message")
    if message is None and not payload:
        message = body.decode("utf-8", "replace").strip() or None
    kind = kind.rpartition("#")[2]  # "com.amazon.coral.validate#ValidationException"
    return _error(provider, kind, status, message, headers.get("retry-after"), where=f"with HTTP {status}")


def error_from_exception_frame(provider: str, exception_type: str, payload: bytes) -> GatewayError:
    """The error for an ``:message-type: exception`` frame of a ConverseStream body."""
    kind = exception_type[:1].upper() + exception_type[1:]
    status = _FRAME_STATUS.get(kind, 500)
    return _error(provider, kind, status, _json(payload).get("message"), None, where="mid-stream")


def _json(body: bytes) -> dict[str, Any]:
    try:
        payload = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return {}
    return payload if isinstance(payload, dict) else {}


def _error(
    provider: str, kind: str, status: int, message: object, retry_after: str | None, *, where: str
) -> GatewayError:
    text = str(message).split("\n\n", 1)[0].strip()[:_MAX_MESSAGE] if message else ""
    code = kind or None
    if kind == "ModelNotReadyException" or status == 503:
        detail = text or "the model is not ready to serve requests"
        return UpstreamError(f"provider {provider} is unavailable: {detail}", code=code, status=503)
    if kind == "ModelTimeoutException" or status == 408:
        return UpstreamTimeoutError(f"provider {provider}: the model timed out: {text or kind}", code=code)
    if status == 429:
        return UpstreamRateLimitError(
            text or f"provider {provider} is rate limiting requests",
            headers={"retry-after": retry_after} if retry_after else None,
        )
    if 400 <= status < 500 and status != 424:  # 424: the model itself failed, not the request
        return UpstreamStatusError(
            text or f"provider {provider} rejected the request (HTTP {status})",
            status=status,
            error_type=_ERROR_TYPES.get(status, "invalid_request_error"),
            code=code,
        )
    detail = ": ".join(part for part in (kind, text) if part)
    return UpstreamError(
        f"provider {provider} failed {where}{': ' if detail else ''}{detail}", code=code or "upstream_error"
    )
