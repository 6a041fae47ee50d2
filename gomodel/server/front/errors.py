"""Turn every failure into an error envelope in the endpoint's dialect; a bug becomes a logged 500,
never a traceback."""

from __future__ import annotations

import logging

from aiohttp import web

from gomodel.core.errors import GatewayError
from gomodel.server.errors import error_response, from_http_exception, speaks_anthropic
from gomodel.server.keys import REDACTOR

__all__ = ["failure_response"]

log = logging.getLogger("gomodel.server")


def failure_response(request: web.Request, exc: Exception) -> web.StreamResponse:
    """The response for ``exc`` raised while serving ``request``; redirects and the like re-raise."""
    redact = request.app[REDACTOR]
    anthropic = speaks_anthropic(request)
    if isinstance(exc, GatewayError):
        if exc.status >= 500:
            log.warning("%s %s failed: %s", request.method, request.path, redact(exc.message))
        return error_response(exc, redact, anthropic=anthropic)
    if isinstance(exc, web.HTTPException):
        if exc.status < 400:
            raise exc
        return error_response(from_http_exception(exc, request), redact, anthropic=anthropic)
    if isinstance(exc, ConnectionResetError):
        # The client left mid-answer: nothing can reach it any more and its record already says 499.
        # aiohttp drops this response quietly on the closed transport.
        return web.Response(status=499)
    log.error("unhandled error serving %s %s", request.method, request.path, exc_info=exc)
    return error_response(
        GatewayError("The gateway hit an internal error; the request id identifies it in the logs."),
        redact,
        anthropic=anthropic,
    )
