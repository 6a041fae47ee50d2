"""OpenAI chat completions: read what routing and usage need, relay everything else untouched."""

from __future__ import annotations

from typing import Any

import attrs
import orjson

from gomodel.core.errors import InvalidRequestError
from gomodel.core.records import Usage
from gomodel.dialects.json_body import decode_object, require_model
from gomodel.dialects.json_member import UNKNOWN, last_object_member
from gomodel.dialects.openai_usage import usage_from_mapping
from gomodel.dialects.sse import END_TAIL, MarkedEvents, event_data

__all__ = ["ChatCall", "ChatStreamFilter", "parse_chat_request", "upstream_chat_body", "usage_from_response"]

DONE = b"[DONE]"
#: Answers larger than this have their usage read by `last_object_member` (an embeddings answer).
QUICK_READ_FROM = 4096


@attrs.define(slots=True)
class ChatCall:
    """The parts of a chat request the gateway acts on; ``payload`` is the whole decoded body.

    Built once per request and never changed: not frozen, because a frozen attrs class sets each
    field through ``object.__setattr__``."""

    payload: dict[str, Any]
    model: str
    stream: bool
    #: The client asked for the usage chunk itself (``stream_options.include_usage``).
    wants_usage: bool


def parse_chat_request(body: bytes) -> ChatCall:
    # The common case is checked inline, exact types as JSON decodes them; the shared helpers are
    # called only to word a 400. Read on every chat request.
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        payload = None
    if type(payload) is not dict:
        payload = decode_object(body)  # raises the 400 that says what is wrong
    model = payload.get("model")
    if type(model) is not str or not model.strip():
        model = require_model(payload)
    messages = payload.get("messages")
    if type(messages) is not list or not messages:
        raise InvalidRequestError(
            "'messages' must be a non-empty array of message objects",
            param="messages",
            code="invalid_messages",
        )
    for message in messages:
        if type(message) is not dict:  # decoded JSON: exactly dict, never a subclass
            raise InvalidRequestError("every entry of 'messages' must be an object", param="messages")
    stream = payload.get("stream", False)
    if stream is None:
        stream = False
    if type(stream) is not bool:
        raise InvalidRequestError("'stream' must be a boolean", param="stream")
    options = payload.get("stream_options")
    if options is not None and type(options) is not dict:
        raise InvalidRequestError("'stream_options' must be an object", param="stream_options")
    wants_usage = bool(options and options.get("include_usage") is True)
    return ChatCall(payload, model, stream, wants_usage)


def upstream_chat_body(call: ChatCall, raw: bytes, upstream_model: str, *, force_usage: bool) -> bytes:
    """The body to send upstream: the client's own bytes unless the model or stream options must change."""
    add_usage = call.stream and force_usage and not call.wants_usage
    if upstream_model == call.model:
        if not add_usage:
            return raw
        body = raw.lstrip()
        if "stream_options" not in call.payload and body.startswith(b"{"):
            # Spliced in front rather than re-encoded: the client's bytes stay as they were, and a long
            # conversation is not encoded again on every streamed request (the body always has keys).
            return b'{"stream_options":{"include_usage":true},' + body[1:]
    payload = dict(call.payload)
    payload["model"] = upstream_model
    if add_usage:
        payload["stream_options"] = {**(payload.get("stream_options") or {}), "include_usage": True}
    return orjson.dumps(payload)


def usage_from_response(body: bytes) -> Usage | None:
    """Usage of a non-streaming chat or embeddings response; None when absent or unreadable."""
    # Below a few kilobytes decoding the whole answer costs less than the Python steps of the quick read.
    usage = last_object_member(body, b'"usage"') if len(body) > QUICK_READ_FROM else UNKNOWN
    if usage is UNKNOWN:
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        usage = payload.get("usage") if isinstance(payload, dict) else None
    return usage_from_mapping(usage)


class ChatStreamFilter:
    """Observes an OpenAI chat SSE stream event by event.

    Collects usage and notices an upstream error event; drops the usage-only chunk the gateway asked
    for on the client's behalf. Everything else passes through byte for byte.
    """

    __slots__ = ("_drop_usage_chunk", "_marked", "error", "usage")

    def __init__(self, *, client_wants_usage: bool) -> None:
        self._drop_usage_chunk = not client_wants_usage
        # Only an error and a usage object are worth reading (OpenAI sends ``"usage":null`` on every
        # chunk but the last); byte scans find them, so the chunks before them are relayed without
        # Python work per event: a 50-chunk relay went from 2.6x to 1.5x the instructions of a bare
        # aiohttp relay. Every usage object has ``..._tokens`` keys whatever the spacing: one scan for
        # both spellings of ``"usage":{``; the word in plain text costs a parse of that chunk.
        # Both come at the end of a stream (the usage chunk is the last before ``[DONE]``, an error
        # ends the stream; usage sent on every chunk is cumulative), so only the events in the last
        # `END_TAIL` bytes of each block are searched: the scans of the benchmark's 12.6 KB stream,
        # read in one block, went from 57k instructions to 9k.
        self._marked = MarkedEvents(b"_tokens", b'"error"', tail=END_TAIL)
        self.usage: Usage | None = None
        self.error: str | None = None

    def next_to_read(self, block: bytes, start: int) -> int:
        return self._marked.next_from(block, start)

    def keep(self, event: bytes) -> bool:
        """Only events holding a marker come here: each is decoded once, no pre-checks."""
        data = event_data(event)
        if data is None or data == DONE:
            return True  # comments, keep-alives and the end marker pass through
        try:
            chunk = orjson.loads(data)
        except orjson.JSONDecodeError:
            if data.startswith(b'{"error"'):  # a truncated error event is still an error
                self.error = "upstream sent an error event"
            return True
        if type(chunk) is not dict:
            return True
        # An error event (OpenAI: ``{"error": ...}``; OpenRouter: a chunk with a top-level ``error``).
        error = chunk.get("error")
        if error:
            message = error.get("message") if type(error) is dict else error
            self.error = message if isinstance(message, str) and message else "upstream sent an error event"
            return True
        usage = chunk.get("usage")
        if type(usage) is dict:
            self.usage = usage_from_mapping(usage)
            if self._drop_usage_chunk and not chunk.get("choices"):
                return False
        return True
