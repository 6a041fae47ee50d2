"""The gateway's error tree. Every failure a client can see is one of these.

    GatewayError                      carries status, OpenAI ``type``, ``code``, ``param``
     ├── InvalidRequestError          400  bad JSON, bad schema
     │    └── RequestTooLargeError    413  body over the configured limit
     ├── AuthenticationError          401  missing or wrong gateway key
     ├── NotFoundError                404  unknown route or model (code ``model_not_found``)
     ├── ServiceUnavailableError      503  not ready, shutting down
     └── UpstreamError                502  provider answered 5xx, garbage, or could not be reached
          ├── UpstreamStatusError     4xx  provider rejected the request: status and message passed on
          │    └── UpstreamRateLimitError 429 keeps ``retry-after``
          └── UpstreamTimeoutError    504  connect, first byte or idle-between-chunks timeout

Only ``gomodel.server.errors`` turns these into HTTP responses; everything below the server raises them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

__all__ = [
    "AuthenticationError",
    "GatewayError",
    "InvalidRequestError",
    "NotFoundError",
    "RequestTooLargeError",
    "ServiceUnavailableError",
    "UpstreamError",
    "UpstreamRateLimitError",
    "UpstreamStatusError",
    "UpstreamTimeoutError",
]


class GatewayError(Exception):
    """Base class: an error with everything needed to render it in any dialect."""

    status: int = 500
    error_type: str = "server_error"
    default_code: ClassVar[str | None] = None

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        status: int | None = None,
        error_type: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code if code is not None else self.default_code
        self.param = param
        if status is not None:
            self.status = status
        if error_type is not None:
            self.error_type = error_type
        self.headers: dict[str, str] = dict(headers) if headers else {}


class InvalidRequestError(GatewayError):
    status = 400
    error_type = "invalid_request_error"


class RequestTooLargeError(InvalidRequestError):
    status = 413
    default_code = "request_too_large"


class AuthenticationError(GatewayError):
    status = 401
    error_type = "authentication_error"
    default_code = "invalid_api_key"


class NotFoundError(GatewayError):
    status = 404
    error_type = "invalid_request_error"
    default_code = "not_found"


class ServiceUnavailableError(GatewayError):
    status = 503
    error_type = "server_error"
    default_code = "service_unavailable"


class UpstreamError(GatewayError):
    status = 502
    error_type = "upstream_error"
    default_code: ClassVar[str | None] = "upstream_error"


class UpstreamStatusError(UpstreamError):
    """The provider refused the request with a 4xx; its status and message reach the client."""

    default_code: ClassVar[str | None] = None  # the provider's own code (or its absence) is passed on as-is


class UpstreamRateLimitError(UpstreamStatusError):
    status = 429
    error_type = "rate_limit_error"
    default_code = "rate_limit_exceeded"


class UpstreamTimeoutError(UpstreamError):
    status = 504
    error_type = "upstream_timeout"
    default_code = "upstream_timeout"
