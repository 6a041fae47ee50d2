"""``POST /v1/messages`` and ``POST /v1/messages/count_tokens``: the Anthropic Messages ingress.

To a provider that speaks Anthropic's dialect for the model (Anthropic itself, OpenCode Go's messages
models) the request is relayed natively: the client's bytes and ``anthropic-beta`` / ``anthropic-version``
headers go through, and stream events come back untouched while usage is read off them. Every other
provider gets it translated to its own dialect and the answer, or each stream event, translated back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from gomodel.core.chat import StreamStart
from gomodel.core.records import RecordSink
from gomodel.dialects.anthropic.errors import error_from_anthropic
from gomodel.dialects.anthropic.observe import AnthropicStreamObserver, usage_from_message_body
from gomodel.dialects.anthropic.request_decode import decode_anthropic_request
from gomodel.dialects.anthropic.response_encode import encode_anthropic_response, new_message_id
from gomodel.dialects.anthropic.stream_encode import AnthropicStreamEncoder
from gomodel.dialects.json_body import decode_object, require_model
from gomodel.dialects.token_estimate import estimate_tokens
from gomodel.gateway.context import CallContext, RecordBuilder, StreamSink
from gomodel.gateway.inference import InferenceService, Reply, require_json
from gomodel.gateway.streaming import pump

__all__ = ["ANTHROPIC", "MessagesService"]

ANTHROPIC = "anthropic_messages"
MESSAGES_PATH = "/messages"
COUNT_PATH = "/messages/count_tokens"
#: Client headers that matter to Anthropic and are passed on when relaying natively.
PASSED_HEADERS = ("anthropic-beta", "anthropic-version")
#: Above this many bytes of request, the estimate runs in a worker thread, off the event loop.
_INLINE_ESTIMATE_LIMIT = 256 * 1024


def passed_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: headers[name] for name in PASSED_HEADERS if headers.get(name)}


class MessagesService:
    def __init__(
        self, inference: InferenceService, records: RecordSink, redact: Callable[[str], str]
    ) -> None:
        self._inference = inference
        self._records = records
        self._redact = redact

    async def create(
        self, ctx: CallContext, raw: bytes, headers: Mapping[str, str], sink: StreamSink
    ) -> Reply | None:
        with RecordBuilder(ctx, self._records) as record:
            payload = decode_object(raw)
            record.requested_model = require_model(payload)
            stream = payload.get("stream") is True
            record.stream = stream
            route = await self._inference.route(record.requested_model, record)
            if route.provider.dialect_for(route.model) == ANTHROPIC:
                body = self._body(payload, raw, route.model, record.requested_model)
                extra = passed_headers(headers)
                if stream:
                    await self._inference.relay_sse(
                        route,
                        MESSAGES_PATH,
                        body,
                        sink=sink,
                        record=record,
                        observer=AnthropicStreamObserver(),
                        error_event=AnthropicStreamEncoder.fail,
                        extra_headers=extra,
                        error_mapper=error_from_anthropic,
                    )
                    return None
                answer = await self._inference.post(
                    route, MESSAGES_PATH, body, record, extra_headers=extra, error_mapper=error_from_anthropic
                )
                record.usage = usage_from_message_body(require_json(route.provider.name, answer).body)
                return answer
            request = decode_anthropic_request(payload, route.model)
            if stream:
                await pump(
                    route.provider.chat_stream(request),
                    AnthropicStreamEncoder(route.model),
                    sink,
                    record,
                    fallback_start=lambda: StreamStart(
                        id=new_message_id(), model=route.model, created=int(time.time())
                    ),
                    redact=self._redact,
                )
                return None
            response = await route.provider.chat(request)
            record.first_byte()
            record.usage = response.usage
            return Reply(status=200, body=encode_anthropic_response(response, route.model))

    async def count_tokens(self, ctx: CallContext, raw: bytes, headers: Mapping[str, str]) -> Reply:
        """Anthropic counts natively; for every other provider, a deterministic estimate."""
        with RecordBuilder(ctx, self._records) as record:
            payload = decode_object(raw)
            record.requested_model = require_model(payload)
            route = await self._inference.route(record.requested_model, record)
            if route.provider.dialect_for(route.model) == ANTHROPIC:
                body = self._body(payload, raw, route.model, record.requested_model)
                answer = await self._inference.post(
                    route,
                    COUNT_PATH,
                    body,
                    record,
                    extra_headers=passed_headers(headers),
                    error_mapper=error_from_anthropic,
                )
                return require_json(route.provider.name, answer)
            request = decode_anthropic_request(payload, route.model, require_max_tokens=False)
            if len(raw) > _INLINE_ESTIMATE_LIMIT:
                tokens = await asyncio.to_thread(estimate_tokens, request)
            else:
                tokens = estimate_tokens(request)
            return Reply(status=200, body=orjson.dumps({"input_tokens": tokens}))

    @staticmethod
    def _body(payload: dict[str, Any], raw: bytes, model: str, requested: str) -> bytes:
        return raw if model == requested else orjson.dumps({**payload, "model": model})
