"""Converse response JSON -> `ChatResponse`; the stop-reason and usage mappings the stream shares."""

from __future__ import annotations

from typing import Any

import orjson

from gomodel.core.chat import ChatResponse, FinishReason, ToolCall
from gomodel.core.errors import UpstreamError
from gomodel.core.records import Usage

__all__ = ["decode_converse", "finish_reason", "usage_from"]

_FINISH: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
    # The model produced output Bedrock could not parse: not a clean end.
    "malformed_model_output": "error",
    "malformed_tool_use": "error",
}


def finish_reason(stop_reason: object) -> FinishReason:
    return _FINISH.get(stop_reason, "stop") if isinstance(stop_reason, str) else "stop"


def usage_from(payload: object) -> Usage | None:
    """Bedrock's ``inputTokens`` leaves out cache reads and writes; OpenAI's prompt count includes them."""
    if not isinstance(payload, dict):
        return None
    cache_read = _count(payload.get("cacheReadInputTokens"))
    cache_write = _count(payload.get("cacheWriteInputTokens"))
    prompt = (_count(payload.get("inputTokens")) or 0) + (cache_read or 0) + (cache_write or 0)
    completion = _count(payload.get("outputTokens")) or 0
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=prompt + completion,
        cached_tokens=cache_read,
        cache_creation_tokens=cache_write,
    )


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def decode_converse(body: bytes, *, response_id: str, model: str, created: int) -> ChatResponse:
    """A Converse 200 body -> `ChatResponse`; raises `UpstreamError` when it is not a Converse answer."""
    try:
        payload: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise UpstreamError("Bedrock returned a Converse response that is not JSON") from None
    output = payload.get("output") if isinstance(payload, dict) else None
    message = output.get("message") if isinstance(output, dict) else None
    if not isinstance(message, dict) or not isinstance(message.get("content"), list):
        raise UpstreamError("Bedrock returned a Converse response without output.message.content")
    text: list[str] = []
    reasoning: list[str] = []
    signature = None
    calls: list[ToolCall] = []
    for block in message["content"]:
        if not isinstance(block, dict):
            continue
        if isinstance(block.get("text"), str):
            text.append(block["text"])
        elif isinstance(block.get("toolUse"), dict):
            use = block["toolUse"]
            calls.append(
                ToolCall(
                    id=str(use.get("toolUseId", "")),
                    name=str(use.get("name", "")),
                    arguments=orjson.dumps(use.get("input", {})).decode(),
                )
            )
        elif isinstance(block.get("reasoningContent"), dict):
            thought = block["reasoningContent"].get("reasoningText")
            if isinstance(thought, dict):
                reasoning.append(str(thought.get("text", "")))
                signature = thought.get("signature") or signature
    return ChatResponse(
        id=response_id,
        model=model,
        created=created,
        content="".join(text) if text or not calls else None,
        reasoning="".join(reasoning) or None,
        reasoning_signature=signature,
        tool_calls=tuple(calls),
        finish_reason=finish_reason(payload.get("stopReason")),
        usage=usage_from(payload.get("usage")),
    )
