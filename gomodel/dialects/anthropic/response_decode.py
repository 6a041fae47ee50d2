"""Anthropic Messages answers -> wire-neutral `ChatResponse`, plus the usage and stop-reason maps.

Anthropic reports ``input_tokens`` without the cached part; the gateway counts the prompt as OpenAI
does, so ``prompt_tokens`` is input + cache read + cache creation, with the two cache counts kept
alongside. Anthropic has no ``created`` time: the decoded answer carries 0 and the gateway stamps it.
"""

from __future__ import annotations

from typing import Any, Final

import orjson

from gomodel.core.chat import ChatResponse, FinishReason, ToolCall
from gomodel.core.errors import UpstreamError
from gomodel.core.records import Usage
from gomodel.dialects.json_body import as_dict

__all__ = ["decode_messages_response", "finish_reason", "reply_object", "usage_from"]

_FINISH: Final[dict[str, FinishReason]] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    # A server tool paused a long turn; what was produced so far is a complete answer to relay.
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


def finish_reason(stop_reason: Any) -> FinishReason:
    """Anthropic ``stop_reason`` -> OpenAI ``finish_reason`` (unknown or missing reads as ``stop``)."""
    return _FINISH.get(stop_reason, "stop") if isinstance(stop_reason, str) else "stop"


def usage_from(usage: Any) -> Usage | None:
    """Anthropic's usage object -> `Usage`, or None when there is none.

    Read twice per relayed stream, so written flat like `usage_from_mapping`: exact type checks
    (decoded JSON gives exactly int; a boolean is not a count) and positional arguments: 12.9k to
    7.0k instructions."""
    if type(usage) is not dict:
        return None
    get = usage.get
    read = get("cache_read_input_tokens")
    if type(read) is not int:
        read = None
    creation = get("cache_creation_input_tokens")
    if type(creation) is not int:
        creation = None
    prompt = get("input_tokens")
    if type(prompt) is not int:
        prompt = 0
    prompt += (read or 0) + (creation or 0)
    completion = get("output_tokens")
    if type(completion) is not int:
        completion = 0
    thinking = None
    details = get("output_tokens_details")
    if type(details) is dict:
        thinking = details.get("thinking_tokens")
        if type(thinking) is not int:
            thinking = None
    return Usage(prompt, completion, prompt + completion, read, creation, thinking)


def reply_object(body: bytes, provider: str, what: str) -> dict[str, Any]:
    """A JSON object answered by the upstream; `UpstreamError` (502) when it is anything else."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        payload = None
    if not isinstance(payload, dict):
        raise UpstreamError(f"provider {provider} returned a {what} that is not a JSON object")
    return payload


def decode_messages_response(body: bytes, provider: str) -> ChatResponse:
    """A ``message`` -> `ChatResponse`: text blocks joined, thinking as reasoning, tool_use as calls."""
    payload = reply_object(body, provider, "response")
    content = payload.get("content")
    if not isinstance(content, list):
        raise UpstreamError(f"provider {provider} returned a message without content")
    texts: list[str] = []
    thoughts: list[str] = []
    signature: str | None = None
    calls: list[ToolCall] = []
    for entry in content:
        block = as_dict(entry)
        kind = block.get("type")
        if kind == "text":
            texts.append(str(block.get("text") or ""))
        elif kind == "thinking":
            thoughts.append(str(block.get("thinking") or ""))
            signature = block.get("signature") or signature
        elif kind == "tool_use":
            calls.append(
                ToolCall(
                    id=str(block.get("id") or ""),
                    name=str(block.get("name") or ""),
                    arguments=orjson.dumps(block.get("input") or {}).decode(),
                )
            )
    return ChatResponse(
        id=str(payload.get("id") or ""),
        model=str(payload.get("model") or ""),
        created=0,
        content="".join(texts) if texts or not calls else None,
        reasoning="".join(thoughts) if thoughts else None,
        reasoning_signature=signature,
        tool_calls=tuple(calls),
        finish_reason=finish_reason(payload.get("stop_reason")),
        usage=usage_from(payload.get("usage")),
    )
