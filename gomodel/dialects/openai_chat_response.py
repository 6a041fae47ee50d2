"""OpenAI chat-completion objects <-> wire-neutral `ChatResponse`, and `Usage` in OpenAI's shape."""

from __future__ import annotations

from typing import Any

import orjson

from gomodel.core.chat import ChatResponse, FinishReason, ToolCall
from gomodel.core.errors import UpstreamError
from gomodel.dialects.json_body import as_dict
from gomodel.dialects.openai_usage import usage_from_mapping, usage_to_openai

__all__ = ["arguments_text", "decode_chat_response", "encode_chat_response", "finish_reason"]

_FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
    "error": "error",
}


def arguments_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return "" if value is None else orjson.dumps(value).decode()


def finish_reason(value: Any) -> FinishReason:
    return _FINISH.get(value, "stop") if isinstance(value, str) else "stop"


def encode_chat_response(response: ChatResponse) -> bytes:
    message: dict[str, Any] = {"role": "assistant", "content": response.content, "refusal": None}
    if response.reasoning:
        message["reasoning_content"] = response.reasoning
    if response.reasoning_signature:
        message["reasoning_signature"] = response.reasoning_signature
    if response.tool_calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in response.tool_calls
        ]
    body: dict[str, Any] = {
        "id": response.id,
        "object": "chat.completion",
        "created": response.created,
        "model": response.model,
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": response.finish_reason}
        ],
    }
    if response.usage is not None:
        body["usage"] = usage_to_openai(response.usage)
    return orjson.dumps(body)


def decode_chat_response(body: bytes, provider: str) -> ChatResponse:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise UpstreamError(f"provider {provider} returned a response that is not JSON") from None
    choices = payload.get("choices") if isinstance(payload, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise UpstreamError(f"provider {provider} returned a response without choices")
    choice = choices[0]
    message = as_dict(choice.get("message"))
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    return ChatResponse(
        id=str(payload.get("id") or ""),
        model=str(payload.get("model") or ""),
        created=int(payload.get("created") or 0),
        content=message.get("content") if isinstance(message.get("content"), str) else None,
        reasoning=reasoning if isinstance(reasoning, str) else None,
        tool_calls=tuple(
            ToolCall(
                id=str(c.get("id", "")),
                name=str(f.get("name", "")),
                arguments=arguments_text(f.get("arguments")),
            )
            for c in message.get("tool_calls") or []
            if isinstance(c, dict) and (f := as_dict(c.get("function")))
        ),
        finish_reason=finish_reason(choice.get("finish_reason")),
        usage=usage_from_mapping(payload.get("usage")),
    )
