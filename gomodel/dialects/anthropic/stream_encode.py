"""Wire-neutral stream events -> Anthropic's Messages event stream, one event at a time.

Content blocks are numbered in the order they open; a block closes (``content_block_stop``) as soon as
another one starts, because Anthropic never interleaves blocks. Tool-call argument deltas from chat
upstreams become ``input_json_delta`` events of their ``tool_use`` block.

A ``content_block_delta`` is written as fixed bytes around one ``orjson.dumps`` of its string, never as
a dict: the bytes are those orjson writes for the dict, keys in the same order, without building it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from orjson import dumps

from gomodel.core.chat import (
    Finish,
    FinishReason,
    ReasoningDelta,
    StreamEvent,
    StreamStart,
    TextDelta,
    TextRun,
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


# A content_block_delta: _DELTA_OPEN, the block index, a delta kind's opening, the string, _DELTA_CLOSE.
_DELTA_OPEN = b'event: content_block_delta\ndata: {"type":"content_block_delta","index":'
_TEXT = b',"delta":{"type":"text_delta","text":'
_THINKING = b',"delta":{"type":"thinking_delta","thinking":'
_SIGNATURE = b',"delta":{"type":"signature_delta","signature":'
_ARGUMENTS = b',"delta":{"type":"input_json_delta","partial_json":'
_DELTA_CLOSE = b"}}\n\n"
_QUOTE = b'"'
# The other events of a stream, as fixed bytes around their variable parts.
_MESSAGE_START = b'event: message_start\ndata: {"type":"message_start","message":'
_BLOCK_START = b'event: content_block_start\ndata: {"type":"content_block_start","index":'
_TEXT_BLOCK = b',"content_block":{"type":"text","text":""}}\n\n'
_THINKING_BLOCK = b',"content_block":{"type":"thinking","thinking":"","signature":""}}\n\n'
_TOOL_BLOCK = b',"content_block":{"type":"tool_use","id":'
_BLOCK_STOP = b'event: content_block_stop\ndata: {"type":"content_block_stop","index":'
_MESSAGE_DELTA = b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":'
_MESSAGE_STOP = b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
_NO_USAGE = dumps(usage_to_anthropic(None))


def _event(kind: str, data: dict[str, Any]) -> bytes:
    return b"event: " + kind.encode() + b"\ndata: " + dumps(data) + b"\n\n"


def _delta_head(index: int, kind: bytes) -> bytes:
    return _DELTA_OPEN + str(index).encode() + kind


class AnthropicStreamEncoder:
    #: `TextRun` events are written whole, all their deltas in one pass (the pump need not split them).
    text_runs: ClassVar[bool] = True

    def __init__(self, model: str) -> None:
        self._model = model
        self._index = -1
        self._open: str | None = None  # "text" | "thinking" | "tool_use"
        #: Tool call index -> its tool_use block's argument deltas up to the string.
        self._tool_heads: dict[int, bytes] = {}
        self._finish: FinishReason = "stop"
        self.usage: Usage | None = None
        #: The open text block's text deltas up to the string.
        self._text_head = b""

    def start(self, event: StreamStart) -> bytes:
        self.usage = event.usage
        message_id = event.id if event.id.startswith("msg_") else new_message_id()
        usage = _NO_USAGE if event.usage is None else dumps(usage_to_anthropic(event.usage))
        # Fixed bytes around the three values: a dict to serialise cost ~6k instructions more.
        return b"".join(
            (
                _MESSAGE_START,
                b'{"id":',
                dumps(message_id),
                b',"type":"message","role":"assistant","model":',
                dumps(event.model or self._model),
                b',"content":[],"stop_reason":null,"stop_sequence":null,"usage":',
                usage,
                b"}}\n\n",
            )
        )

    def encode(self, event: StreamEvent) -> bytes:
        if type(event) is TextDelta and self._open == "text":
            # The most frequent event, in its open block: checked before any dispatch (callgrind:
            # 2.2k instructions an event, against 4.6k through the isinstance chain this replaced).
            return self._text_head + dumps(event.text) + _DELTA_CLOSE if event.text else b""
        encode = _ENCODE.get(type(event))
        if encode is None:
            encode = _inherited(type(event))
        return encode(self, event)

    def finish(self) -> bytes:
        usage = dumps(usage_to_anthropic(self.usage))
        reason = dumps(stop_reason(self._finish))
        delta = _MESSAGE_DELTA + reason + b',"stop_sequence":null},"usage":' + usage + b"}\n\n"
        return self._close() + delta + _MESSAGE_STOP

    @staticmethod
    def fail(error: GatewayError, message: str) -> bytes:
        """A mid-stream ``error`` event; the Anthropic SDK raises on it."""
        return _event("error", anthropic_error_body(error, message))

    # --- one method per event type (`_ENCODE`) ----------------------------------------------------

    def _text(self, event: TextDelta) -> bytes:
        if not event.text:
            return b""
        return self._ensure("text", _TEXT_BLOCK) + self._text_head + dumps(event.text) + _DELTA_CLOSE

    def _text_run(self, event: TextRun) -> bytes:
        # Every delta of the run in one join: ~0.1k instructions a delta with the upstream's JSON at
        # hand, against ~3.5k for a TextDelta through the pump and `encode` (callgrind).
        quote = _QUOTE
        strings: Any = event.escaped
        if strings is None:
            quote = b""
            strings = list(map(dumps, filter(None, event.texts)))
            if not strings:
                return b""
        out = self._ensure("text", _TEXT_BLOCK)
        head = self._text_head + quote
        tail = quote + _DELTA_CLOSE
        return out + head + (tail + head).join(strings) + tail

    def _arguments(self, event: ToolCallDelta) -> bytes:
        head = self._tool_heads.get(event.index)
        if head is None or not event.arguments:
            return b""
        return head + dumps(event.arguments) + _DELTA_CLOSE

    def _reasoning(self, event: ReasoningDelta) -> bytes:
        out = b""
        if event.text:
            out += self._ensure("thinking", _THINKING_BLOCK)
            out += _delta_head(self._index, _THINKING) + dumps(event.text) + _DELTA_CLOSE
        if event.signature:
            out += self._ensure("thinking", _THINKING_BLOCK)
            out += _delta_head(self._index, _SIGNATURE) + dumps(event.signature) + _DELTA_CLOSE
        return out

    def _tool_start(self, event: ToolCallStart) -> bytes:
        out = self._close()
        self._index += 1
        self._open = "tool_use"
        index = str(self._index).encode()
        self._tool_heads[event.index] = _DELTA_OPEN + index + _ARGUMENTS
        block = _TOOL_BLOCK + dumps(event.id) + b',"name":' + dumps(event.name) + b',"input":{}}}\n\n'
        return out + _BLOCK_START + index + block

    def _finish_reason(self, event: Finish) -> bytes:
        self._finish = event.reason
        return b""

    def _usage(self, event: UsageReport) -> bytes:
        self.usage = event.usage
        return b""

    def _nothing(self, event: StreamEvent) -> bytes:
        return b""

    # --- blocks -----------------------------------------------------------------------------------

    def _ensure(self, kind: str, block: bytes) -> bytes:
        """Open a ``kind`` block (its start event's bytes after the index: ``block``) unless it is open."""
        if self._open == kind:
            return b""
        out = self._close()
        self._index += 1
        self._open = kind
        index = str(self._index).encode()
        if kind == "text":
            self._text_head = _DELTA_OPEN + index + _TEXT
        return out + _BLOCK_START + index + block

    def _close(self) -> bytes:
        if self._open is None:
            return b""
        self._open = None
        return _BLOCK_STOP + str(self._index).encode() + b"}\n\n"


_Encode = Callable[[AnthropicStreamEncoder, Any], bytes]

_ENCODE: dict[type, _Encode] = {
    TextDelta: AnthropicStreamEncoder._text,
    TextRun: AnthropicStreamEncoder._text_run,
    ToolCallDelta: AnthropicStreamEncoder._arguments,
    ReasoningDelta: AnthropicStreamEncoder._reasoning,
    ToolCallStart: AnthropicStreamEncoder._tool_start,
    Finish: AnthropicStreamEncoder._finish_reason,
    UsageReport: AnthropicStreamEncoder._usage,
}


def _inherited(kind: type) -> _Encode:
    """A subclass is encoded as its nearest listed base; other events (start, failure) write nothing."""
    for base in kind.__mro__:
        if base in _ENCODE:
            return _ENCODE[base]
    return AnthropicStreamEncoder._nothing
