"""Chat completions and embeddings, from client bytes to upstream and back.

Two paths, chosen per route by the dialect the provider speaks for the model:

* **Relay** (OpenAI in, OpenAI-compatible upstream): the body is sent as the client wrote it unless
  the model id or stream options must change, and SSE events are relayed byte for byte while a
  filter reads usage off them.
* **Translate** (any other upstream dialect): the request becomes a wire-neutral `ChatRequest`, the
  provider speaks its own API, and its answer or stream events are encoded back into OpenAI's shape
  one event at a time.

Every call ends in exactly one record, in ``finally``, because a client that disconnects cancels the
handler mid-await.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Protocol

import attrs

from gomodel.core.chat import (
    ChatRequest,
    StreamStart,
)
from gomodel.core.errors import GatewayError, NotFoundError, UpstreamError
from gomodel.core.records import RecordSink, Usage
from gomodel.dialects.openai_chat import (
    ChatCall,
    ChatStreamFilter,
    parse_chat_request,
    upstream_chat_body,
    usage_from_response,
)
from gomodel.dialects.openai_chat_request import decode_chat_request
from gomodel.dialects.openai_chat_response import encode_chat_response
from gomodel.dialects.openai_chat_stream_encode import ChunkEncoder
from gomodel.dialects.openai_embeddings import (
    EmbeddingsCall,
    encode_embeddings_response,
    parse_embeddings_request,
    to_embeddings_request,
    upstream_embeddings_body,
)
from gomodel.dialects.openai_errors import error_from_upstream, stream_error_event
from gomodel.dialects.sse import SSEFramer, read_block
from gomodel.gateway.context import CallContext, RecordBuilder, StreamSink
from gomodel.gateway.streaming import pump
from gomodel.providers.registry import Provider
from gomodel.routing.catalog import ModelCatalog, Route
from gomodel.routing.refresher import ModelRefresher

__all__ = ["InferenceService", "Reply", "require_json"]

CHAT_PATH = "/chat/completions"
EMBEDDINGS_PATH = "/embeddings"
OPENAI = "openai_chat"


@attrs.define(slots=True)
class Reply:
    """A complete (non-streamed) answer: the gateway's own, or a provider's relayed as it came.

    Built positionally on the hot path, and not frozen: a frozen attrs class sets each field through
    ``object.__setattr__``.
    """

    status: int
    body: bytes
    content_type: str = "application/json"


#: Maps a provider's error answer (name, status, body, headers) to a gateway error, per dialect.
ErrorMapper = Callable[[str, int, bytes, Mapping[str, str]], GatewayError]


class StreamObserver(Protocol):
    """Reads a relayed stream (`read_block`): finds the events worth reading, may drop some, and
    collects usage and an upstream error."""

    usage: Usage | None
    error: str | None

    def next_to_read(self, block: bytes, start: int) -> int: ...

    def keep(self, event: bytes) -> bool: ...


def require_json(provider: str, answer: Reply) -> Reply:
    """A relayed answer from a JSON API must be JSON: a proxy's HTML page with a 200 is a failure."""
    kind = answer.content_type
    if kind != "application/json" and kind.partition(";")[0].strip().lower() != "application/json":
        raise UpstreamError(
            f"provider {provider} answered with {kind!r} instead of JSON",
            code="upstream_not_json",
        )
    return answer


def _unary_reply(route: Route[Provider], answer: Reply, record: RecordBuilder) -> Reply:
    """A relayed non-streaming answer, its usage noted. Not a coroutine of its own: every frame on
    the await chain is passed through again each time the request's task resumes."""
    record.usage = usage_from_response(require_json(route.provider.name, answer).body)
    return answer


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
        with RecordBuilder(ctx, self._records) as record:
            call = parse_chat_request(raw)
            record.requested_model = call.model
            record.stream = call.stream
            route = await self.route(call.model, record)
            if route.provider.dialect_for(route.model) == OPENAI:
                body = upstream_chat_body(call, raw, route.model, force_usage=self._force_usage)
                if call.stream:
                    observer = ChatStreamFilter(client_wants_usage=call.wants_usage)
                    await self.relay_sse(
                        route,
                        CHAT_PATH,
                        body,
                        sink=sink,
                        record=record,
                        observer=observer,
                        error_event=stream_error_event,
                    )
                    return None
                return _unary_reply(route, await self.post(route, CHAT_PATH, body, record), record)
            request = attrs.evolve(decode_chat_request(call.payload), model=route.model)
            if call.stream:
                await self._translate_stream(
                    ctx=ctx, call=call, route=route, request=request, sink=sink, record=record
                )
                return None
            return await self._translate_unary(ctx, route, request, record)

    async def embeddings(self, ctx: CallContext, raw: bytes) -> Reply:
        with RecordBuilder(ctx, self._records) as record:
            call = parse_embeddings_request(raw)
            record.requested_model = call.model
            route = await self.route(call.model, record)
            if route.provider.dialect_for(route.model) == OPENAI:
                body = upstream_embeddings_body(call, raw, route.model)
                return _unary_reply(route, await self.post(route, EMBEDDINGS_PATH, body, record), record)
            return await self._translate_embeddings(call, route, record)

    async def route(self, model: str, record: RecordBuilder) -> Route[Provider]:
        """Resolve ``model`` and note the choice in the record."""
        route = self._catalog.resolve(model) or await self.resolve(model)
        record.model = route.model
        record.provider = route.provider.name
        record.provider_type = route.provider.type
        return route

    # --- relay: same dialect in and out ---------------------------------------------------------

    @staticmethod
    async def post(
        route: Route[Provider],
        path: str,
        body: bytes,
        record: RecordBuilder,
        content_type: str | None = None,
        *,
        extra_headers: Mapping[str, str] | None = None,
        error_mapper: ErrorMapper = error_from_upstream,
    ) -> Reply:
        """POST ``body`` to the provider's native ``path`` and read the whole answer (4xx/5xx raise)."""
        provider = route.provider
        url, headers = await provider.relay_target(path, route.model)
        if content_type is not None or extra_headers:
            headers = {**headers, **(extra_headers or {})}
            if content_type is not None:
                headers["Content-Type"] = content_type
        async with provider.client.open("POST", url, headers, body) as upstream:
            data = await upstream.read()
            record.first_byte()
            if upstream.status >= 400:
                raise error_mapper(provider.name, upstream.status, data, upstream.headers)
            kind = upstream.headers.get("Content-Type", "application/json")
        return Reply(upstream.status, data, kind)

    async def relay_sse(
        self,
        route: Route[Provider],
        path: str,
        body: bytes,
        *,
        sink: StreamSink,
        record: RecordBuilder,
        observer: StreamObserver,
        error_event: Callable[[GatewayError, str], bytes],
        extra_headers: Mapping[str, str] | None = None,
        error_mapper: ErrorMapper = error_from_upstream,
    ) -> None:
        """Relay an upstream SSE answer event by event, untouched except what ``observer`` drops.

        ``error_event`` renders a failure after the stream started, in the client's dialect.
        """
        provider = route.provider
        url, headers = await provider.relay_target(path, route.model)
        if extra_headers:
            headers = {**headers, **extra_headers}
        async with provider.client.open("POST", url, headers, body) as upstream:
            if upstream.status >= 400:
                data = await upstream.read()
                raise error_mapper(provider.name, upstream.status, data, upstream.headers)
            if upstream.content_type != "text/event-stream":
                raise UpstreamError(
                    f"provider {provider.name} answered a streaming request with {upstream.content_type!r}",
                    code="upstream_not_streaming",
                )
            await sink.start()
            framer = SSEFramer()
            last = b""
            try:
                async for chunk in upstream.chunks():
                    block = framer.feed_block(chunk)
                    if block:
                        record.first_byte()
                        block = read_block(block, observer)
                    if upstream.at_eof():
                        # The upstream has ended: this read leaves with the end of the answer, in one
                        # write (headers too, for an answer that came in one read).
                        last = block
                        break
                    if block:
                        await sink.write(block)
                tail = [event for event in framer.flush() if observer.keep(event)]
                if tail:
                    record.first_byte()
                    last += b"".join(tail)
                await sink.close(last)
            except GatewayError as error:
                # Headers are out; the only honest way to fail now is an error event in the stream.
                record.fail(error)
                await sink.close(error_event(error, self._redact(error.message)))
            record.usage = observer.usage
            if observer.error is not None and record.error_type is None:
                record.status = 502
                record.error_type = "upstream_error"
                record.error_message = observer.error

    # --- translate: the provider speaks its own dialect -----------------------------------------

    async def _translate_unary(
        self, ctx: CallContext, route: Route[Provider], request: ChatRequest, record: RecordBuilder
    ) -> Reply:
        response = await route.provider.chat(request)
        record.first_byte()
        record.usage = response.usage
        response = attrs.evolve(
            response,
            id=response.id or f"chatcmpl-{ctx.request_id}",
            model=response.model or route.model,
            created=response.created or int(ctx.timestamp),
        )
        return Reply(status=200, body=encode_chat_response(response))

    async def _translate_stream(
        self,
        *,
        ctx: CallContext,
        call: ChatCall,
        route: Route[Provider],
        request: ChatRequest,
        sink: StreamSink,
        record: RecordBuilder,
    ) -> None:
        await pump(
            route.provider.chat_stream(request),
            ChunkEncoder(include_usage=call.wants_usage),
            sink,
            record,
            fallback_start=lambda: StreamStart(
                id=f"chatcmpl-{ctx.request_id}", model=route.model, created=int(time.time())
            ),
            redact=self._redact,
        )

    async def _translate_embeddings(
        self, call: EmbeddingsCall, route: Route[Provider], record: RecordBuilder
    ) -> Reply:
        request = to_embeddings_request(call, route.model)
        response = await route.provider.embeddings(request)
        record.first_byte()
        record.usage = response.usage
        return Reply(status=200, body=encode_embeddings_response(response, request, call.model))
