"""ConverseStream body (``application/vnd.amazon.eventstream``) -> stream events, incrementally.

The body is a sequence of binary frames (prelude, headers, JSON payload, CRCs); botocore's
``EventStreamBuffer`` reassembles them across reads and checks both CRCs. Frames carry
``:message-type`` ``event`` (``:event-type`` messageStart, contentBlockStart, contentBlockDelta,
contentBlockStop, messageStop, metadata) or ``exception`` (``:exception-type`` throttlingException...).

Bedrock sends ``messageStop`` (the stop reason) before ``metadata`` (usage), so `Finish` waits for the
usage and both go out together; a body that ends after ``messageStop`` without usage still finishes
cleanly, one that ends earlier fails.
"""

from __future__ import annotations

from typing import Any

import orjson
from botocore.eventstream import EventStreamBuffer, EventStreamMessage, ParserError

from gomodel.core.chat import (
    Finish,
    FinishReason,
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
from gomodel.core.records import Usage
from gomodel.dialects.bedrock.errors import error_from_exception_frame
from gomodel.dialects.bedrock.response_decode import finish_reason, usage_from

__all__ = ["ConverseStreamDecoder"]


class ConverseStreamDecoder:
    """Feed body bytes as they arrive; ``flush()`` once the body ends. Nothing follows a `StreamFailed`."""

    def __init__(self, provider: str, *, response_id: str, model: str, created: int) -> None:
        self._provider = provider
        self._start = StreamStart(id=response_id, model=model, created=created)
        self._buffer = EventStreamBuffer()
        #: Bytes fed but not yet part of a whole frame: a body that ends with some was cut.
        self._pending = 0
        self._started = False
        self._done = False
        #: Bedrock content-block index -> OpenAI tool-call index (0, 1, ... in order of appearance).
        self._tools: dict[int, int] = {}
        self._stop: FinishReason | None = None
        self._usage: Usage | None = None

    def feed(self, data: bytes) -> list[StreamEvent]:
        if self._done or not data:
            return []
        self._buffer.add_data(data)
        self._pending += len(data)
        events: list[StreamEvent] = []
        try:
            for message in self._buffer:
                self._pending -= message.prelude.total_length
                if self._message(message, events):
                    break
        except ParserError as exc:
            self._fail(events, UpstreamError(f"provider {self._provider} sent a corrupt event stream: {exc}"))
        return events

    def flush(self) -> list[StreamEvent]:
        if self._done:
            return []
        events: list[StreamEvent] = []
        if self._stop is None or self._pending:
            self._fail(
                events, UpstreamError(f"provider {self._provider} ended the stream before it finished")
            )
        else:
            self._finish(events)
        return events

    def _message(self, message: EventStreamMessage, events: list[StreamEvent]) -> bool:
        """Translates one frame; True once the stream is over (finished or failed)."""
        headers = message.headers
        kind = headers.get(":message-type")
        if kind == "event":
            try:
                payload = orjson.loads(message.payload)
            except orjson.JSONDecodeError:
                self._fail(events, UpstreamError(f"provider {self._provider} sent an event that is not JSON"))
                return True
            if isinstance(payload, dict):
                self._event(headers.get(":event-type"), payload, events)
        elif kind == "exception":
            kind = headers.get(":exception-type", "")
            self._fail(events, error_from_exception_frame(self._provider, kind, message.payload))
        elif kind == "error":
            code, text = headers.get(":error-code", "error"), headers.get(":error-message", "")
            self._fail(events, UpstreamError(f"provider {self._provider} stream error {code}: {text}"))
        return self._done

    def _event(self, name: object, payload: dict[str, Any], events: list[StreamEvent]) -> None:
        if name == "contentBlockDelta":
            self._delta(payload.get("contentBlockIndex"), payload.get("delta"), events)
        elif name == "contentBlockStart":
            start = payload.get("start")
            use = start.get("toolUse") if isinstance(start, dict) else None
            if isinstance(use, dict) and isinstance(index := payload.get("contentBlockIndex"), int):
                self._open(events)
                self._tools[index] = len(self._tools)
                events.append(
                    ToolCallStart(
                        index=self._tools[index],
                        id=str(use.get("toolUseId", "")),
                        name=str(use.get("name", "")),
                    )
                )
        elif name == "messageStart":
            self._open(events)
        elif name == "messageStop":
            self._stop = finish_reason(payload.get("stopReason"))
        elif name == "metadata":
            self._usage = usage_from(payload.get("usage"))
        if self._stop is not None and self._usage is not None:
            self._finish(events)

    def _delta(self, block: object, delta: object, events: list[StreamEvent]) -> None:
        if not isinstance(delta, dict):
            return
        if text := delta.get("text"):
            self._open(events)
            events.append(TextDelta(text))
        elif isinstance(use := delta.get("toolUse"), dict):
            index = self._tools.get(block) if isinstance(block, int) else None
            if index is not None and use.get("input"):
                events.append(ToolCallDelta(index=index, arguments=str(use["input"])))
        elif isinstance(thought := delta.get("reasoningContent"), dict) and (
            thought.get("text") or thought.get("signature")
        ):
            self._open(events)
            events.append(ReasoningDelta(text=thought.get("text") or "", signature=thought.get("signature")))

    def _open(self, events: list[StreamEvent]) -> None:
        if not self._started:
            self._started = True
            events.append(self._start)

    def _finish(self, events: list[StreamEvent]) -> None:
        self._open(events)
        events.append(Finish(self._stop or "stop"))
        if self._usage is not None:
            events.append(UsageReport(self._usage))
        self._done = True

    def _fail(self, events: list[StreamEvent], error: GatewayError) -> None:
        events.append(StreamFailed(error))
        self._done = True
