"""OAuth access tokens from Google Application Default Credentials, for Vertex AI.

The standard ADC chain (``GOOGLE_APPLICATION_CREDENTIALS`` -> a service-account or other credential
file, then gcloud's user credentials, then the metadata server on Google Cloud) is resolved by
google-auth on first use. Loading credentials and refreshing tokens are blocking HTTP calls, so
they run in a worker thread, one at a time under a lock; requests that need a token meanwhile wait
for that one refresh. A token is renewed ``refresh_margin`` seconds before it expires so that no
request leaves with a token about to die in flight.

google-auth reaches the token endpoint through a small standard-library transport, so the ``vertex``
extra needs google-auth alone, not requests or urllib3. Only the Vertex provider imports this module.
"""

from __future__ import annotations

import asyncio
import datetime
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

import attrs

from gomodel.core.errors import UpstreamError

try:
    import google.auth
    import google.auth.exceptions
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError("the vertex provider needs google-auth: pip install 'gomodel[vertex]'") from exc

__all__ = ["CLOUD_PLATFORM_SCOPE", "GoogleTokenSource"]

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
_DEFAULT_LIFETIME = 3600.0
_HTTP_TIMEOUT = 30.0


@attrs.frozen(slots=True)
class _Token:
    value: str
    #: ``time.monotonic()`` after which the token is renewed before use.
    renew_at: float


class GoogleTokenSource:
    """``await token()`` gives a valid bearer token; ``quota_project`` the credentials' billing project."""

    def __init__(
        self,
        provider: str,
        *,
        scopes: tuple[str, ...] = (CLOUD_PLATFORM_SCOPE,),
        refresh_margin: float = 300.0,
    ) -> None:
        self._provider = provider
        self._scopes = scopes
        self._margin = refresh_margin
        self._credentials: Any = None
        self._token: _Token | None = None
        self._lock = asyncio.Lock()
        # A waiter cancelled mid-refresh leaves its thread running; the next refresh waits for it.
        self._thread_lock = threading.Lock()

    @property
    def quota_project(self) -> str | None:
        """The project the credentials bill to, when they name one (``quota_project_id``)."""
        project = getattr(self._credentials, "quota_project_id", None)
        return project if isinstance(project, str) and project else None

    async def token(self) -> str:
        token = self._token
        if token is not None and time.monotonic() < token.renew_at:
            return token.value
        async with self._lock:
            token = self._token
            if token is None or time.monotonic() >= token.renew_at:
                token = self._token = await asyncio.to_thread(self._refresh)
        return token.value

    def _refresh(self) -> _Token:
        """Runs in a worker thread: load the credentials once, then fetch a new access token."""
        with self._thread_lock:
            return self._refresh_locked()

    def _refresh_locked(self) -> _Token:
        try:
            if self._credentials is None:
                self._credentials, _ = google.auth.default(scopes=list(self._scopes))
            self._credentials.refresh(_Request())
        except google.auth.exceptions.DefaultCredentialsError as exc:
            raise UpstreamError(
                f"provider {self._provider} found no Google credentials: {exc}", code="upstream_credentials"
            ) from None
        except google.auth.exceptions.GoogleAuthError as exc:
            raise UpstreamError(
                f"provider {self._provider} could not get a Google access token: {exc}",
                code="upstream_credentials",
            ) from None
        expiry = self._credentials.expiry
        now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)  # google-auth keeps naive UTC
        lifetime = (expiry - now).total_seconds() if expiry is not None else _DEFAULT_LIFETIME
        return _Token(str(self._credentials.token), time.monotonic() + lifetime - self._margin)


class _Response:
    """What google-auth reads from a transport's answer."""

    def __init__(self, status: int, headers: Mapping[str, str], data: bytes) -> None:
        self.status = status
        self.headers = headers
        self.data = data


class _Request:
    """A ``google.auth.transport.Request`` on the standard library (token and metadata calls only)."""

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        **_: Any,
    ) -> _Response:
        request = urllib.request.Request(url, data=body, headers=dict(headers or {}), method=method)
        try:
            with urllib.request.urlopen(request, timeout=timeout or _HTTP_TIMEOUT) as answer:
                return _Response(answer.status, dict(answer.headers), answer.read())
        except urllib.error.HTTPError as exc:
            return _Response(exc.code, dict(exc.headers), exc.read())
        except (OSError, ValueError) as exc:
            raise google.auth.exceptions.TransportError(  # type: ignore[no-untyped-call]
                f"{type(exc).__name__}: {exc}"
            ) from exc
