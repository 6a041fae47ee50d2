"""``streamGenerateContent?alt=sse`` bytes -> stream events, incrementally.

Every SSE event is a whole ``GenerateContentResponse`` holding the next parts, so translation is per
event: text parts become `TextDelta`, thought parts `ReasoningDelta`, and a function call (always
whole in one part) a `ToolCallStart` plus one `ToolCallDelta` with all its arguments, numbered in
order of appearance across the stream. ``usageMetadata`` repeats with running totals; the last one
wins. `Finish` and `UsageReport` go out when the body ends, whatever order Gemini sent them in. An
``{"error": ...}`` event, a blocked prompt, a botched function call or a body that stops before any
``finishReason`` ends the stream with `StreamFailed`.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import orjson

from gomodel.core.chat import (
    Finish,
    ReasoningDelta,
    StreamEvent,
    StreamFailed,
    StreamStart,
    TextDelta,
    ToolCallDelta,
    ToolCallStart,
    UsageReport,
)
from gomodel.core.errors import GatewayError, UpstreamError
from gomodel.dialects.gemini.errors import error_from_payload, prompt_blocked_error
from gomodel.dialects.gemini.response_decode import (
    finish_failure,
    finish_reason,
    first_candidate,
    function_call,
    parts_of,
    usage_from_metadata,
)
from gomodel.dialects.sse import SSEFramer, event_data

__all__ = ["GeminiStreamDecoder"]


class GeminiStreamDecoder:
    """Feed body chunks, get events; call `flush` once when the body ends."""

    __slots__ = (
        "_calls",
        "_created",
        "_done",
        "_finish",
        "_framer",
        "_model",
        "_provider",
        "_started",
        "_usage",
    )

    def __init__(self, provider: str, model: str, *, created: int | None = None) -> None:
        self._provider = provider
        self._model = model
        self._created = int(time.time()) if created is None else created
        self._framer = SSEFramer()
        self._started = False
        self._done = False
        self._calls = 0
        self._finish: str | None = None
        #: The latest ``usageMetadata`` as sent; converted once, when the stream ends.
        self._usage: dict[str, Any] | None = None

    def feed(self, chunk: bytes) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        for raw in self._framer.feed(chunk):
            self._event(raw, events)
        return events

    def flush(self) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        for raw in self._framer.flush():
            self._event(raw, events)
        if self._done:
            return events
        self._done = True
        if self._finish is None:
            if self._started:
                message = f"provider {self._provider} ended the stream before the answer was complete"
                events.append(StreamFailed(UpstreamError(message, code="upstream_incomplete_stream")))
            return events
        events.append(Finish(finish_reason(self._finish, self._calls > 0)))
        usage = usage_from_metadata(self._usage)
        if usage is not None:
            events.append(UsageReport(usage))
        return events

    def _event(self, raw: bytes, out: list[StreamEvent]) -> None:
        data = event_data(raw)
        if self._done or not data:
            return
        try:
            payload = orjson.loads(data)
        except orjson.JSONDecodeError:
            self._fail(out, UpstreamError(f"provider {self._provider} sent a stream event that is not JSON"))
            return
        if isinstance(payload, list) and payload:
            payload = payload[0]
        if not isinstance(payload, dict):
            return
        if "error" in payload:
            self._fail(out, error_from_payload(self._provider, payload["error"]))
            return
        candidate = first_candidate(payload)
        if candidate is None:
            blocked = prompt_blocked_error(self._provider, payload.get("promptFeedback"))
            if blocked is not None:
                self._fail(out, blocked)
                return
        if not self._started:
            self._started = True
            response_id = payload.get("responseId")
            out.append(
                StreamStart(
                    id=f"chatcmpl-{response_id or uuid.uuid4().hex}",
                    model=str(payload.get("modelVersion") or self._model),
                    created=self._created,
                )
            )
        usage = payload.get("usageMetadata")
        if isinstance(usage, dict):
            self._usage = usage
        if candidate is not None:
            self._candidate(candidate, out)

    def _candidate(self, candidate: dict[str, Any], out: list[StreamEvent]) -> None:
        for part in parts_of(candidate):
            call = function_call(part, self._calls)
            if call is not None:
                out.append(ToolCallStart(index=self._calls, id=call.id, name=call.name))
                out.append(ToolCallDelta(index=self._calls, arguments=call.arguments))
                self._calls += 1
            elif isinstance(part.get("text"), str) and part["text"]:
                out.append(
                    ReasoningDelta(text=part["text"]) if part.get("thought") else TextDelta(part["text"])
                )
        if candidate.get("finishReason"):
            failure = finish_failure(self._provider, candidate)
            if failure is not None:
                self._fail(out, failure)
            else:
                self._finish = str(candidate["finishReason"])

    def _fail(self, out: list[StreamEvent], error: GatewayError) -> None:
        self._done = True
        out.append(StreamFailed(error))
