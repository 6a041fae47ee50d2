"""The one place gateway errors become HTTP responses (OpenAI envelope, right status, kept headers)."""

from __future__ import annotations

from collections.abc import Callable

import orjson
from aiohttp import web

from gomodel.core.errors import (
    GatewayError,
    InvalidRequestError,
    NotFoundError,
    RequestTooLargeError,
)
from gomodel.dialects.anthropic.stream_encode import anthropic_error_body
from gomodel.dialects.openai_errors import error_envelope

__all__ = ["error_response", "from_http_exception", "speaks_anthropic"]


def error_response(
    error: GatewayError, redact: Callable[[str], str], *, anthropic: bool = False
) -> web.Response:
    """The error in the route's dialect: Anthropic's shape on ``/v1/messages``, OpenAI's elsewhere."""
    message = redact(error.message)
    envelope = anthropic_error_body(error, message) if anthropic else error_envelope(error, message)
    body = orjson.dumps(envelope)
    return web.Response(
        body=body, status=error.status, content_type="application/json", headers=error.headers
    )


def from_http_exception(exc: web.HTTPException, request: web.Request) -> GatewayError:
    """aiohttp's own refusals (unknown route, wrong method, body too large) in the gateway's terms."""
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        limit = request.app._client_max_size
        return RequestTooLargeError(f"The request body exceeds the {limit}-byte limit.")
    if isinstance(exc, web.HTTPNotFound):
        return NotFoundError(f"No route for {request.method} {request.path}.", code="unknown_route")
    if isinstance(exc, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(exc.allowed_methods))
        return GatewayError(
            f"Method {request.method} is not allowed on {request.path} (allowed: {allowed}).",
            status=405,
            error_type="invalid_request_error",
            code="method_not_allowed",
            headers={"Allow": allowed},
        )
    return InvalidRequestError(exc.reason, status=exc.status, code=None)


def speaks_anthropic(request: web.BaseRequest) -> bool:
    """Routes of the Anthropic Messages ingress answer errors the way Anthropic's SDK expects."""
    return "/v1/messages" in request.path
