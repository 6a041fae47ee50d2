"""The only network I/O on the request path: one pooled aiohttp session per provider.

Timeouts are separate on purpose: connect, first byte (a model may think a long time before its
headers), idle between streamed chunks, and the whole exchange for non-streaming calls. aiohttp's own
``sock_read`` would also bound the wait for headers, so idle time is enforced per read instead.
Transport failures become `gomodel.core.errors` here and nowhere else.
"""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import AsyncIterator, Mapping
from urllib.parse import urlsplit

import aiohttp
from multidict import CIMultiDictProxy

from gomodel.config.schema import HTTPConfig
from gomodel.core.errors import UpstreamError, UpstreamTimeoutError

__all__ = ["UpstreamClient", "UpstreamResponse"]


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


class _Watchdog:
    """Cancels the exchange's task when one upstream wait outlasts its limit.

    `asyncio.timeout` costs a `Timeout` and a timer per wait (about 10 us each here; 50 us of a relayed
    non-streaming request in the benchmark profile). This keeps one timer per exchange: a wait only
    notes when it began, and the timer, when it fires early because the waits moved on, re-arms
    itself for the current wait. Time the caller spends between waits (writing to a slow client) is
    never counted, because only an armed wait can expire.
    """

    __slots__ = ("_due", "_handle", "_limit", "_loop", "_since", "_task", "armed", "fired")

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("upstream calls run inside a task")
        self._task = task
        self._handle: asyncio.TimerHandle | None = None
        self._due = 0.0
        self._since = 0.0
        self._limit = 0.0
        self.armed = False
        self.fired = False

    def arm(self, limit: float) -> None:
        now = self._loop.time()
        self._since, self._limit, self.armed = now, limit, True
        due = now + limit
        if self._handle is None or due < self._due:
            if self._handle is not None:
                self._handle.cancel()
            self._schedule(due)

    def _schedule(self, due: float) -> None:
        self._due = due
        self._handle = self._loop.call_at(due, self._check)

    def _check(self) -> None:
        self._handle = None
        if not self.armed:
            return
        due = self._since + self._limit
        if self._loop.time() < due:
            self._schedule(due)
            return
        self.fired = True
        self._task.cancel()

    def expired(self) -> bool:
        """After a `CancelledError` in an armed wait: was it this watchdog's (not the client's)?"""
        return self.fired and self._task.uncancel() == 0

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


class UpstreamResponse:
    """An open upstream response. Read it with `read()` or `chunks()`; the client closes it."""

    __slots__ = ("_idle", "_provider", "_response", "_total", "_watchdog")

    def __init__(
        self, response: aiohttp.ClientResponse, provider: str, watchdog: _Watchdog, idle: float, total: float
    ) -> None:
        self._response = response
        self._provider = provider
        self._watchdog = watchdog
        self._idle = idle
        self._total = total

    @property
    def status(self) -> int:
        return self._response.status

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        return self._response.headers

    @property
    def content_type(self) -> str:
        return self._response.content_type

    async def read(self) -> bytes:
        watchdog = self._watchdog
        watchdog.arm(self._total)
        try:
            return await self._response.read()
        except aiohttp.ClientError as exc:
            raise _mapped_error(exc, self._provider, "while sending its response") from None
        except asyncio.CancelledError:
            if watchdog.expired():
                raise UpstreamTimeoutError(
                    f"provider {self._provider} timed out while sending its response (after {self._total:g}s)"
                ) from None
            raise
        finally:
            watchdog.armed = False

    async def chunks(self) -> AsyncIterator[bytes]:
        """Body bytes as they arrive; each wait is bounded by the idle timeout."""
        content = self._response.content
        watchdog = self._watchdog
        idle = self._idle
        while True:
            watchdog.arm(idle)
            try:
                chunk = await content.readany()
            except aiohttp.ClientError as exc:
                raise _mapped_error(exc, self._provider, "in the middle of the stream") from None
            except asyncio.CancelledError:
                if watchdog.expired():
                    raise UpstreamTimeoutError(
                        f"provider {self._provider} timed out in the middle of the stream (after {idle:g}s)"
                    ) from None
                raise
            finally:
                watchdog.armed = False
            if not chunk:
                return
            yield chunk


class _Exchange:
    """``async with client.open(...) as response``: the request is sent on enter; on exit the
    connection goes back to the pool if the body was read, else it is closed, so an abandoned stream
    (client gone) stops the upstream generation at once."""

    __slots__ = ("_limits", "_provider", "_request", "_response", "_session", "_watchdog")

    def __init__(
        self,
        session: aiohttp.ClientSession,
        provider: str,
        request: tuple[str, str, Mapping[str, str], bytes | None, str | None],
        limits: tuple[float, float, float],
    ) -> None:
        self._session = session
        self._provider = provider
        #: method, url, headers, body, proxy
        self._request = request
        #: first byte, idle between chunks, whole non-streamed read
        self._limits = limits
        self._response: aiohttp.ClientResponse | None = None
        self._watchdog: _Watchdog | None = None

    async def __aenter__(self) -> UpstreamResponse:
        provider = self._provider
        method, url, headers, body, proxy = self._request
        wait, idle, total = self._limits
        watchdog = self._watchdog = _Watchdog()
        watchdog.arm(wait)
        try:
            response = await self._session.request(method, url, headers=headers, data=body, proxy=proxy)
        except aiohttp.ClientError as exc:
            watchdog.close()
            raise _mapped_error(exc, provider, "before answering") from None
        except asyncio.CancelledError:
            watchdog.close()
            if watchdog.expired():
                raise UpstreamTimeoutError(
                    f"provider {provider} timed out before answering (after {wait:g}s)"
                ) from None
            raise
        finally:
            watchdog.armed = False
        self._response = response
        return UpstreamResponse(response, provider, watchdog, idle, total)

    async def __aexit__(self, *_: object) -> None:
        if self._watchdog is not None:
            self._watchdog.close()
        response = self._response
        if response is not None:
            if response.content.is_eof():
                response.release()
            else:
                response.close()


class UpstreamClient:
    """One provider's connection pool. `start()` inside the running loop, `aclose()` at shutdown."""

    def __init__(self, provider: str, config: HTTPConfig) -> None:
        self._provider = provider
        self._config = config
        self._session: aiohttp.ClientSession | None = None
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

    def _proxy(self, url: str) -> str | None:
        """``HTTP(S)_PROXY`` / ``NO_PROXY`` as read at start, decided once per upstream host."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        if host not in self._proxy_by_host:
            bypass = urllib.request.proxy_bypass(host) if "no" in self._proxies else False
            self._proxy_by_host[host] = None if bypass else self._proxies.get(parts.scheme)
        return self._proxy_by_host[host]

    async def aclose(self) -> None:
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
    ) -> _Exchange:
        """Send a request; ``async with`` yields the response once its headers are in."""
        if self._session is None:
            raise UpstreamError(f"provider {self._provider} is not started", code="provider_not_started")
        proxy = self._proxy(url) if self._proxies else None
        config = self._config
        limits = (
            first_byte_timeout or config.response_header_timeout,
            config.stream_idle_timeout,
            config.timeout,
        )
        return _Exchange(self._session, self._provider, (method, url, headers, body, proxy), limits)
