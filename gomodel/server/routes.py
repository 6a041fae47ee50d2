"""The whole route table and the middleware order, in one place."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Middleware

from gomodel.config.schema import ServerConfig
from gomodel.server import handlers
from gomodel.server.middlewares.auth import master_key_check
from gomodel.server.middlewares.front import front_middleware

__all__ = ["add_routes", "middlewares"]


def prefix(server: ServerConfig) -> str:
    """``BASE_PATH`` without its trailing slash ("" when mounted at the root)."""
    base = "/" + server.base_path.strip("/")
    return "" if base == "/" else base


def middlewares(server: ServerConfig) -> list[Middleware]:
    authenticate = master_key_check(server.master_key, prefix(server) + "/v1/") if server.master_key else None
    return [front_middleware(authenticate)]


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
