"""``POST /v1/responses``, stateless (``store: false`` semantics; stored responses come with storage).

Providers with OpenAI's own Responses API get the request relayed natively, streams included; every
other provider gets it translated to its chat dialect and the answer built back into a Responses
object, or into the Responses event stream one event at a time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson

from gomodel.core.chat import ChatRequest, StreamStart
from gomodel.core.errors import GatewayError
from gomodel.core.records import RecordSink
from gomodel.dialects.json_body import decode_object, require_model
from gomodel.dialects.openai_responses.observe import ResponsesStreamObserver, usage_from_responses_body
from gomodel.dialects.openai_responses.request_decode import decode_responses_request
from gomodel.dialects.openai_responses.response_encode import ResponseShell
from gomodel.dialects.openai_responses.stream_encode import ResponsesStreamEncoder
from gomodel.gateway.context import CallContext, RecordBuilder, StreamSink
from gomodel.gateway.inference import InferenceService, Reply, require_json
from gomodel.gateway.streaming import pump
from gomodel.providers.registry import Provider
from gomodel.routing.catalog import Route

__all__ = ["ResponsesService", "responses_error_event"]

PATH = "/responses"


def responses_error_event(error: GatewayError, message: str, sequence_number: int | None = None) -> bytes:
    """The Responses stream's ``error`` event, for failures after a relayed stream started."""
    data: dict[str, Any] = {
        "type": "error",
        "code": error.code or error.error_type,
        "message": message,
        "param": error.param,
    }
    if sequence_number is not None:
        data["sequence_number"] = sequence_number
    return b"event: error\ndata: " + orjson.dumps(data) + b"\n\n"


class ResponsesService:
    def __init__(
        self, inference: InferenceService, records: RecordSink, redact: Callable[[str], str]
    ) -> None:
        self._inference = inference
        self._records = records
        self._redact = redact

    async def create(self, ctx: CallContext, raw: bytes, sink: StreamSink) -> Reply | None:
        with RecordBuilder(ctx, self._records) as record:
            payload = decode_object(raw)
            record.requested_model = require_model(payload)
            stream = payload.get("stream") is True
            record.stream = stream
            route = await self._inference.route(record.requested_model, record)
            if route.provider.native_responses and route.provider.dialect_for(route.model) == "openai_chat":
                return await self._relay(payload, raw, route, sink, record, stream=stream)
            request = decode_responses_request(payload, route.model)
            shell = ResponseShell(request, payload, route.model, int(ctx.timestamp))
            if stream:
                await self._translate_stream(route, request, shell, sink, record)
                return None
            response = await route.provider.chat(request)
            record.first_byte()
            record.usage = response.usage
            return Reply(status=200, body=orjson.dumps(shell.complete(response)))

    async def _relay(
        self,
        payload: dict[str, Any],
        raw: bytes,
        route: Route[Provider],
        sink: StreamSink,
        record: RecordBuilder,
        *,
        stream: bool,
    ) -> Reply | None:
        body = (
            raw if route.model == record.requested_model else orjson.dumps({**payload, "model": route.model})
        )
        if stream:
            observer = ResponsesStreamObserver()
            await self._inference.relay_sse(
                route,
                PATH,
                body,
                sink=sink,
                record=record,
                observer=observer,
                # OpenAI numbers a stream's events 0, 1, 2...: the error event takes the next number.
                error_event=lambda error, message: responses_error_event(error, message, observer.events),
            )
            return None
        answer = require_json(route.provider.name, await self._inference.post(route, PATH, body, record))
        record.usage = usage_from_responses_body(answer.body)
        return answer

    async def _translate_stream(
        self,
        route: Route[Provider],
        request: ChatRequest,
        shell: ResponseShell,
        sink: StreamSink,
        record: RecordBuilder,
    ) -> None:
        await pump(
            route.provider.chat_stream(request),
            ResponsesStreamEncoder(shell),
            sink,
            record,
            fallback_start=lambda: StreamStart(id=shell.id, model=route.model, created=int(time.time())),
            redact=self._redact,
        )
