"""Reading a native Responses API answer without re-encoding it: usage, failure, completion."""

from __future__ import annotations

from typing import Any

import orjson

from gomodel.core.records import Usage
from gomodel.dialects.json_body import as_dict, as_int
from gomodel.dialects.sse import MarkedEvents, event_data

__all__ = ["ResponsesStreamObserver", "usage_from_responses", "usage_from_responses_body"]

_FINAL = (b'"response.completed"', b'"response.incomplete"', b'"response.failed"')


def usage_from_responses(usage: Any) -> Usage | None:
    if not isinstance(usage, dict):
        return None
    prompt = as_int(usage.get("input_tokens"))
    completion = as_int(usage.get("output_tokens"))
    cached = as_dict(usage.get("input_tokens_details")).get("cached_tokens")
    reasoning = as_dict(usage.get("output_tokens_details")).get("reasoning_tokens")
    total = usage.get("total_tokens")
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=total if isinstance(total, int) else prompt + completion,
        cached_tokens=cached if isinstance(cached, int) else None,
        reasoning_tokens=reasoning if isinstance(reasoning, int) else None,
    )


def usage_from_responses_body(body: bytes) -> Usage | None:
    try:
        return usage_from_responses(as_dict(orjson.loads(body)).get("usage"))
    except orjson.JSONDecodeError:
        return None


class ResponsesStreamObserver:
    """Same role as `ChatStreamFilter` for relayed Responses streams: every event is kept."""

    __slots__ = ("_marked", "done", "error", "events", "usage")

    def __init__(self) -> None:
        self._marked = MarkedEvents(*_FINAL, b'"type":"error"')
        self.usage: Usage | None = None
        self.error: str | None = None
        self.done = False
        self.events = 0

    def next_to_read(self, block: bytes, start: int) -> int:
        """The next final or error event. The events passed over are counted, since an error event
        the gateway adds continues their sequence numbers."""
        following = self._marked.next_from(block, start)
        self.events += block.count(b"\n\n", start, following)
        return following

    def keep(self, event: bytes) -> bool:
        self.events += 1
        # Only the final event carries usage; the rest pass untouched without a parse.
        if not any(marker in event[:120] for marker in _FINAL) and b'"type":"error"' not in event[:80]:
            return True
        data = event_data(event)
        try:
            payload = as_dict(orjson.loads(data)) if data else {}
        except orjson.JSONDecodeError:
            return True
        kind = payload.get("type")
        if kind == "error":
            self.error = str(payload.get("message") or "upstream sent an error event")
            return True
        response = as_dict(payload.get("response"))
        self.usage = usage_from_responses(response.get("usage")) or self.usage
        self.done = True
        if kind == "response.failed":
            self.error = str(as_dict(response.get("error")).get("message") or "the response failed")
        return True
