"""The wrapper around every route's handler: request id, then master-key auth, with every failure
rendered as an error in the endpoint's dialect.

A wrapper per route, not aiohttp middleware: with any middleware at all aiohttp adds its own
``current_app`` layer, and every layer is one more coroutine frame that each resumption of a request's
task passes through (3 to 5 times per relayed request). The ``X-Request-Id`` response header is set
here on error responses, by the handlers' response helpers when they build theirs (two property
calls and a header insert less per request than setting it afterwards) and by `SSEResponse` on
streams.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from aiohttp.typedefs import Handler

from gomodel.observability.logging import request_id_var
from gomodel.server.front.errors import failure_response
from gomodel.server.front.request_id import HEADER, request_id_for
from gomodel.server.keys import REQUEST_ID

__all__ = ["Guard", "guard"]

Guard = Callable[[Handler], Handler]


def guard(authenticate: Callable[[web.Request], None] | None) -> Guard:
    """Wraps handlers; ``authenticate`` raises for requests that lack the key (None: no key set)."""

    def wrap(handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            request_id = request[REQUEST_ID] = request_id_for(request)
            token = request_id_var.set(request_id)
            try:
                if authenticate is not None:
                    authenticate(request)
                return await handler(request)
            except Exception as exc:  # every failure becomes an error response
                response = failure_response(request, exc)
                response.headers[HEADER] = request_id
                return response
            finally:
                request_id_var.reset(token)

        guarded.__name__ = handler.__name__
        return guarded

    return wrap
