"""The only network I/O on the request path: one pooled aiohttp session per provider.

Timeouts are separate on purpose: connect, first byte (a model may think a long time before its
headers), idle between streamed chunks, and the whole exchange for non-streaming calls. aiohttp's own
``sock_read`` would also bound the wait for headers, so idle time is enforced per read instead.
Transport failures become `gomodel.core.errors` here and nowhere else.
"""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Mapping
from urllib.parse import urlsplit

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy

from gomodel.config.schema import HTTPConfig
from gomodel.core.errors import UpstreamError, UpstreamTimeoutError

__all__ = ["UpstreamClient", "UpstreamResponse"]

_NO_HEADERS: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict())


def _mapped_error(exc: aiohttp.ClientError, provider: str, phase: str) -> UpstreamError:
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return UpstreamTimeoutError(f"provider {provider} timed out while connecting")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return UpstreamError(
            f"could not connect to provider {provider}: {exc.os_error.strerror or exc.os_error}",
            code="upstream_unreachable",
        )
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ServerDisconnectedError | aiohttp.ClientOSError):
        return UpstreamError(
            f"connection to provider {provider} was lost {phase}", code="upstream_connection_lost"
        )
    return UpstreamError(f"provider {provider} request failed {phase}: {type(exc).__name__}")


class _Ticker:
    """One timer for all of a client's upstream waits: every ``resolution`` seconds, while any
    exchange is open, it expires the waits that outlasted their limit.

    `asyncio.timeout` costs a `Timeout` and a timer per wait (about 10 us each here; 50 us of a relayed
    non-streaming request in the benchmark profile), and even one timer per exchange was 1.3% of a
    request's instructions; a wait now only notes when it began. A wait expires between its limit and
    its limit plus ``resolution``.
    """

    __slots__ = ("_handle", "_resolution", "_watched", "clock", "loop")

    def __init__(self, resolution: float) -> None:
        self.loop = asyncio.get_running_loop()
        self._resolution = resolution
        self._watched: set[UpstreamResponse] = set()
        self._handle: asyncio.TimerHandle | None = None
        self.clock = self.loop.time

    def watch(self, exchange: UpstreamResponse) -> None:
        self._watched.add(exchange)
        if self._handle is None:
            self._handle = self.loop.call_later(self._resolution, self._tick)

    def forget(self, exchange: UpstreamResponse) -> None:
        self._watched.discard(exchange)

    def _tick(self) -> None:
        now = self.loop.time()
        for exchange in [e for e in self._watched if e.armed and now - e.since >= e.limit]:
            exchange.fire()
        # Idle clients keep no timer running.
        self._handle = self.loop.call_later(self._resolution, self._tick) if self._watched else None

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


class UpstreamResponse:
    """One upstream exchange: ``async with client.open(...) as response`` sends the request and yields
    this object once the headers are in; read it with `read()` or `chunks()`. On exit the connection
    goes back to the pool if the body was read, else it is closed, so an abandoned stream (client
    gone) stops the upstream generation at once.

    It is its own watchdog too: `_Ticker` cancels the exchange's task when one upstream wait outlasts
    its limit. Time the caller spends between waits (writing to a slow client) is never counted,
    because only an armed wait can expire. One object per exchange rather than three (exchange,
    response, watchdog) took 9 Python calls off every relayed request.
    """

    __slots__ = (
        "_clock",
        "_limits",
        "_provider",
        "_request",
        "_response",
        "_session",
        "_task",
        "_ticker",
        "armed",
        "fired",
        "headers",
        "limit",
        "since",
        "status",
    )

    def __init__(
        self,
        session: aiohttp.ClientSession,
        ticker: _Ticker,
        provider: str,
        request: tuple[str, str, Mapping[str, str], bytes | None, str | None],
        limits: tuple[float, float, float],
    ) -> None:
        self._session = session
        self._ticker = ticker
        self._clock = ticker.clock
        self._provider = provider
        #: method, url, headers, body, proxy
        self._request = request
        #: first byte, idle between chunks, whole non-streamed read
        self._limits = limits
        self._response: aiohttp.ClientResponse | None = None
        self._task: asyncio.Task[object] | None = None
        self.since = 0.0
        self.limit = 0.0
        self.armed = False
        self.fired = False
        self.status = 0
        self.headers: CIMultiDictProxy[str] = _NO_HEADERS

    @property
    def content_type(self) -> str:
        response = self._response
        return response.content_type if response is not None else ""

    def fire(self) -> None:
        self.fired = True
        if self._task is not None:
            self._task.cancel()

    def _timed_out(self, phase: str, limit: float) -> UpstreamTimeoutError | None:
        """After a `CancelledError` in an armed wait: the error to raise if it was the ticker's, None if
        it was the client's (which stays a cancellation)."""
        if self.fired and self._task is not None and self._task.uncancel() == 0:
            return UpstreamTimeoutError(f"provider {self._provider} timed out {phase} (after {limit:g}s)")
        return None

    async def __aenter__(self) -> UpstreamResponse:
        # With the loop given, no get_running_loop(): that one asks the kernel for the pid each time.
        task = asyncio.current_task(self._ticker.loop)
        if task is None:
            raise RuntimeError("upstream calls run inside a task")
        self._task = task
        provider = self._provider
        method, url, headers, body, proxy = self._request
        wait = self._limits[0]
        self._ticker.watch(self)
        self.since, self.limit, self.armed = self._clock(), wait, True
        response = None
        try:
            response = await self._session.request(method, url, headers=headers, data=body, proxy=proxy)
        except aiohttp.ClientError as exc:
            raise _mapped_error(exc, provider, "before answering") from None
        except asyncio.CancelledError:
            timeout = self._timed_out("before answering", wait)
            if timeout is None:
                raise
            raise timeout from None
        finally:
            self.armed = False
            if response is None:
                self._ticker.forget(self)  # no __aexit__ follows a failed __aenter__
        self._response = response
        self.status = response.status
        self.headers = response.headers
        return self

    async def __aexit__(self, *_: object) -> None:
        self._ticker.forget(self)
        response = self._response
        if response is not None:
            if response.content.is_eof():
                response.release()
            else:
                response.close()

    async def read(self) -> bytes:
        response = self._response
        if response is None:
            raise RuntimeError("read() before the exchange was entered")
        total = self._limits[2]
        self.since, self.limit, self.armed = self._clock(), total, True
        try:
            return await response.read()
        except aiohttp.ClientError as exc:
            raise _mapped_error(exc, self._provider, "while sending its response") from None
        except asyncio.CancelledError:
            timeout = self._timed_out("while sending its response", total)
            if timeout is None:
                raise
            raise timeout from None
        finally:
            self.armed = False

    def at_eof(self) -> bool:
        """Whether every byte of the body has been read: the next read would end the iteration."""
        response = self._response
        return response is not None and response.content.at_eof()

    def chunks(self) -> UpstreamResponse:
        """``async for chunk in response.chunks()``: body bytes as they arrive, each wait bounded by
        the idle timeout. The response is its own iterator: an async generator here cost a hook call
        and a weak-set entry per stream and an extra object per chunk."""
        if self._response is None:
            raise RuntimeError("chunks() before the exchange was entered")
        return self

    def __aiter__(self) -> UpstreamResponse:
        return self

    async def __anext__(self) -> bytes:
        response = self._response
        if response is None:
            raise RuntimeError("chunks() before the exchange was entered")
        idle = self._limits[1]
        self.since, self.limit, self.armed = self._clock(), idle, True
        try:
            chunk = await response.content.readany()
        except aiohttp.ClientError as exc:
            raise _mapped_error(exc, self._provider, "in the middle of the stream") from None
        except asyncio.CancelledError:
            timeout = self._timed_out("in the middle of the stream", idle)
            if timeout is None:
                raise
            raise timeout from None
        finally:
            self.armed = False
        if not chunk:
            raise StopAsyncIteration
        return chunk


class UpstreamClient:
    """One provider's connection pool. `start()` inside the running loop, `aclose()` at shutdown."""

    def __init__(self, provider: str, config: HTTPConfig) -> None:
        self._provider = provider
        self._config = config
        self._session: aiohttp.ClientSession | None = None
        self._ticker: _Ticker | None = None
        self._proxies: dict[str, str] = {}
        self._proxy_by_host: dict[str, str | None] = {}

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(
            limit=self._config.max_connections_per_provider,
            limit_per_host=0,
            ttl_dns_cache=300,
            keepalive_timeout=self._config.keepalive_timeout,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=self._config.connect_timeout),
            raise_for_status=False,
            # trust_env re-reads ~/.netrc and the proxy variables on every request, in a thread: a third
            # of the gateway's CPU in the benchmark (816 -> 1,353 req/s without it). Proxies are read once.
            trust_env=False,
        )
        self._proxies = urllib.request.getproxies()
        self._proxy_by_host = {}
        config = self._config
        # A tenth of the shortest limit, at most a second: a 300 s idle limit fires within 301 s.
        shortest = min(config.response_header_timeout, config.stream_idle_timeout, config.timeout)
        self._ticker = _Ticker(min(1.0, max(0.01, shortest / 10)))

    def _proxy(self, url: str) -> str | None:
        """``HTTP(S)_PROXY`` / ``NO_PROXY`` as read at start, decided once per upstream host."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        if host not in self._proxy_by_host:
            bypass = urllib.request.proxy_bypass(host) if "no" in self._proxies else False
            self._proxy_by_host[host] = None if bypass else self._proxies.get(parts.scheme)
        return self._proxy_by_host[host]

    async def aclose(self) -> None:
        if self._ticker is not None:
            self._ticker.close()
            self._ticker = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    def open(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None = None,
        *,
        first_byte_timeout: float | None = None,
    ) -> UpstreamResponse:
        """A request to send: ``async with`` sends it and yields the response once its headers are in."""
        if self._session is None or self._ticker is None:
            raise UpstreamError(f"provider {self._provider} is not started", code="provider_not_started")
        proxy = self._proxy(url) if self._proxies else None
        config = self._config
        limits = (
            first_byte_timeout or config.response_header_timeout,
            config.stream_idle_timeout,
            config.timeout,
        )
        return UpstreamResponse(
            self._session, self._ticker, self._provider, (method, url, headers, body, proxy), limits
        )
