"""An SSE response that implements the gateway's `StreamSink`: headers on first use, awaited writes."""

from __future__ import annotations

import contextlib

from aiohttp import web

from gomodel.server.front.request_id import HEADER
from gomodel.server.keys import REQUEST_ID

__all__ = ["SSEResponse"]

_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    # Reverse proxies (nginx) would otherwise hold events back to fill their buffers.
    "X-Accel-Buffering": "no",
}


class SSEResponse:
    """Made for every request that may stream; the response object itself only once it does."""

    __slots__ = ("_request", "_response")

    def __init__(self, request: web.Request) -> None:
        self._request = request
        self._response: web.StreamResponse | None = None

    @property
    def response(self) -> web.StreamResponse:
        if self._response is None:
            self._response = web.StreamResponse(status=200, headers=_HEADERS)
            request_id = self._request.get(REQUEST_ID)
            if request_id:
                self._response.headers[HEADER] = request_id
        return self._response

    @property
    def started(self) -> bool:
        return self._response is not None and self._response.prepared

    async def start(self) -> None:
        await self.response.prepare(self._request)

    async def write(self, data: bytes) -> None:
        # Awaiting each write is the backpressure: a slow client slows the upstream read, nothing piles up.
        await self.response.write(data)

    async def finish(self) -> web.StreamResponse:
        # Every event was written; a client that left before the closing chunk needs telling nothing.
        with contextlib.suppress(ConnectionResetError):
            await self.response.write_eof()
        return self.response
