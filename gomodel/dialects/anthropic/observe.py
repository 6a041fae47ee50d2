"""Reading a relayed Anthropic Messages stream without re-encoding it: usage and failures."""

from __future__ import annotations

import attrs
import orjson

from gomodel.core.records import Usage
from gomodel.dialects.anthropic.response_decode import usage_from
from gomodel.dialects.json_body import as_dict
from gomodel.dialects.sse import MarkedEvents, event_data

__all__ = ["AnthropicStreamObserver", "usage_from_message_body"]


def usage_from_message_body(body: bytes) -> Usage | None:
    try:
        return usage_from(as_dict(orjson.loads(body)).get("usage"))
    except orjson.JSONDecodeError:
        return None


_READ = (b"message_start", b"message_delta", b"event: error")


class AnthropicStreamObserver:
    """Usage comes in two halves (``message_start``: input and cache; ``message_delta``: output), so
    only those two event types, and ``error``, are parsed; deltas pass through untouched."""

    __slots__ = ("_marked", "error", "usage")

    def __init__(self) -> None:
        self._marked = MarkedEvents(*_READ)
        self.usage: Usage | None = None
        self.error: str | None = None

    def next_to_read(self, block: bytes, start: int) -> int:
        return self._marked.next_from(block, start)

    def keep(self, event: bytes) -> bool:
        head = event[:40]
        if b"message_start" not in head and b"message_delta" not in head and b"event: error" not in head:
            return True
        data = event_data(event)
        try:
            payload = as_dict(orjson.loads(data)) if data else {}
        except orjson.JSONDecodeError:
            return True
        kind = payload.get("type")
        if kind == "error":
            self.error = str(as_dict(payload.get("error")).get("message") or "upstream sent an error event")
        elif kind == "message_start":
            self.usage = usage_from(as_dict(payload.get("message")).get("usage"))
        elif kind == "message_delta":
            self._merge(usage_from(payload.get("usage")))
        return True

    def _merge(self, delta: Usage | None) -> None:
        if delta is None:
            return
        if self.usage is None:
            self.usage = delta
            return
        # message_delta usage is cumulative for output; input fields appear there only when they changed.
        prompt = delta.prompt_tokens or self.usage.prompt_tokens
        completion = delta.completion_tokens
        self.usage = attrs.evolve(
            self.usage,
            prompt_tokens=prompt,
            completion_tokens=completion,
            total_tokens=prompt + completion,
        )
