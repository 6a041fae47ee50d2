"""A ``GenerateContentResponse`` -> `ChatResponse`, plus what the stream decoder shares with it.

Only the first candidate is read: the gateway never asks for more. Thought parts (``"thought": true``)
are reasoning; every other text part is content. Usage follows OpenAI's counting: completion tokens
include the thinking tokens, and cached prompt tokens are part of the prompt.

Finish reasons: ``STOP`` is ``stop`` (``tool_calls`` when the answer called functions), ``MAX_TOKENS``
is ``length``, the safety family is ``content_filter``. A function call the model botched
(``MALFORMED_FUNCTION_CALL`` and its kin) is an upstream failure, a 502 with code
``malformed_function_call``: the answer holds nothing usable, and a retry usually succeeds, whereas
a ``stop`` with empty content would pass for a real, empty answer.
"""

from __future__ import annotations

from typing import Any

import orjson

from gomodel.core.chat import ChatResponse, FinishReason, ToolCall
from gomodel.core.errors import GatewayError, UpstreamError
from gomodel.core.records import Usage
from gomodel.dialects.gemini.errors import prompt_blocked_error
from gomodel.dialects.gemini.tool_ids import tool_call_id
from gomodel.dialects.json_body import as_dict

__all__ = [
    "decode_generate_response",
    "finish_failure",
    "finish_reason",
    "first_candidate",
    "function_call",
    "parts_of",
    "usage_from_metadata",
]

_FINISH: dict[str, FinishReason] = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "IMAGE_PROHIBITED_CONTENT": "content_filter",
    "IMAGE_RECITATION": "content_filter",
}
_FAILED_CALLS = frozenset({"MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL", "TOO_MANY_TOOL_CALLS"})


def decode_generate_response(payload: Any, provider: str, model: str) -> ChatResponse:
    """``model`` names the answer when Gemini does not (``modelVersion``); raises on refusals."""
    if not isinstance(payload, dict):
        raise UpstreamError(f"provider {provider} returned a response that is not a JSON object")
    candidate = first_candidate(payload)
    if candidate is None:
        raise prompt_blocked_error(provider, payload.get("promptFeedback")) or UpstreamError(
            f"provider {provider} returned no candidates"
        )
    texts: list[str] = []
    thoughts: list[str] = []
    calls: list[ToolCall] = []
    for part in parts_of(candidate):
        call = function_call(part, len(calls))
        if call is not None:
            calls.append(call)
        elif isinstance(part.get("text"), str):
            (thoughts if part.get("thought") else texts).append(part["text"])
    failure = finish_failure(provider, candidate)
    if failure is not None:
        raise failure
    response_id = payload.get("responseId")
    return ChatResponse(
        id=f"chatcmpl-{response_id}" if isinstance(response_id, str) and response_id else "",
        model=str(payload.get("modelVersion") or model),
        created=0,
        content="".join(texts) if texts else None,
        reasoning="".join(thoughts) or None,
        tool_calls=tuple(calls),
        finish_reason=finish_reason(candidate.get("finishReason"), bool(calls)),
        usage=usage_from_metadata(payload.get("usageMetadata")),
    )


def first_candidate(payload: dict[str, Any]) -> dict[str, Any] | None:
    candidates = payload.get("candidates")
    if not isinstance(candidates, list):
        return None
    for candidate in candidates:
        if isinstance(candidate, dict) and candidate.get("index", 0) == 0:
            return candidate
    return None


def parts_of(candidate: dict[str, Any]) -> list[dict[str, Any]]:
    parts = as_dict(candidate.get("content")).get("parts")
    return [part for part in parts if isinstance(part, dict)] if isinstance(parts, list) else []


def function_call(part: dict[str, Any], index: int) -> ToolCall | None:
    """The tool call in ``part`` (the ``index``-th of its answer), or None for other parts."""
    call = part.get("functionCall")
    if not isinstance(call, dict):
        return None
    upstream_id = call.get("id") if isinstance(call.get("id"), str) else None
    signature = part.get("thoughtSignature") if isinstance(part.get("thoughtSignature"), str) else None
    return ToolCall(
        id=tool_call_id(index, upstream_id, signature),
        name=str(call.get("name") or ""),
        arguments=orjson.dumps(as_dict(call.get("args"))).decode(),
    )


def finish_failure(provider: str, candidate: dict[str, Any]) -> GatewayError | None:
    reason = candidate.get("finishReason")
    if reason not in _FAILED_CALLS:
        return None
    detail = candidate.get("finishMessage")
    return UpstreamError(
        f"provider {provider} produced an unusable function call (finishReason {reason})"
        + (f": {detail}" if detail else ""),
        code="malformed_function_call",
    )


def finish_reason(reason: Any, called_tools: bool) -> FinishReason:
    if called_tools and reason in (None, "STOP"):
        return "tool_calls"
    return _FINISH.get(reason, "stop") if isinstance(reason, str) else "stop"


def _count(metadata: dict[str, Any], key: str) -> int | None:
    value = metadata.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def usage_from_metadata(metadata: Any) -> Usage | None:
    if not isinstance(metadata, dict):
        return None
    prompt = (_count(metadata, "promptTokenCount") or 0) + (_count(metadata, "toolUsePromptTokenCount") or 0)
    thoughts = _count(metadata, "thoughtsTokenCount")
    completion = (_count(metadata, "candidatesTokenCount") or 0) + (thoughts or 0)
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=_count(metadata, "totalTokenCount") or prompt + completion,
        cached_tokens=_count(metadata, "cachedContentTokenCount"),
        reasoning_tokens=thoughts,
    )
