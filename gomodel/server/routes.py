"""The whole route table, in one place."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from gomodel.config.schema import ServerConfig
from gomodel.server.front.auth import PROTECTED_PREFIX, Authenticate, master_key_check
from gomodel.server.front.guard import guard
from gomodel.server.handlers import Handlers

__all__ = ["add_routes"]


def prefix(server: ServerConfig) -> str:
    """``BASE_PATH`` without its trailing slash ("" when mounted at the root)."""
    base = "/" + server.base_path.strip("/")
    return "" if base == "/" else base


def add_routes(app: web.Application, server: ServerConfig, handlers: Handlers) -> None:
    """Every route behind the guard, plus a catch-all so that unknown paths (404) and wrong methods
    (405) are answered by the guard too, in the API's error shape and after auth."""
    authenticate = master_key_check(server.master_key) if server.master_key else None
    base = prefix(server)
    protected = base + PROTECTED_PREFIX
    allowed: dict[str, set[str]] = {}
    for method, path, handler in _routes(handlers):
        allowed.setdefault(base + path, set()).update({method, "HEAD"} if method == "GET" else {method})
        # add_get also answers HEAD, as load balancers' probes may use it.
        add = app.router.add_get if method == "GET" else app.router.add_post
        add(base + path, guard(handler, authenticate if (base + path).startswith(protected) else None))
    app.router.add_route("*", "/{tail:.*}", guard(_unmatched(allowed, authenticate, protected), None))


def _routes(handlers: Handlers) -> tuple[tuple[str, str, Handler], ...]:
    return (
        ("POST", "/v1/chat/completions", handlers.chat_completions),
        ("POST", "/v1/responses", handlers.responses),
        ("POST", "/v1/messages", handlers.messages),
        ("POST", "/v1/messages/count_tokens", handlers.messages_count_tokens),
        ("POST", "/v1/embeddings", handlers.embeddings),
        ("POST", "/v1/audio/speech", handlers.audio_speech),
        ("POST", "/v1/audio/transcriptions", handlers.audio_transcriptions),
        ("GET", "/v1/models", handlers.list_models),
        ("GET", "/health", handlers.health),
        ("GET", "/health/ready", handlers.ready),
    )


def _unmatched(allowed: dict[str, set[str]], authenticate: Authenticate | None, protected: str) -> Handler:
    async def unmatched(request: web.Request) -> web.StreamResponse:
        # Without the key, paths under the API answer 401 whether they exist or not.
        if authenticate is not None and request.path.startswith(protected):
            authenticate(request.headers)
        methods = allowed.get(request.path)
        if methods:
            raise web.HTTPMethodNotAllowed(request.method, methods)
        raise web.HTTPNotFound

    return unmatched
