"""Give every request an id (the client's ``X-Request-Id`` if sane) for responses and log lines."""

from __future__ import annotations

import re
import uuid

from aiohttp import web
from aiohttp.typedefs import Handler

from gomodel.observability.logging import request_id_var
from gomodel.server.keys import REQUEST_ID

__all__ = ["add_request_id_header", "request_id_middleware"]

HEADER = "X-Request-Id"
_SANE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


@web.middleware
async def request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    given = request.headers.get(HEADER)
    request_id = given if given and _SANE.match(given) else uuid.uuid4().hex
    request[REQUEST_ID] = request_id
    token = request_id_var.set(request_id)
    try:
        return await handler(request)
    finally:
        request_id_var.reset(token)


async def add_request_id_header(request: web.BaseRequest, response: web.StreamResponse) -> None:
    """``on_response_prepare`` hook: also reaches streamed responses, whose headers go out early."""
    request_id = request.get(REQUEST_ID)
    if request_id:
        response.headers[HEADER] = request_id
