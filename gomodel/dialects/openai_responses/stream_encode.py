"""Wire-neutral stream events -> the Responses API's semantic event stream, one event at a time.

Every event is ``event: <type>`` plus JSON data carrying the same ``type`` and a running
``sequence_number``. Output items open when their first delta arrives and close (``.done`` events)
as soon as the next item starts or the answer ends, so clients see each item finished in order.
"""

from __future__ import annotations

from typing import Any

import attrs
import orjson

from gomodel.core.chat import (
    Finish,
    FinishReason,
    ReasoningDelta,
    StreamEvent,
    StreamStart,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolCallStart,
    UsageReport,
)
from gomodel.core.errors import GatewayError
from gomodel.core.records import Usage
from gomodel.dialects.openai_responses.response_encode import (
    ResponseShell,
    final_status,
    function_call_item,
    message_item,
    new_id,
    reasoning_item,
)

__all__ = ["ResponsesStreamEncoder"]


@attrs.define
class _Item:
    kind: str  # "message" | "reasoning" | "function_call"
    id: str
    output_index: int
    text: list[str] = attrs.field(factory=list)
    call_id: str = ""
    name: str = ""
    signature: str | None = None
    done: bool = False

    def final(self) -> dict[str, Any]:
        text = "".join(self.text)
        if self.kind == "message":
            return message_item(self.id, text)
        if self.kind == "reasoning":
            return reasoning_item(self.id, text, self.signature)
        return function_call_item(self.id, ToolCall(id=self.call_id, name=self.name, arguments=text))


class ResponsesStreamEncoder:
    def __init__(self, shell: ResponseShell) -> None:
        self._shell = shell
        self._sequence = 0
        self._items: list[_Item] = []
        self._message: _Item | None = None
        self._reasoning: _Item | None = None
        self._calls: dict[int, _Item] = {}
        self._finish: FinishReason = "stop"
        self.usage: Usage | None = None

    def _event(self, kind: str, **fields: Any) -> bytes:
        data = orjson.dumps({"type": kind, "sequence_number": self._sequence, **fields})
        self._sequence += 1
        return b"event: " + kind.encode() + b"\ndata: " + data + b"\n\n"

    def start(self, first: StreamStart) -> bytes:
        if first.usage is not None:
            self.usage = first.usage
        response = self._shell.build("in_progress", [])
        return self._event("response.created", response=response) + self._event(
            "response.in_progress", response=response
        )

    def encode(self, event: StreamEvent) -> bytes:
        if isinstance(event, TextDelta):
            return self._text(event.text) if event.text else b""
        if isinstance(event, ToolCallDelta):
            item = self._calls.get(event.index)
            if item is None or not event.arguments:
                return b""
            item.text.append(event.arguments)
            return self._event(
                "response.function_call_arguments.delta",
                item_id=item.id,
                output_index=item.output_index,
                delta=event.arguments,
            )
        if isinstance(event, ReasoningDelta):
            out = self._reasoning_text(event.text) if event.text else b""
            if event.signature:
                if self._reasoning is None:
                    out += self._reasoning_text("")
                assert self._reasoning is not None
                self._reasoning.signature = event.signature
            return out
        if isinstance(event, ToolCallStart):
            out = self._close(self._message) + self._close(self._reasoning)
            self._message = self._reasoning = None
            item = self._open("function_call", new_id("fc"))
            item.call_id, item.name = event.id, event.name
            self._calls[event.index] = item
            added = function_call_item(
                item.id, ToolCall(id=event.id, name=event.name, arguments=""), "in_progress"
            )
            return out + self._event("response.output_item.added", output_index=item.output_index, item=added)
        if isinstance(event, Finish):
            self._finish = event.reason
        elif isinstance(event, UsageReport | StreamStart) and event.usage is not None:
            self.usage = event.usage
        return b""

    def finish(self) -> bytes:
        """Close every open item and send the final ``response.completed`` (or ``.incomplete``)."""
        out = b"".join(self._close(item) for item in self._items)
        status, incomplete = final_status(self._finish)
        response = self._shell.build(
            status, [i.final() for i in self._items], self.usage, incomplete=incomplete
        )
        return out + self._event(f"response.{status}", response=response)

    def fail(self, error: GatewayError, message: str) -> bytes:
        """A stream that broke after it started: ``response.failed``, which the SDKs surface as an error."""
        detail = {"code": error.code or error.error_type, "message": message}
        response = self._shell.build("failed", [i.final() for i in self._items], self.usage, error=detail)
        return self._event("response.failed", response=response)

    def _open(self, kind: str, item_id: str) -> _Item:
        item = _Item(kind=kind, id=item_id, output_index=len(self._items))
        self._items.append(item)
        return item

    def _text(self, text: str) -> bytes:
        out = b""
        if self._message is None:
            out += self._close(self._reasoning)
            self._reasoning = None
            item = self._message = self._open("message", new_id("msg"))
            out += self._event(
                "response.output_item.added",
                output_index=item.output_index,
                item=message_item(item.id, "", "in_progress"),
            )
            out += self._event(
                "response.content_part.added",
                item_id=item.id,
                output_index=item.output_index,
                content_index=0,
                part={"type": "output_text", "text": "", "annotations": []},
            )
        item = self._message
        item.text.append(text)
        return out + self._event(
            "response.output_text.delta",
            item_id=item.id,
            output_index=item.output_index,
            content_index=0,
            delta=text,
            logprobs=[],
        )

    def _reasoning_text(self, text: str) -> bytes:
        out = b""
        if self._reasoning is None:
            item = self._reasoning = self._open("reasoning", new_id("rs"))
            out += self._event(
                "response.output_item.added",
                output_index=item.output_index,
                item={"type": "reasoning", "id": item.id, "summary": []},
            )
            out += self._event(
                "response.reasoning_summary_part.added",
                item_id=item.id,
                output_index=item.output_index,
                summary_index=0,
                part={"type": "summary_text", "text": ""},
            )
        item = self._reasoning
        if not text:
            return out
        item.text.append(text)
        return out + self._event(
            "response.reasoning_summary_text.delta",
            item_id=item.id,
            output_index=item.output_index,
            summary_index=0,
            delta=text,
        )

    def _close(self, item: _Item | None) -> bytes:
        if item is None or item.done:
            return b""
        item.done = True
        text = "".join(item.text)
        where = {"item_id": item.id, "output_index": item.output_index}
        out = b""
        if item.kind == "message":
            part = {"type": "output_text", "text": text, "annotations": []}
            out += self._event("response.output_text.done", **where, content_index=0, text=text, logprobs=[])
            out += self._event("response.content_part.done", **where, content_index=0, part=part)
        elif item.kind == "reasoning":
            part = {"type": "summary_text", "text": text}
            out += self._event("response.reasoning_summary_text.done", **where, summary_index=0, text=text)
            out += self._event("response.reasoning_summary_part.done", **where, summary_index=0, part=part)
        else:
            out += self._event("response.function_call_arguments.done", **where, arguments=text)
        return out + self._event(
            "response.output_item.done", output_index=item.output_index, item=item.final()
        )
