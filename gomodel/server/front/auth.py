"""Master-key authentication for API routes, compared in constant time.

``Authorization: Bearer <key>`` (OpenAI SDKs) or ``x-api-key: <key>`` (Anthropic SDKs, Claude Code).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from aiohttp import web

from gomodel.core.errors import AuthenticationError

__all__ = ["master_key_check"]


def master_key_check(master_key: str, protected_prefix: str) -> Callable[[web.Request], None]:
    """A check that raises `AuthenticationError` for requests under ``protected_prefix`` without the
    key; health probes and the like pass."""
    expected = master_key.encode()

    def authenticate(request: web.Request) -> None:
        if not request.path.startswith(protected_prefix):
            return
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if not header:
            token, scheme = request.headers.get("x-api-key", ""), "bearer"
        if not token:
            raise AuthenticationError(
                "Missing API key: send 'Authorization: Bearer <key>' or 'x-api-key: <key>'.",
                code="missing_api_key",
            )
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected):
            raise AuthenticationError("Invalid API key.")

    return authenticate
