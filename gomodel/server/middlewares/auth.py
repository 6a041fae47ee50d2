"""Master-key authentication for API routes, compared in constant time.

``Authorization: Bearer <key>`` (OpenAI SDKs) or ``x-api-key: <key>`` (Anthropic SDKs, Claude Code).
"""

from __future__ import annotations

import hmac

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from gomodel.core.errors import AuthenticationError

__all__ = ["master_key_middleware"]


def master_key_middleware(master_key: str, protected_prefix: str) -> Middleware:
    """Requests under ``protected_prefix`` need the key; health probes and the like do not."""
    expected = master_key.encode()

    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(protected_prefix):
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
        return await handler(request)

    return authenticate
