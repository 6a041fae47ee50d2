"""Chat completions and embeddings, from client bytes to upstream and back.

Same dialect in and out (OpenAI to an OpenAI-compatible upstream): the body is relayed as the client
sent it unless the model id or stream options must change, and SSE events are relayed byte for byte
while a filter reads usage off them. Every call ends in exactly one record, in ``finally``, because a
client that disconnects cancels the handler mid-await.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import attrs

from gomodel.core.errors import GatewayError, NotFoundError, UpstreamError
from gomodel.core.records import RecordSink
from gomodel.dialects.openai_chat import (
    ChatCall,
    ChatStreamFilter,
    parse_chat_request,
    upstream_chat_body,
    usage_from_response,
)
from gomodel.dialects.openai_embeddings import parse_embeddings_request, upstream_embeddings_body
from gomodel.dialects.openai_errors import error_from_upstream, stream_error_event
from gomodel.dialects.sse import SSEFramer
from gomodel.gateway.context import CallContext, RecordBuilder, StreamSink
from gomodel.providers.registry import Provider
from gomodel.routing.catalog import ModelCatalog, Route
from gomodel.routing.refresher import ModelRefresher

__all__ = ["InferenceService", "Reply"]

CHAT_PATH = "/chat/completions"
EMBEDDINGS_PATH = "/embeddings"


@attrs.frozen(slots=True)
class Reply:
    """A complete (non-streamed) JSON answer."""

    status: int
    body: bytes


class InferenceService:
    def __init__(
        self,
        catalog: ModelCatalog[Provider],
        refresher: ModelRefresher[Provider],
        records: RecordSink,
        *,
        force_stream_usage: bool,
        redact: Callable[[str], str],
    ) -> None:
        self._catalog = catalog
        self._refresher = refresher
        self._records = records
        self._force_usage = force_stream_usage
        self._redact = redact

    async def resolve(self, model: str) -> Route[Provider]:
        route = self._catalog.resolve(model)
        if route is None and not self._refresher.ready:
            await self._refresher.wait_first_round()
            route = self._catalog.resolve(model)
        if route is None:
            raise NotFoundError(
                f"The model `{model}` does not exist or is not served by any configured provider.",
                param="model",
                code="model_not_found",
            )
        return route

    async def chat(self, ctx: CallContext, raw: bytes, sink: StreamSink) -> Reply | None:
        """Answer a chat completion: a `Reply`, or None when the answer was streamed into ``sink``."""
        record = RecordBuilder(ctx, self._records)
        try:
            call = parse_chat_request(raw)
            record.requested_model = call.model
            record.stream = call.stream
            route = await self._route(call.model, record)
            body = upstream_chat_body(call, raw, route.model, force_usage=self._force_usage)
            if call.stream:
                await self._stream_chat(call, route, body, sink, record)
                return None
            return await self._unary(route, CHAT_PATH, body, record)
        except GatewayError as error:
            record.fail(error)
            raise
        except (asyncio.CancelledError, ConnectionResetError):
            record.client_gone()
            raise
        finally:
            record.finish()

    async def embeddings(self, ctx: CallContext, raw: bytes) -> Reply:
        record = RecordBuilder(ctx, self._records)
        try:
            call = parse_embeddings_request(raw)
            record.requested_model = call.model
            route = await self._route(call.model, record)
            body = upstream_embeddings_body(call, raw, route.model)
            return await self._unary(route, EMBEDDINGS_PATH, body, record)
        except GatewayError as error:
            record.fail(error)
            raise
        except asyncio.CancelledError:
            record.client_gone()
            raise
        finally:
            record.finish()

    async def _route(self, model: str, record: RecordBuilder) -> Route[Provider]:
        route = await self.resolve(model)
        record.model = route.model
        record.provider = route.provider.name
        record.provider_type = route.provider.type
        return route

    async def _unary(self, route: Route[Provider], path: str, body: bytes, record: RecordBuilder) -> Reply:
        provider = route.provider
        async with provider.client.open("POST", provider.url(path), provider.headers, body) as upstream:
            data = await upstream.read()
            record.first_byte()
            if upstream.status >= 400:
                raise error_from_upstream(provider.name, upstream.status, data, upstream.headers)
        record.usage = usage_from_response(data)
        return Reply(status=upstream.status, body=data)

    async def _stream_chat(
        self, call: ChatCall, route: Route[Provider], body: bytes, sink: StreamSink, record: RecordBuilder
    ) -> None:
        provider = route.provider
        async with provider.client.open("POST", provider.url(CHAT_PATH), provider.headers, body) as upstream:
            if upstream.status >= 400:
                data = await upstream.read()
                raise error_from_upstream(provider.name, upstream.status, data, upstream.headers)
            if upstream.content_type != "text/event-stream":
                raise UpstreamError(
                    f"provider {provider.name} answered a streaming request with {upstream.content_type!r}",
                    code="upstream_not_streaming",
                )
            await sink.start()
            observer = ChatStreamFilter(client_wants_usage=call.wants_usage)
            framer = SSEFramer()
            try:
                async for chunk in upstream.chunks():
                    events = framer.feed(chunk)
                    if events:
                        await self._relay(events, observer, sink, record)
                tail = framer.flush()
                if tail:
                    await self._relay(tail, observer, sink, record)
            except GatewayError as error:
                # Headers are out; the only honest way to fail now is an error event in the stream.
                record.fail(error)
                await sink.write(stream_error_event(error, self._redact(error.message)))
            record.usage = observer.usage
            if observer.error is not None and record.error_type is None:
                record.status = 502
                record.error_type = "upstream_error"
                record.error_message = observer.error

    @staticmethod
    async def _relay(
        events: list[bytes], observer: ChatStreamFilter, sink: StreamSink, record: RecordBuilder
    ) -> None:
        record.first_byte()
        kept = [event for event in events if observer.keep(event)]
        if kept:
            await sink.write(kept[0] if len(kept) == 1 else b"".join(kept))
