"""Turn every failure into an OpenAI error envelope; a bug becomes a logged 500, never a traceback."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from gomodel.core.errors import GatewayError
from gomodel.server.errors import error_response, from_http_exception, speaks_anthropic
from gomodel.server.keys import REDACTOR

__all__ = ["error_middleware"]

log = logging.getLogger("gomodel.server")


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    redact = request.app[REDACTOR]
    anthropic = speaks_anthropic(request)
    try:
        return await handler(request)
    except GatewayError as error:
        if error.status >= 500:
            log.warning("%s %s failed: %s", request.method, request.path, redact(error.message))
        return error_response(error, redact, anthropic=anthropic)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(from_http_exception(exc, request), redact, anthropic=anthropic)
    except ConnectionResetError:
        # The client left mid-answer: nothing can reach it any more and its record already says 499.
        # aiohttp drops this response quietly on the closed transport.
        return web.Response(status=499)
    except Exception:
        log.exception("unhandled error serving %s %s", request.method, request.path)
        return error_response(
            GatewayError("The gateway hit an internal error; the request id identifies it in the logs."),
            redact,
            anthropic=anthropic,
        )
