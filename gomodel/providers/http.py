"""The only network I/O on the request path: one pooled aiohttp session per provider.

Timeouts are separate on purpose: connect, first byte (a model may think a long time before its
headers), idle between streamed chunks, and the whole exchange for non-streaming calls. aiohttp's own
``sock_read`` would also bound the wait for headers, so idle time is enforced per read instead.
Transport failures become `gomodel.core.errors` here and nowhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
import urllib.request
from collections.abc import AsyncIterator, Iterator, Mapping
from urllib.parse import urlsplit

import aiohttp
from multidict import CIMultiDictProxy

from gomodel.config.schema import HTTPConfig
from gomodel.core.errors import UpstreamError, UpstreamTimeoutError

__all__ = ["UpstreamClient", "UpstreamResponse"]


@contextlib.contextmanager
def _mapped_errors(provider: str, phase: str, timeout: float) -> Iterator[None]:
    try:
        yield
    except TimeoutError:
        raise UpstreamTimeoutError(f"provider {provider} timed out {phase} (after {timeout:g}s)") from None
    except aiohttp.ConnectionTimeoutError:
        raise UpstreamTimeoutError(f"provider {provider} timed out while connecting") from None
    except aiohttp.ClientConnectorError as exc:
        raise UpstreamError(
            f"could not connect to provider {provider}: {exc.os_error.strerror or exc.os_error}",
            code="upstream_unreachable",
        ) from None
    except (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
        raise UpstreamError(
            f"connection to provider {provider} was lost {phase}", code="upstream_connection_lost"
        ) from None
    except aiohttp.ClientError as exc:
        raise UpstreamError(f"provider {provider} request failed {phase}: {type(exc).__name__}") from None


class UpstreamResponse:
    """An open upstream response. Read it with `read()` or `chunks()`; the client closes it."""

    __slots__ = ("_idle", "_provider", "_response", "_total")

    def __init__(self, response: aiohttp.ClientResponse, provider: str, idle: float, total: float) -> None:
        self._response = response
        self._provider = provider
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
        with _mapped_errors(self._provider, "while sending its response", self._total):
            async with asyncio.timeout(self._total):
                return await self._response.read()

    async def chunks(self) -> AsyncIterator[bytes]:
        """Body bytes as they arrive; each wait is bounded by the idle timeout."""
        content = self._response.content
        while True:
            with _mapped_errors(self._provider, "in the middle of the stream", self._idle):
                async with asyncio.timeout(self._idle):
                    chunk = await content.readany()
            if not chunk:
                return
            yield chunk


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

    @contextlib.asynccontextmanager
    async def open(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None = None,
        *,
        first_byte_timeout: float | None = None,
    ) -> AsyncIterator[UpstreamResponse]:
        """Send a request and yield the response once its headers are in.

        On exit the connection is returned to the pool if the body was read, else closed, so an
        abandoned stream (client gone) stops the upstream generation at once.
        """
        if self._session is None:
            raise UpstreamError(f"provider {self._provider} is not started", code="provider_not_started")
        wait = first_byte_timeout or self._config.response_header_timeout
        proxy = self._proxy(url) if self._proxies else None
        with _mapped_errors(self._provider, "before answering", wait):
            async with asyncio.timeout(wait):
                response = await self._session.request(method, url, headers=headers, data=body, proxy=proxy)
        try:
            yield UpstreamResponse(
                response, self._provider, self._config.stream_idle_timeout, self._config.timeout
            )
        finally:
            if response.content.is_eof():
                response.release()
            else:
                response.close()
