"""The whole route table and the middleware order, in one place."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Middleware

from gomodel.config.schema import ServerConfig
from gomodel.server import handlers
from gomodel.server.middlewares.auth import master_key_middleware
from gomodel.server.middlewares.errors import error_middleware
from gomodel.server.middlewares.request_id import request_id_middleware

__all__ = ["add_routes", "middlewares"]


def prefix(server: ServerConfig) -> str:
    """``BASE_PATH`` without its trailing slash ("" when mounted at the root)."""
    base = "/" + server.base_path.strip("/")
    return "" if base == "/" else base


def middlewares(server: ServerConfig) -> list[Middleware]:
    """Outermost first: the request id exists before anything logs, errors are rendered before auth runs."""
    chain: list[Middleware] = [request_id_middleware, error_middleware]
    if server.master_key:
        chain.append(master_key_middleware(server.master_key, prefix(server) + "/v1/"))
    return chain


def add_routes(app: web.Application, server: ServerConfig) -> None:
    base = prefix(server)
    app.router.add_post(base + "/v1/chat/completions", handlers.chat_completions)
    app.router.add_post(base + "/v1/responses", handlers.responses)
    app.router.add_post(base + "/v1/messages", handlers.messages)
    app.router.add_post(base + "/v1/messages/count_tokens", handlers.messages_count_tokens)
    app.router.add_post(base + "/v1/embeddings", handlers.embeddings)
    app.router.add_post(base + "/v1/audio/speech", handlers.audio_speech)
    app.router.add_post(base + "/v1/audio/transcriptions", handlers.audio_transcriptions)
    app.router.add_get(base + "/v1/models", handlers.list_models)
    app.router.add_get(base + "/health", handlers.health)
    app.router.add_get(base + "/health/ready", handlers.ready)
