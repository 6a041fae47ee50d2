"""Thin handlers: read the body, call the gateway, write what it returns.

The handlers are methods of one object holding the services: ``request.app[KEY]`` is two
Python-level calls per lookup, and a chat request made two of them.
"""

from __future__ import annotations

import orjson
from aiohttp import web

from gomodel.gateway.audio import AudioService
from gomodel.gateway.context import CallContext
from gomodel.gateway.inference import InferenceService, Reply
from gomodel.gateway.messages import MessagesService
from gomodel.gateway.responses import ResponsesService
from gomodel.observability.logging import request_id_var
from gomodel.providers.registry import Provider
from gomodel.routing.catalog import ModelCatalog
from gomodel.routing.refresher import ModelRefresher
from gomodel.server.front.request_id import HEADER
from gomodel.server.sse import SSEResponse

__all__ = ["Handlers"]


def _user_path(value: str | None) -> str | None:
    """``team/a/`` -> ``/team/a``: one spelling per tenant path, whatever the client sent."""
    if not value:
        return None
    parts = [part for part in value.strip().split("/") if part]
    return "/" + "/".join(parts) if parts else None


def _reply(reply: Reply) -> web.Response:
    return web.Response(
        body=reply.body,
        status=reply.status,
        headers={"Content-Type": reply.content_type, HEADER: request_id_var.get()},
    )


def _json(body: bytes, status: int = 200) -> web.Response:
    return _reply(Reply(status, body, "application/json"))


class Handlers:
    """Every route's handler, bound to the services it calls. A service that may stream returns None
    once it has written its answer into the `SSEResponse` it was given."""

    def __init__(
        self,
        *,
        user_path_header: str,
        inference: InferenceService,
        audio: AudioService,
        responses: ResponsesService,
        messages: MessagesService,
        catalog: ModelCatalog[Provider],
        refresher: ModelRefresher[Provider],
    ) -> None:
        self._user_path_header = user_path_header
        self._inference = inference
        self._audio = audio
        self._responses = responses
        self._messages = messages
        self._catalog = catalog
        self._refresher = refresher

    def _context(self, request: web.Request, endpoint: str) -> CallContext:
        user_path = request.headers.get(self._user_path_header)
        return CallContext(
            request_id_var.get(), request.method, endpoint, _user_path(user_path) if user_path else None
        )

    async def chat_completions(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        stream = SSEResponse(request)
        reply = await self._inference.chat(self._context(request, "/v1/chat/completions"), raw, stream)
        return await stream.finish() if reply is None else _reply(reply)

    async def responses(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        stream = SSEResponse(request)
        reply = await self._responses.create(self._context(request, "/v1/responses"), raw, stream)
        return await stream.finish() if reply is None else _reply(reply)

    async def messages(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        stream = SSEResponse(request)
        context = self._context(request, "/v1/messages")
        reply = await self._messages.create(context, raw, request.headers, stream)
        return await stream.finish() if reply is None else _reply(reply)

    async def messages_count_tokens(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        context = self._context(request, "/v1/messages/count_tokens")
        return _reply(await self._messages.count_tokens(context, raw, request.headers))

    async def embeddings(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        return _reply(await self._inference.embeddings(self._context(request, "/v1/embeddings"), raw))

    async def audio_speech(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        return _reply(await self._audio.speech(self._context(request, "/v1/audio/speech"), raw))

    async def audio_transcriptions(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        context = self._context(request, "/v1/audio/transcriptions")
        kind = request.headers.get("Content-Type", "")
        return _reply(await self._audio.transcription(context, raw, kind))

    async def list_models(self, request: web.Request) -> web.StreamResponse:
        if not self._refresher.ready:
            await self._refresher.wait_first_round()
        return _json(orjson.dumps(self._catalog.openai_list()))

    async def health(self, request: web.Request) -> web.StreamResponse:
        """Liveness: the process serves HTTP. Says nothing about providers."""
        return _json(b'{"status":"ok"}')

    async def ready(self, request: web.Request) -> web.StreamResponse:
        """Readiness: the first round of model lists is in. A provider outage never makes this fail."""
        catalog = self._catalog
        if not self._refresher.ready:
            return _json(orjson.dumps({"status": "starting"}), status=503)
        providers = {p.name: len(catalog.models_of(p.name)) for p in catalog.providers}
        return _json(orjson.dumps({"status": "ready", "providers": providers}))
