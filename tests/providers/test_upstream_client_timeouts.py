"""`UpstreamClient` timeouts against a real socket: each wait is bounded on its own, time spent
between waits (a slow client) never counts, and a client's cancellation stays a cancellation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from gomodel.config.schema import HTTPConfig, Seconds
from gomodel.core.errors import UpstreamTimeoutError
from gomodel.providers.http import UpstreamClient

pytestmark = pytest.mark.timeout(30)


async def _slow_body(request: web.Request) -> web.StreamResponse:
    """Headers at once, then the body after ``?delay`` seconds."""
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    await asyncio.sleep(float(request.query["delay"]))
    await response.write(b"{}")
    await response.write_eof()
    return response


async def _paced_stream(request: web.Request) -> web.StreamResponse:
    """``?count`` SSE chunks, ``?gap`` seconds apart."""
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for n in range(int(request.query["count"])):
        await asyncio.sleep(float(request.query["gap"]))
        await response.write(f"data: {n}\n\n".encode())
    await response.write_eof()
    return response


WHOLE = b"data: 0\n\ndata: 1\n\n"


async def _whole(request: web.Request) -> web.Response:
    return web.Response(body=WHOLE, content_type="text/event-stream")


async def _slow_headers(request: web.Request) -> web.StreamResponse:
    await asyncio.sleep(float(request.query["delay"]))
    return web.json_response({})


@pytest.fixture
async def base_url() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/slow-body", _slow_body)
    app.router.add_get("/stream", _paced_stream)
    app.router.add_get("/slow-headers", _slow_headers)
    app.router.add_get("/whole", _whole)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def _client(**limits: float) -> UpstreamClient:
    config = HTTPConfig(**{name: Seconds(value) for name, value in limits.items()})
    client = UpstreamClient("fake", config)
    await client.start()
    return client


async def test_headers_that_never_come_hit_the_first_byte_timeout(base_url: str) -> None:
    client = await _client(response_header_timeout=0.2)
    with pytest.raises(UpstreamTimeoutError, match="before answering"):
        async with client.open("GET", f"{base_url}/slow-headers?delay=5", {}):
            pass
    await client.aclose()


async def test_a_body_slower_than_the_whole_exchange_limit_times_out(base_url: str) -> None:
    client = await _client(timeout=0.2)
    async with client.open("GET", f"{base_url}/slow-body?delay=5", {}) as response:
        with pytest.raises(UpstreamTimeoutError, match="while sending its response"):
            await response.read()
    await client.aclose()


async def test_idle_limit_applies_per_chunk_not_to_the_whole_stream(base_url: str) -> None:
    # Ten gaps of 0.1 s: a second in all, each gap well under the 0.4 s idle limit.
    client = await _client(stream_idle_timeout=0.4, response_header_timeout=5)
    async with client.open("GET", f"{base_url}/stream?count=10&gap=0.1", {}) as response:
        body = b"".join([chunk async for chunk in response.chunks()])
    assert body.count(b"data:") == 10
    await client.aclose()


async def test_a_stalled_stream_hits_the_idle_limit_even_after_a_long_first_byte_wait(base_url: str) -> None:
    # The first-byte limit is long; the idle limit set after it is short and must still fire on time.
    client = await _client(stream_idle_timeout=0.3, response_header_timeout=60)
    loop = asyncio.get_running_loop()
    async with client.open("GET", f"{base_url}/stream?count=2&gap=3", {}) as response:
        started = loop.time()
        with pytest.raises(UpstreamTimeoutError, match="in the middle of the stream"):
            async for _ in response.chunks():
                pass
    assert loop.time() - started < 2
    await client.aclose()


async def test_time_spent_between_reads_is_not_upstream_idleness(base_url: str) -> None:
    # The caller (a slow client being written to) dawdles 0.5 s per chunk; the upstream never idles
    # longer than 0.05 s, so the 0.3 s idle limit must not fire.
    client = await _client(stream_idle_timeout=0.3)
    chunks = 0
    async with client.open("GET", f"{base_url}/stream?count=3&gap=0.05", {}) as response:
        async for chunk in response.chunks():
            chunks += chunk.count(b"data:")
            await asyncio.sleep(0.5)
    assert chunks == 3
    await client.aclose()


async def test_cancelling_the_caller_is_not_mistaken_for_a_timeout(base_url: str) -> None:
    client = await _client(response_header_timeout=60)

    async def call() -> None:
        async with client.open("GET", f"{base_url}/slow-headers?delay=5", {}):
            pass

    task = asyncio.create_task(call())
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await client.aclose()


async def test_failed_and_finished_exchanges_leave_no_timer_running(base_url: str) -> None:
    client = await _client(response_header_timeout=0.2)
    with pytest.raises(UpstreamTimeoutError):
        async with client.open("GET", f"{base_url}/slow-headers?delay=5", {}):
            pass
    async with client.open("GET", f"{base_url}/stream?count=1&gap=0", {}) as response:
        await response.read()
    ticker = client._ticker  # the timer is what this test is about
    assert ticker is not None
    assert not ticker._watched
    await asyncio.sleep(0.1)  # one more tick, then the timer stops
    assert ticker._handle is None
    await client.aclose()


async def test_at_eof_tells_the_last_read_before_the_iteration_ends(base_url: str) -> None:
    client = await _client(stream_idle_timeout=5, response_header_timeout=5)
    async with client.open("GET", f"{base_url}/stream?count=3&gap=0.05", {}) as paced:
        seen = [(chunk, paced.at_eof()) async for chunk in paced.chunks()]
        ended = paced.at_eof()
    async with client.open("GET", f"{base_url}/whole", {}) as whole:
        assert not whole.at_eof()
        read_whole = [(chunk, whole.at_eof()) async for chunk in whole.chunks()]
    await client.aclose()

    assert b"".join(chunk for chunk, _ in seen).count(b"data:") == 3
    # Only the last read can be the end: the terminating chunk may come with it or just after.
    assert not any(at_eof for _, at_eof in seen[:-1])
    assert ended
    assert read_whole == [(WHOLE, True)]  # a body that came in one read ends with that read
