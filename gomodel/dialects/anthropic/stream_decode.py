"""Anthropic Messages SSE bytes -> wire-neutral stream events, incrementally.

Anthropic numbers every content block (text, thinking, tool_use...) in one sequence; OpenAI numbers
only tool calls. The decoder therefore gives each ``tool_use`` block the next tool-call index as it
opens and routes its ``input_json_delta`` pieces by block index. Usage arrives in two halves (input
and cache counts in ``message_start``, output in ``message_delta``, later fields winning), and
``message_stop`` releases `Finish` and the one `UsageReport`. An ``error`` event ends the stream with
`StreamFailed`; so does a stream that stops before its message is complete.
"""

from __future__ import annotations

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
from gomodel.core.errors import UpstreamError
from gomodel.dialects.anthropic.errors import error_from_event
from gomodel.dialects.anthropic.response_decode import finish_reason, usage_from
from gomodel.dialects.json_body import as_dict
from gomodel.dialects.sse import SSEFramer, event_data

__all__ = ["MessagesStreamDecoder"]

_DATA_LINE = b"\ndata: "


def _data(raw: bytes) -> bytes | None:
    # Anthropic writes "event: <name>\ndata: <json>\n\n"; read that shape without splitting lines.
    if raw.startswith(b"event: "):
        start = raw.find(_DATA_LINE)
        if start > 0 and raw.find(b"\n", start + 7) == len(raw) - 2:
            return raw[start + 7 : -2]
    return event_data(raw)


class MessagesStreamDecoder:
    """Feed the upstream's bytes as they come; ``flush()`` once at the end of the body.

    ``done`` turns true after ``message_stop`` or a failure; later bytes are ignored.
    """

    __slots__ = (
        "_created",
        "_framer",
        "_no_arguments",
        "_provider",
        "_started",
        "_stop_reason",
        "_tools",
        "_usage",
        "done",
    )

    def __init__(self, provider: str, *, created: int) -> None:
        self._provider = provider
        self._created = created
        self._framer = SSEFramer()
        self._started = False
        #: Content block index -> the tool call's OpenAI index.
        self._tools: dict[int, int] = {}
        #: tool_use blocks that have not streamed any argument text yet.
        self._no_arguments: set[int] = set()
        self._usage: dict[str, Any] = {}
        self._stop_reason: str | None = None
        self.done = False

    def feed(self, chunk: bytes) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        if self.done:
            return out
        for raw in self._framer.feed(chunk):
            if self._event(raw, out):
                break
        return out

    def flush(self) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        if not self.done:
            for raw in self._framer.flush():
                self._event(raw, out)
        if not self.done:
            if self._stop_reason is not None:
                # Everything but the closing message_stop arrived: the answer is whole.
                self._finish(out)
            else:
                message = f"provider {self._provider} ended the stream before the message was complete"
                out.append(StreamFailed(UpstreamError(message, code="upstream_stream_incomplete")))
                self.done = True
        return out

    # --- one event ------------------------------------------------------------------------------

    def _event(self, raw: bytes, out: list[StreamEvent]) -> bool:
        """Translate one SSE event into ``out``; True once the stream is over."""
        data = _data(raw)
        if data is None:
            return False
        try:
            event = orjson.loads(data)
        except orjson.JSONDecodeError:
            event = None
        if not isinstance(event, dict):
            message = f"provider {self._provider} sent an unreadable stream event"
            out.append(StreamFailed(UpstreamError(message, code="upstream_bad_stream")))
            self.done = True
            return True
        kind = event.get("type")
        if kind == "content_block_delta":
            self._delta(event, out)
        elif kind == "content_block_start":
            self._block_start(event, out)
        elif kind == "content_block_stop":
            self._block_stop(event, out)
        elif kind == "message_start":
            self._message_start(event, out)
        elif kind == "message_delta":
            self._stop_reason = as_dict(event.get("delta")).get("stop_reason") or self._stop_reason
            self._merge_usage(event.get("usage"))
        elif kind == "message_stop":
            self._finish(out)
        elif kind == "error":
            out.append(StreamFailed(error_from_event(self._provider, event)))
            self.done = True
        # "ping", and event types Anthropic may add later, carry nothing to translate.
        return self.done

    def _message_start(self, event: dict[str, Any], out: list[StreamEvent]) -> None:
        if self._started:
            return
        self._started = True
        message = as_dict(event.get("message"))
        self._merge_usage(message.get("usage"))
        out.append(
            StreamStart(
                id=str(message.get("id") or ""),
                model=str(message.get("model") or ""),
                created=self._created,
                usage=usage_from(self._usage) if self._usage else None,
            )
        )

    def _block_start(self, event: dict[str, Any], out: list[StreamEvent]) -> None:
        block = as_dict(event.get("content_block"))
        kind = block.get("type")
        if kind == "text" and block.get("text"):
            out.append(TextDelta(str(block["text"])))
        elif kind == "thinking" and (block.get("thinking") or block.get("signature")):
            thinking, signature = block.get("thinking"), block.get("signature")
            out.append(ReasoningDelta(text=str(thinking or ""), signature=signature or None))
        elif kind == "tool_use":
            index = event.get("index")
            if not isinstance(index, int):
                return
            position = len(self._tools)
            self._tools[index] = position
            call_id, name = str(block.get("id") or ""), str(block.get("name") or "")
            out.append(ToolCallStart(index=position, id=call_id, name=name))
            initial = block.get("input")
            if initial:
                out.append(ToolCallDelta(index=position, arguments=orjson.dumps(initial).decode()))
            else:
                # The opening block carries an empty ``input`` placeholder; the arguments follow.
                self._no_arguments.add(index)

    def _delta(self, event: dict[str, Any], out: list[StreamEvent]) -> None:
        delta = event.get("delta")
        if not isinstance(delta, dict):
            return
        kind = delta.get("type")
        if kind == "text_delta" and delta.get("text"):
            out.append(TextDelta(delta["text"]))
        elif kind == "input_json_delta" and delta.get("partial_json"):
            index = event.get("index")
            if isinstance(index, int) and index in self._tools:
                self._no_arguments.discard(index)
                out.append(ToolCallDelta(index=self._tools[index], arguments=delta["partial_json"]))
        elif kind == "thinking_delta" and delta.get("thinking"):
            out.append(ReasoningDelta(text=delta["thinking"]))
        elif kind == "signature_delta" and delta.get("signature"):
            out.append(ReasoningDelta(signature=delta["signature"]))

    def _block_stop(self, event: dict[str, Any], out: list[StreamEvent]) -> None:
        index = event.get("index")
        if index in self._no_arguments:
            self._no_arguments.discard(index)
            # A call without parameters streams no input_json_delta; OpenAI clients expect "{}".
            out.append(ToolCallDelta(index=self._tools[index], arguments="{}"))

    def _merge_usage(self, usage: Any) -> None:
        if isinstance(usage, dict):
            self._usage.update((key, value) for key, value in usage.items() if value is not None)

    def _finish(self, out: list[StreamEvent]) -> None:
        out.append(Finish(finish_reason(self._stop_reason)))
        usage = usage_from(self._usage) if self._usage else None
        if usage is not None:
            out.append(UsageReport(usage))
        self.done = True
