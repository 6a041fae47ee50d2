"""The one middleware: request id, then master-key auth, with every failure rendered as an error.

One middleware rather than three because aiohttp wraps each in its own coroutine and partial per
request; the three steps always run together and in this order anyway. The ``X-Request-Id`` response
header is set here on returned responses and by `SSEResponse` on streams, rather than by an
``on_response_prepare`` signal that would run for every response.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from gomodel.observability.logging import request_id_var
from gomodel.server.keys import REQUEST_ID
from gomodel.server.middlewares.errors import failure_response
from gomodel.server.middlewares.request_id import HEADER, request_id_for

__all__ = ["front_middleware"]


def front_middleware(authenticate: Callable[[web.Request], None] | None) -> Middleware:
    """The request id exists before anything logs; auth failures are rendered like any other error."""

    @web.middleware
    async def front(request: web.Request, handler: Handler) -> web.StreamResponse:
        request_id = request[REQUEST_ID] = request_id_for(request)
        token = request_id_var.set(request_id)
        try:
            if authenticate is not None:
                authenticate(request)
            response = await handler(request)
        except Exception as exc:  # every failure becomes an error response
            response = failure_response(request, exc)
        finally:
            request_id_var.reset(token)
        if not response.prepared:
            response.headers[HEADER] = request_id
        return response

    return front
