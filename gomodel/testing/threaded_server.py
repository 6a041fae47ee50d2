"""Run an aiohttp application on its own uvloop event loop in a daemon thread.

Synchronous test code (the sync ``openai`` SDK, ``requests``, plain sockets) cannot
share the test's event loop with a server, so this helper gives the server a loop of
its own and exposes blocking ``start``/``stop`` plus ``call`` for running coroutines
on that loop from the calling thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Coroutine
from types import TracebackType
from typing import Any, TypeVar

import uvloop
from aiohttp import web

__all__ = ["ThreadedServer"]

T = TypeVar("T")

_START_TIMEOUT = 30.0


class ThreadedServer:
    """An aiohttp server listening on a loopback port, driven by a background thread."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._host = "127.0.0.1"
        self._port: int | None = None

    def start(
        self,
        app: web.Application,
        host: str = "127.0.0.1",
        port: int = 0,
        **runner_kwargs: Any,
    ) -> None:
        """Serve ``app`` on ``host:port`` (0 picks a free port); returns once listening."""
        if self._thread is not None:
            raise RuntimeError("ThreadedServer is already started")
        loop = uvloop.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []
        thread = threading.Thread(
            target=self._serve,
            kwargs={
                "loop": loop,
                "listen": self._listen(app, host, port, runner_kwargs),
                "ready": ready,
                "failure": failure,
            },
            name=f"ThreadedServer-{host}:{port}",
            daemon=True,
        )
        self._loop, self._thread, self._host = loop, thread, host
        thread.start()
        if not ready.wait(_START_TIMEOUT):
            raise TimeoutError(f"server did not start listening within {_START_TIMEOUT}s")
        if failure:
            thread.join()
            self._loop = self._thread = None
            raise failure[0]

    def _serve(
        self,
        *,
        loop: asyncio.AbstractEventLoop,
        listen: Coroutine[Any, Any, None],
        ready: threading.Event,
        failure: list[BaseException],
    ) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(listen)
        except BaseException as exc:  # handed to the starting thread, which re-raises it
            loop.close()
            failure.append(exc)
            ready.set()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            self._drain(loop)

    async def _listen(
        self, app: web.Application, host: str, port: int, runner_kwargs: dict[str, Any]
    ) -> None:
        runner = web.AppRunner(app, **runner_kwargs)
        await runner.setup()
        try:
            site = web.TCPSite(runner, host, port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    @staticmethod
    def _drain(loop: asyncio.AbstractEventLoop) -> None:
        # Tasks still pending after cleanup (e.g. a client's stray connection) would
        # otherwise warn "Task was destroyed but it is pending" at interpreter exit.
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("ThreadedServer is not started")
        return self._port

    @property
    def base_url(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError("ThreadedServer is not started")
        return self._loop

    def call(self, coro_factory: Callable[[], Awaitable[T]], timeout: float | None = None) -> T:
        """Run ``coro_factory()`` on the server loop and block for its result."""

        # The factory runs inside the loop thread so it may touch loop-bound objects.
        async def invoke() -> T:
            return await coro_factory()

        return asyncio.run_coroutine_threadsafe(invoke(), self.loop).result(timeout)

    def stop(self, timeout: float = 10) -> None:
        """Clean up the runner (closing connections) and join the thread; idempotent."""
        loop, thread, runner = self._loop, self._thread, self._runner
        if loop is None or thread is None:
            return
        try:
            if runner is not None:
                asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)
            self._loop = self._thread = self._runner = None
            self._port = None

    def __enter__(self) -> ThreadedServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
