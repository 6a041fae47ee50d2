"""An SSE response that implements the gateway's `StreamSink`: headers sent with the first bytes."""

from __future__ import annotations

from aiohttp import web

from gomodel.observability.logging import request_id_var
from gomodel.server.front.request_id import HEADER

__all__ = ["SSEResponse"]

_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    # Reverse proxies (nginx) would otherwise hold events back to fill their buffers.
    "X-Accel-Buffering": "no",
}


class _EventStream(web.StreamResponse):
    # The headers wait for the stream's first bytes and leave in the same send, as they do for
    # aiohttp's own `web.Response`: one write, and one wake-up of the client, less per stream.
    # (A private switch: should aiohttp drop it, headers go out at once again, as before.)
    _send_headers_immediately = False


class SSEResponse:
    """Made for every request that may stream; the response object itself only once it does."""

    __slots__ = ("_request", "_response")

    def __init__(self, request: web.Request) -> None:
        self._request = request
        self._response: web.StreamResponse | None = None

    def _open(self) -> web.StreamResponse:
        response = self._response = _EventStream(
            status=200, headers={**_HEADERS, HEADER: request_id_var.get()}
        )
        return response

    async def start(self) -> None:
        await (self._response or self._open()).prepare(self._request)

    async def write(self, data: bytes) -> None:
        # Awaiting each write is the backpressure: a slow client slows the upstream read, nothing piles up.
        response = self._response
        if response is None:
            raise RuntimeError("write() before start()")
        await response.write(data)

    async def close(self, data: bytes) -> None:
        # The last bytes with the closing chunk: one write (and one wake-up of the client) less a stream.
        response = self._response
        if response is None:
            raise RuntimeError("close() before start()")
        await response.write_eof(data)

    async def finish(self) -> web.StreamResponse:
        response = self._response or self._open()
        # Every event was written; a client that left before the closing chunk needs telling nothing.
        # try/except rather than contextlib.suppress: two Python calls less on every stream.
        try:  # noqa: SIM105
            await response.write_eof()
        except ConnectionResetError:
            pass
        return response
