"""Wire-neutral answers -> Anthropic Messages responses (the ``/v1/messages`` ingress)."""

from __future__ import annotations

import itertools
import secrets
from typing import Any

import orjson

from gomodel.core.chat import ChatResponse, FinishReason
from gomodel.core.records import Usage

__all__ = ["encode_anthropic_response", "new_message_id", "stop_reason", "tool_input", "usage_to_anthropic"]

_STOP_REASONS: dict[FinishReason, str] = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "refusal",
    "error": "end_turn",
}


# A random per-process prefix and a counter, like request ids: as unique as 12 random bytes per id,
# without a getrandom() system call for each (two per translated Messages stream).
_ID_PREFIX = secrets.token_hex(6)
_ID_COUNTER = itertools.count(1)


def new_message_id() -> str:
    return f"msg_{_ID_PREFIX}{next(_ID_COUNTER):012x}"


def stop_reason(reason: FinishReason) -> str:
    return _STOP_REASONS.get(reason, "end_turn")


def usage_to_anthropic(usage: Usage | None) -> dict[str, int]:
    """Anthropic counts cache reads and writes apart from ``input_tokens``; the neutral total has them."""
    if usage is None:
        return {"input_tokens": 0, "output_tokens": 0}
    cached = usage.cached_tokens or 0
    written = usage.cache_creation_tokens or 0
    return {
        "input_tokens": max(usage.prompt_tokens - cached - written, 0),
        "output_tokens": usage.completion_tokens,
        "cache_creation_input_tokens": written,
        "cache_read_input_tokens": cached,
    }


def tool_input(arguments: str) -> Any:
    """A tool call's JSON text as the object Anthropic's ``input`` wants (``{}`` when the model sent junk)."""
    try:
        value = orjson.loads(arguments) if arguments.strip() else {}
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {"value": value}


def encode_anthropic_response(response: ChatResponse, model: str) -> bytes:
    content: list[dict[str, Any]] = []
    if response.reasoning:
        content.append(
            {
                "type": "thinking",
                "thinking": response.reasoning,
                "signature": response.reasoning_signature or "",
            }
        )
    if response.content:
        content.append({"type": "text", "text": response.content})
    for call in response.tool_calls:
        content.append(
            {"type": "tool_use", "id": call.id, "name": call.name, "input": tool_input(call.arguments)}
        )
    message = {
        "id": response.id if response.id.startswith("msg_") else new_message_id(),
        "type": "message",
        "role": "assistant",
        "model": response.model or model,
        "content": content,
        "stop_reason": stop_reason(response.finish_reason),
        "stop_sequence": None,
        "usage": usage_to_anthropic(response.usage),
    }
    return orjson.dumps(message)
