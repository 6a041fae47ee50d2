"""What the fake upstreams share: request recording, error guards and running in a thread.

`FakeServer` is the base of the fakes whose contract is the same (``serve(port, host)``,
``origin``, ``base_url`` = origin plus ``path_prefix``, ``requests``); a fake whose contract
differs (FakeBedrock) uses only the helpers below it.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any, Final, Protocol, Self, TypeVar

import attrs
from aiohttp import web

from gomodel.testing.fake_upstream_wire import parse_json
from gomodel.testing.threaded_server import ThreadedServer

__all__ = [
    "MAX_BODY",
    "SHUTDOWN_TIMEOUT",
    "SSE_HEADERS",
    "ErrorReply",
    "FakeServer",
    "Handler",
    "RecordedRequest",
    "error_response",
    "guard",
    "json_response",
    "raw_headers",
    "read_json",
    "runner_kwargs",
]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
E = TypeVar("E", bound=Exception)

# Stalled handlers only end when their client leaves; don't let them hold up shutdown.
SHUTDOWN_TIMEOUT: Final = 0.5
# aiohttp's 1 MiB default would reject long prompts the real APIs take.
MAX_BODY: Final = 64 * 1024 * 1024
SSE_HEADERS: Final = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}


def runner_kwargs() -> dict[str, Any]:
    """AppRunner options the fakes rely on."""
    # handler_cancellation makes a client disconnect cancel the handler at once, which is
    # how a stalled handler ends and stream lifecycles record "client_disconnected" promptly.
    return {"handler_cancellation": True, "access_log": None, "shutdown_timeout": SHUTDOWN_TIMEOUT}


def raw_headers(request: web.Request) -> dict[str, str]:
    """The request's headers, names in the case the client sent them in."""
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in request.raw_headers}


async def read_json(request: web.Request) -> tuple[bytes, Any]:
    """The request body and its JSON; None when empty, invalid (or JSON ``null``)."""
    body = await request.read()
    return body, parse_json(body) if body else None


def json_response(body: bytes, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(body=body, status=status, headers=headers, content_type="application/json")


class ErrorReply(Protocol):
    """An exception that carries a whole JSON error reply."""

    status: int
    body: bytes
    headers: Mapping[str, str]


def error_response(error: ErrorReply) -> web.Response:
    return json_response(error.body, error.status, error.headers)


def guard(handler: Handler, errors: type[E], reply: Callable[[E], web.StreamResponse]) -> Handler:
    """``handler``, answering the error replies it raises (``errors``) with ``reply(error)``."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except errors as error:
            return reply(error)

    return guarded


@attrs.frozen
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    # Header names keep the case the client sent them in.
    headers: dict[str, str]
    body: bytes
    json: Any

    @classmethod
    def capture(cls, request: web.Request, body: bytes, parsed: Any) -> RecordedRequest:
        """Record ``request``, whose body was ``body`` (``parsed`` as JSON)."""
        return cls(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=raw_headers(request),
            body=body,
            json=parsed,
        )


class FakeServer(abc.ABC):
    """A fake served from a background thread with ``with fake.serve() as fake:``."""

    def __init__(self, *, path_prefix: str = "", record: bool = True) -> None:
        self.path_prefix = path_prefix.rstrip("/")
        #: Keep requests in memory (off for long standalone runs).
        self.record = record
        self.requests: list[RecordedRequest] = []
        self._origin: str | None = None

    @abc.abstractmethod
    def make_app(self) -> web.Application:
        """A new application serving this fake (an app can only be run once)."""

    @staticmethod
    def runner_kwargs() -> dict[str, Any]:
        """AppRunner options the fake relies on, for callers that run ``make_app()``."""
        return runner_kwargs()

    def run_in_thread(self, port: int = 0, host: str = "127.0.0.1") -> ThreadedServer:
        """Serve from a background thread (for sync callers); stop the returned server."""
        server = ThreadedServer()
        server.start(self.make_app(), host, port, **self.runner_kwargs())
        self._origin = server.base_url
        return server

    @contextlib.contextmanager
    def serve(self, port: int = 0, host: str = "127.0.0.1") -> Iterator[Self]:
        """``with Fake().serve() as fake:`` runs it in a background thread for the block."""
        server = self.run_in_thread(port, host)
        try:
            yield self
        finally:
            server.stop()
            self._origin = None

    @property
    def origin(self) -> str:
        """``http://host:port`` of the running server."""
        if self._origin is None:
            raise RuntimeError(f"{type(self).__name__} is not running")
        return self._origin

    @property
    def base_url(self) -> str:
        """The origin plus the path prefix: what a client of the API takes as base URL."""
        return self.origin + self.path_prefix

    async def _capture(self, request: web.Request) -> tuple[bytes, Any]:
        """Read the request and, if recording, record it; returns the body and its JSON."""
        body, parsed = await read_json(request)
        if self.record:
            self.requests.append(RecordedRequest.capture(request, body, parsed))
        return body, parsed
