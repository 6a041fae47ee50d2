"""`SSEResponse`: the headers leave with the stream's first bytes, and the end with its last ones."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from gomodel.server.sse import SSEResponse

REQUEST = b"POST /s HTTP/1.1\r\nHost: gateway\r\nContent-Length: 0\r\n\r\n"


async def test_the_headers_wait_for_the_first_bytes_and_leave_with_them(
    aiohttp_server: Callable[..., Awaitable[Any]],
) -> None:
    first_event, last_event = asyncio.Event(), asyncio.Event()

    async def handler(request: web.Request) -> web.StreamResponse:
        stream = SSEResponse(request)
        await stream.start()
        await first_event.wait()
        await stream.write(b"data: 1\n\n")
        await last_event.wait()
        await stream.close(b"data: 2\n\n")
        return await stream.finish()

    app = web.Application()
    app.router.add_post("/s", handler)
    server = await aiohttp_server(app)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(REQUEST)

    with pytest.raises(TimeoutError):  # started, but nothing to say yet: nothing sent
        await asyncio.wait_for(reader.read(1), 0.2)
    first_event.set()
    first = await asyncio.wait_for(reader.read(65536), 5)
    last_event.set()
    rest = await asyncio.wait_for(reader.read(65536), 5)
    writer.close()

    assert first.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Content-Type: text/event-stream" in first
    assert first.endswith(b"\r\n\r\n9\r\ndata: 1\n\n\r\n")  # headers and the first event in one send
    assert rest == b"9\r\ndata: 2\n\n\r\n0\r\n\r\n"  # the last event and the end in one send
