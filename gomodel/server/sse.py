"""An SSE response that implements the gateway's `StreamSink`: headers on first use, awaited writes."""

from __future__ import annotations

import contextlib

from aiohttp import web

__all__ = ["SSEResponse"]

_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    # Reverse proxies (nginx) would otherwise hold events back to fill their buffers.
    "X-Accel-Buffering": "no",
}


class SSEResponse:
    __slots__ = ("_request", "response")

    def __init__(self, request: web.Request) -> None:
        self._request = request
        self.response = web.StreamResponse(status=200, headers=_HEADERS)

    @property
    def started(self) -> bool:
        return self.response.prepared

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
