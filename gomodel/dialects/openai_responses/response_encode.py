"""Wire-neutral answers -> Responses API objects (``response`` and its output items)."""

from __future__ import annotations

import secrets
from typing import Any

from gomodel.core.chat import ChatRequest, ChatResponse, FinishReason, ToolCall
from gomodel.core.records import Usage

__all__ = [
    "ResponseShell",
    "function_call_item",
    "message_item",
    "new_id",
    "reasoning_item",
    "usage_to_responses",
]


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(16)}"


def usage_to_responses(usage: Usage) -> dict[str, Any]:
    return {
        "input_tokens": usage.prompt_tokens,
        "input_tokens_details": {"cached_tokens": usage.cached_tokens or 0},
        "output_tokens": usage.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens or 0},
        "total_tokens": usage.total_tokens or usage.prompt_tokens + usage.completion_tokens,
    }


def message_item(item_id: str, text: str, status: str = "completed") -> dict[str, Any]:
    # An item opens empty; its output_text part arrives with response.content_part.added, as OpenAI does.
    done = status == "completed"
    content = [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}] if done else []
    return {"type": "message", "id": item_id, "status": status, "role": "assistant", "content": content}


def function_call_item(item_id: str, call: ToolCall, status: str = "completed") -> dict[str, Any]:
    return {
        "type": "function_call",
        "id": item_id,
        "call_id": call.id,
        "name": call.name,
        "arguments": call.arguments,
        "status": status,
    }


def reasoning_item(item_id: str, text: str, signature: str | None = None) -> dict[str, Any]:
    """A reasoning item; a provider's thinking signature rides in ``encrypted_content`` so the client
    hands it back with the next turn, as Anthropic requires for thinking before tool calls."""
    summary = [{"type": "summary_text", "text": text}] if text else []
    item: dict[str, Any] = {"type": "reasoning", "id": item_id, "summary": summary}
    if signature:
        item["encrypted_content"] = signature
    return item


class ResponseShell:
    """The parts of a ``response`` object that echo the request; the same id throughout a stream."""

    def __init__(self, request: ChatRequest, payload: dict[str, Any], model: str, created: int) -> None:
        self.id = new_id("resp")
        self._base: dict[str, Any] = {
            "id": self.id,
            "object": "response",
            "created_at": created,
            "model": model,
            "instructions": payload.get("instructions"),
            "max_output_tokens": request.max_tokens,
            "metadata": request.metadata or {},
            "parallel_tool_calls": request.parallel_tool_calls
            if request.parallel_tool_calls is not None
            else True,
            "previous_response_id": None,
            "reasoning": payload.get("reasoning") or {"effort": None, "summary": None},
            "store": False,
            "temperature": request.temperature if request.temperature is not None else 1.0,
            "text": payload.get("text") or {"format": {"type": "text"}},
            "tool_choice": payload.get("tool_choice", "auto"),
            "tools": payload.get("tools") or [],
            "top_p": request.top_p if request.top_p is not None else 1.0,
            "truncation": "disabled",
            "user": request.user,
        }

    def build(
        self,
        status: str,
        output: list[dict[str, Any]],
        usage: Usage | None = None,
        *,
        incomplete: str | None = None,
        error: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return {
            **self._base,
            "status": status,
            "output": output,
            "usage": usage_to_responses(usage) if usage is not None else None,
            "incomplete_details": {"reason": incomplete} if incomplete else None,
            "error": error,
        }

    def complete(self, response: ChatResponse) -> dict[str, Any]:
        """A whole non-streamed answer."""
        output: list[dict[str, Any]] = []
        if response.reasoning or response.reasoning_signature:
            output.append(
                reasoning_item(new_id("rs"), response.reasoning or "", response.reasoning_signature)
            )
        if response.content:
            output.append(message_item(new_id("msg"), response.content))
        output.extend(function_call_item(new_id("fc"), call) for call in response.tool_calls)
        status, incomplete = final_status(response.finish_reason)
        return self.build(status, output, response.usage, incomplete=incomplete)


def final_status(reason: FinishReason) -> tuple[str, str | None]:
    """(status, incomplete reason) for a finish reason: a cut-off answer is "incomplete", as OpenAI says."""
    if reason == "length":
        return "incomplete", "max_output_tokens"
    if reason == "content_filter":
        return "incomplete", "content_filter"
    return "completed", None
