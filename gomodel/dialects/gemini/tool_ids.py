"""Tool-call ids across the OpenAI <-> Gemini boundary.

Gemini names function calls but rarely identifies them, while OpenAI clients answer each call by id.
Calls get ``call_<n>`` (their position in the answer) unless Gemini sent an id of its own; on the way
back a tool result finds its function name through the assistant turn that holds the same id.

Gemini 3 also rejects a replayed function call without the ``thoughtSignature`` it came with, and
OpenAI's message shape has no place for one, so the signature rides in the id after a marker:
``call_0__thought__<signature>``. Any OpenAI client echoes ids verbatim, which brings it back.
"""

from __future__ import annotations

__all__ = ["SKIP_SIGNATURE", "split_tool_call_id", "tool_call_id"]

_MARK = "__thought__"
#: Google's documented stand-in for calls the model did not produce (other providers' turns, edits).
SKIP_SIGNATURE = "skip_thought_signature_validator"


def tool_call_id(index: int, upstream_id: str | None, signature: str | None) -> str:
    base = upstream_id or f"call_{index}"
    return f"{base}{_MARK}{signature}" if signature else base


def split_tool_call_id(call_id: str) -> tuple[str, str | None]:
    """``(id, thought signature or None)`` of an id made by `tool_call_id` (or any other id)."""
    base, mark, signature = call_id.partition(_MARK)
    return (base, signature or None) if mark else (call_id, None)
