"""Master-key authentication for API routes, compared in constant time.

``Authorization: Bearer <key>`` (OpenAI SDKs) or ``x-api-key: <key>`` (Anthropic SDKs, Claude Code).
Which routes need the key is decided once, when routes are added (`PROTECTED_PREFIX`), not per request.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping

from gomodel.core.errors import AuthenticationError

__all__ = ["PROTECTED_PREFIX", "Authenticate", "master_key_check"]

#: Routes under this path (after the server's prefix) need the key; health probes and the like do not.
PROTECTED_PREFIX = "/v1/"

#: Raises `AuthenticationError` unless the request headers carry the key.
Authenticate = Callable[[Mapping[str, str]], None]


def master_key_check(master_key: str) -> Authenticate:
    expected = master_key.encode()

    def authenticate(headers: Mapping[str, str]) -> None:
        header = headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if not header:
            token, scheme = headers.get("x-api-key", ""), "bearer"
        if not token:
            raise AuthenticationError(
                "Missing API key: send 'Authorization: Bearer <key>' or 'x-api-key: <key>'.",
                code="missing_api_key",
            )
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected):
            raise AuthenticationError("Invalid API key.")

    return authenticate
