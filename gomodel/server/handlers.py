"""Thin handlers: read the body, call the gateway, write what it returns."""

from __future__ import annotations

import orjson
from aiohttp import web

from gomodel.gateway.context import CallContext
from gomodel.gateway.inference import Reply
from gomodel.observability.logging import request_id_var
from gomodel.server.front.request_id import HEADER
from gomodel.server.keys import AUDIO, CATALOG, CONFIG, INFERENCE, MESSAGES, REFRESHER, RESPONSES
from gomodel.server.sse import SSEResponse

__all__ = [
    "audio_speech",
    "audio_transcriptions",
    "chat_completions",
    "embeddings",
    "health",
    "list_models",
    "messages",
    "messages_count_tokens",
    "ready",
    "responses",
]


def _context(request: web.Request, endpoint: str) -> CallContext:
    header = request.app[CONFIG].server.user_path_header
    return CallContext(
        request_id=request_id_var.get(),
        method=request.method,
        endpoint=endpoint,
        user_path=_user_path(request.headers.get(header)),
    )


def _user_path(value: str | None) -> str | None:
    """``team/a/`` -> ``/team/a``: one spelling per tenant path, whatever the client sent."""
    if not value:
        return None
    parts = [part for part in value.strip().split("/") if part]
    return "/" + "/".join(parts) if parts else None


def _json(request: web.Request, body: bytes, status: int = 200) -> web.Response:
    return web.Response(
        body=body, status=status, headers={"Content-Type": "application/json", HEADER: request_id_var.get()}
    )


def _reply(request: web.Request, reply: Reply) -> web.Response:
    return web.Response(
        body=reply.body,
        status=reply.status,
        headers={"Content-Type": reply.content_type, HEADER: request_id_var.get()},
    )


async def chat_completions(request: web.Request) -> web.StreamResponse:
    raw = await request.read()
    stream = SSEResponse(request)
    reply = await request.app[INFERENCE].chat(_context(request, "/v1/chat/completions"), raw, stream)
    if reply is None:
        return await stream.finish()
    return _reply(request, reply)


async def responses(request: web.Request) -> web.StreamResponse:
    raw = await request.read()
    stream = SSEResponse(request)
    reply = await request.app[RESPONSES].create(_context(request, "/v1/responses"), raw, stream)
    if reply is None:
        return await stream.finish()
    return _reply(request, reply)


async def messages(request: web.Request) -> web.StreamResponse:
    raw = await request.read()
    stream = SSEResponse(request)
    context = _context(request, "/v1/messages")
    reply = await request.app[MESSAGES].create(context, raw, request.headers, stream)
    if reply is None:
        return await stream.finish()
    return _reply(request, reply)


async def messages_count_tokens(request: web.Request) -> web.StreamResponse:
    raw = await request.read()
    context = _context(request, "/v1/messages/count_tokens")
    return _reply(request, await request.app[MESSAGES].count_tokens(context, raw, request.headers))


async def embeddings(request: web.Request) -> web.StreamResponse:
    raw = await request.read()
    reply = await request.app[INFERENCE].embeddings(_context(request, "/v1/embeddings"), raw)
    return _reply(request, reply)


async def audio_speech(request: web.Request) -> web.StreamResponse:
    raw = await request.read()
    return _reply(request, await request.app[AUDIO].speech(_context(request, "/v1/audio/speech"), raw))


async def audio_transcriptions(request: web.Request) -> web.StreamResponse:
    raw = await request.read()
    context = _context(request, "/v1/audio/transcriptions")
    return _reply(
        request, await request.app[AUDIO].transcription(context, raw, request.headers.get("Content-Type", ""))
    )


async def list_models(request: web.Request) -> web.StreamResponse:
    refresher = request.app[REFRESHER]
    if not refresher.ready:
        await refresher.wait_first_round()
    return _json(request, orjson.dumps(request.app[CATALOG].openai_list()))


async def health(request: web.Request) -> web.StreamResponse:
    """Liveness: the process serves HTTP. Says nothing about providers."""
    return _json(request, b'{"status":"ok"}')


async def ready(request: web.Request) -> web.StreamResponse:
    """Readiness: the first round of model lists is in. A provider outage never makes this fail."""
    catalog = request.app[CATALOG]
    if not request.app[REFRESHER].ready:
        return _json(request, orjson.dumps({"status": "starting"}), status=503)
    providers = {p.name: len(catalog.models_of(p.name)) for p in catalog.providers}
    return _json(request, orjson.dumps({"status": "ready", "providers": providers}))
