"""Wire-neutral stream events -> Anthropic's Messages event stream, one event at a time.

Content blocks are numbered in the order they open; a block closes (``content_block_stop``) as soon as
another one starts, because Anthropic never interleaves blocks. Tool-call argument deltas from chat
upstreams become ``input_json_delta`` events of their ``tool_use`` block.
"""

from __future__ import annotations

from typing import Any

import orjson

from gomodel.core.chat import (
    Finish,
    FinishReason,
    ReasoningDelta,
    StreamEvent,
    StreamStart,
    TextDelta,
    ToolCallDelta,
    ToolCallStart,
    UsageReport,
)
from gomodel.core.errors import GatewayError
from gomodel.core.records import Usage
from gomodel.dialects.anthropic.response_encode import new_message_id, stop_reason, usage_to_anthropic

__all__ = ["AnthropicStreamEncoder", "anthropic_error_body", "anthropic_error_type"]

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def anthropic_error_type(error: GatewayError) -> str:
    if error.code == "overloaded":
        return "overloaded_error"
    return _ERROR_TYPES.get(error.status, "api_error" if error.status >= 500 else "invalid_request_error")


def anthropic_error_body(error: GatewayError, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": anthropic_error_type(error), "message": message}}


_TEXT_DELTA_OPEN = b'event: content_block_delta\ndata: {"type":"content_block_delta","index":'
_TEXT_DELTA_MIDDLE = b',"delta":{"type":"text_delta","text":'
_TEXT_DELTA_CLOSE = b"}}\n\n"


def _event(kind: str, data: dict[str, Any]) -> bytes:
    return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


class AnthropicStreamEncoder:
    def __init__(self, model: str) -> None:
        self._model = model
        self._index = -1
        self._open: str | None = None  # "text" | "thinking" | "tool_use"
        self._tool_blocks: dict[int, int] = {}
        self._finish: FinishReason = "stop"
        self.usage: Usage | None = None

    def start(self, event: StreamStart) -> bytes:
        self.usage = event.usage
        message: dict[str, Any] = {
            "id": event.id if event.id.startswith("msg_") else new_message_id(),
            "type": "message",
            "role": "assistant",
            "model": event.model or self._model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage_to_anthropic(event.usage),
        }
        return _event("message_start", {"type": "message_start", "message": message})

    def encode(self, event: StreamEvent) -> bytes:
        if isinstance(event, TextDelta):
            if not event.text:
                return b""
            out = self._ensure("text", {"type": "text", "text": ""})
            # The most frequent event: splice index and text into fixed bytes rather than dumping a dict.
            index = str(self._index).encode()
            return (
                out
                + _TEXT_DELTA_OPEN
                + index
                + _TEXT_DELTA_MIDDLE
                + orjson.dumps(event.text)
                + _TEXT_DELTA_CLOSE
            )
        if isinstance(event, ToolCallDelta):
            if event.index not in self._tool_blocks or not event.arguments:
                return b""
            delta = {"type": "input_json_delta", "partial_json": event.arguments}
            data = {"type": "content_block_delta", "index": self._tool_blocks[event.index], "delta": delta}
            return _event("content_block_delta", data)
        if isinstance(event, ReasoningDelta):
            out = b""
            if event.text:
                out += self._ensure("thinking", {"type": "thinking", "thinking": "", "signature": ""})
                out += self._delta({"type": "thinking_delta", "thinking": event.text})
            if event.signature:
                out += self._ensure("thinking", {"type": "thinking", "thinking": "", "signature": ""})
                out += self._delta({"type": "signature_delta", "signature": event.signature})
            return out
        if isinstance(event, ToolCallStart):
            out = self._close()
            self._index += 1
            self._open = "tool_use"
            self._tool_blocks[event.index] = self._index
            block = {"type": "tool_use", "id": event.id, "name": event.name, "input": {}}
            return out + _event(
                "content_block_start",
                {"type": "content_block_start", "index": self._index, "content_block": block},
            )
        if isinstance(event, Finish):
            self._finish = event.reason
        elif isinstance(event, UsageReport):
            self.usage = event.usage
        return b""

    def finish(self) -> bytes:
        delta = {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason(self._finish), "stop_sequence": None},
        }
        delta["usage"] = usage_to_anthropic(self.usage)
        return (
            self._close() + _event("message_delta", delta) + _event("message_stop", {"type": "message_stop"})
        )

    @staticmethod
    def fail(error: GatewayError, message: str) -> bytes:
        """A mid-stream ``error`` event; the Anthropic SDK raises on it."""
        return _event("error", anthropic_error_body(error, message))

    def _ensure(self, kind: str, block: dict[str, Any]) -> bytes:
        if self._open == kind:
            return b""
        out = self._close()
        self._index += 1
        self._open = kind
        start = {"type": "content_block_start", "index": self._index, "content_block": block}
        return out + _event("content_block_start", start)

    def _delta(self, delta: dict[str, Any]) -> bytes:
        return _event(
            "content_block_delta", {"type": "content_block_delta", "index": self._index, "delta": delta}
        )

    def _close(self) -> bytes:
        if self._open is None:
            return b""
        self._open = None
        return _event("content_block_stop", {"type": "content_block_stop", "index": self._index})
