"""Anthropic Messages SSE bytes -> wire-neutral stream events, incrementally.

Anthropic numbers every content block (text, thinking, tool_use...) in one sequence; OpenAI numbers
only tool calls. The decoder therefore gives each ``tool_use`` block the next tool-call index as it
opens and routes its ``input_json_delta`` pieces by block index. Usage arrives in two halves (input
and cache counts in ``message_start``, output in ``message_delta``, later fields winning), and
``message_stop`` releases `Finish` and the one `UsageReport`. An ``error`` event ends the stream with
`StreamFailed`; so does a stream that stops before its message is complete. Text deltas that arrive
together in one read come out as one `TextRun`.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter
from typing import Any

from orjson import JSONDecodeError, dumps, loads

from gomodel.core.chat import (
    Finish,
    ReasoningDelta,
    StreamEvent,
    StreamFailed,
    StreamStart,
    TextDelta,
    TextRun,
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
#: An Anthropic text delta in its compact shape, up to the opening quote of the text (``%d``: the
#: content block index); the text's string and ``}}`` follow.
_TEXT_EVENT = (
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":%d,'
    b'"delta":{"type":"text_delta","text":"'
)
_TEXT_END = b'"}}'

# ``TextDelta(text)`` runs attrs' frozen ``__init__`` (~3.2k instructions); filling the slot of a bare
# instance costs ~1.7k, on the one event every token produces.
_new_event = object.__new__
_set_text: Callable[[TextDelta, Any], None] = TextDelta.__dict__["text"].__set__


#: Events that carry nothing, byte for byte as Anthropic writes them (the JSON need not be read).
_NOTHING = frozenset((b'event: ping\ndata: {"type":"ping"}', b'event: ping\ndata: {"type": "ping"}'))


def _data(event: bytes) -> bytes | None:
    """The ``data`` field of one event without its closing blank line."""
    # Anthropic writes "event: <name>\ndata: <json>": read that shape without splitting lines.
    name, found, data = event.partition(_DATA_LINE)
    if found and name.startswith(b"event: ") and data.find(b"\n") < 0:
        return data
    return event_data(event + b"\n\n")


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
        "_text_cut",
        "_text_event",
        "_text_index",
        "_text_joint",
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
        self._text_block(0)
        self.done = False

    def feed(self, chunk: bytes) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        if self.done:
            return out
        # One split per read instead of one find per event (the framer's loop cost ~3k instructions
        # an event); the pieces are events without their blank line, and the last is empty.
        block = self._framer.feed_block(chunk)
        if not block:
            return out
        events = block.split(b"\n\n")
        events.pop()
        if len(events) < 3:
            # Most reads of a live stream hold one event.
            for event in events:
                if self._one(event, out):
                    break
            return out
        # Text deltas come in a run between other events: read the events before it one by one, find
        # its end from the other side, and read it in one go (`_run`).
        first, last = 0, len(events)
        while first < last and not events[first].startswith(self._text_event):
            if self._event(events[first], out):
                return out
            first += 1
        while last > first and not events[last - 1].startswith(self._text_event):
            last -= 1
        if first < last and self._run(events[first:last], out):
            return out
        for event in events[last:]:
            if self._event(event, out):
                return out
        return out

    def flush(self) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        if not self.done:
            for raw in self._framer.flush():
                self._event(raw[:-2], out)
        if not self.done:
            if self._stop_reason is not None:
                # Everything but the closing message_stop arrived: the answer is whole.
                self._finish(out)
            else:
                message = f"provider {self._provider} ended the stream before the message was complete"
                out.append(StreamFailed(UpstreamError(message, code="upstream_stream_incomplete")))
                self.done = True
        return out

    # --- text deltas ----------------------------------------------------------------------------

    def _run(self, run: list[bytes], out: list[StreamEvent]) -> bool:
        """Events from the first to the last text delta of a read into ``out``; True once the stream
        is over. Text deltas alone become one `TextRun` (`_text_run`), else each event is read alone."""
        text_run = self._text_run(run) if len(run) > 1 else None
        if text_run is not None:
            out.append(text_run)
            return False
        # One by one, up to the event that ends the stream if one does.
        return any(self._one(event, out) for event in run)

    def _text_run(self, run: list[bytes]) -> TextRun | None:
        """Two or more text deltas in the compact shape as one event (~3k instructions a delta, against
        ~10k read one by one), or None if ``run`` is anything else.

        One comparison checks the bytes around every text; when no text holds a quote or a backslash,
        one ``loads`` reads them all and their JSON is kept for encoders to reuse.
        """
        text_event, cut = self._text_event, self._text_cut
        escaped = list(map(itemgetter(slice(cut + 1, -3)), run))
        # The run rebuilt around the texts: equal only if each event is the prefix, a text, the end.
        if b"\n\n".join(run) != b"".join((text_event, self._text_joint.join(escaped), _TEXT_END)):
            return None
        array = b'["' + b'","'.join(escaped) + b'"]'
        plain = array.count(b'"') == 2 * len(escaped) and array.find(b"\\") < 0
        try:
            texts = loads(array) if plain else [loads(event[cut:-2]) for event in run]
        except JSONDecodeError:
            return None
        if not all(texts):
            return None
        return TextRun("".join(texts), tuple(texts), tuple(escaped) if plain else None)

    def _one(self, event: bytes, out: list[StreamEvent]) -> bool:
        """One event into ``out``, a text delta in the compact shape by reading only its text."""
        cut = self._text_cut
        if event.startswith(self._text_event) and event.endswith(_TEXT_END, cut + 1):
            try:
                text = loads(event[cut:-2])
            except JSONDecodeError:
                pass
            else:
                if text:
                    delta = _new_event(TextDelta)
                    _set_text(delta, text)
                    out.append(delta)
                return False
        return self._event(event, out)

    # --- one event ------------------------------------------------------------------------------

    def _event(self, raw: bytes, out: list[StreamEvent]) -> bool:
        """Translate one SSE event (without its blank line) into ``out``; True once the stream is over."""
        if raw in _NOTHING:
            return False
        data = _data(raw)
        if data is None:
            return False
        try:
            event = loads(data)
        except JSONDecodeError:
            event = None
        if not isinstance(event, dict):
            message = f"provider {self._provider} sent an unreadable stream event"
            out.append(StreamFailed(UpstreamError(message, code="upstream_bad_stream")))
            self.done = True
            return True
        kind = event.get("type")
        # "ping", and event types Anthropic may add later, carry nothing to translate.
        handler = _HANDLERS.get(kind) if isinstance(kind, str) else None
        if handler is not None:
            handler(self, event, out)
        return self.done

    def _message_delta(self, event: dict[str, Any], out: list[StreamEvent]) -> None:
        self._stop_reason = as_dict(event.get("delta")).get("stop_reason") or self._stop_reason
        self._merge_usage(event.get("usage"))

    def _message_stop(self, event: dict[str, Any], out: list[StreamEvent]) -> None:
        self._finish(out)

    def _error(self, event: dict[str, Any], out: list[StreamEvent]) -> None:
        out.append(StreamFailed(error_from_event(self._provider, event)))
        self.done = True

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
        if kind == "text":
            index = event.get("index")
            if type(index) is int and index != self._text_index:
                self._text_block(index)
            if block.get("text"):
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
                out.append(ToolCallDelta(index=position, arguments=dumps(initial).decode()))
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

    def _text_block(self, index: int) -> None:
        """Expect text deltas of content block ``index``."""
        self._text_index = index
        #: A text delta up to its string, where that string starts, and what joins two such events.
        self._text_event = _TEXT_EVENT % index
        self._text_cut = len(self._text_event) - 1
        self._text_joint = _TEXT_END + b"\n\n" + self._text_event

    def _block_stop(self, event: dict[str, Any], out: list[StreamEvent]) -> None:
        index = event.get("index")
        if index in self._no_arguments:
            self._no_arguments.discard(index)
            # A call without parameters streams no input_json_delta; OpenAI clients expect "{}".
            out.append(ToolCallDelta(index=self._tools[index], arguments="{}"))

    def _merge_usage(self, usage: Any) -> None:
        if isinstance(usage, dict):
            if None in usage.values():
                usage = {key: value for key, value in usage.items() if value is not None}
            self._usage.update(usage)

    def _finish(self, out: list[StreamEvent]) -> None:
        out.append(Finish(finish_reason(self._stop_reason)))
        usage = usage_from(self._usage) if self._usage else None
        if usage is not None:
            out.append(UsageReport(usage))
        self.done = True


_HANDLERS: dict[Any, Callable[[MessagesStreamDecoder, dict[str, Any], list[StreamEvent]], None]] = {
    "content_block_delta": MessagesStreamDecoder._delta,
    "content_block_start": MessagesStreamDecoder._block_start,
    "content_block_stop": MessagesStreamDecoder._block_stop,
    "message_start": MessagesStreamDecoder._message_start,
    "message_delta": MessagesStreamDecoder._message_delta,
    "message_stop": MessagesStreamDecoder._message_stop,
    "error": MessagesStreamDecoder._error,
}
