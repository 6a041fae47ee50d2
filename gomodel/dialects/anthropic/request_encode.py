"""Wire-neutral `ChatRequest` -> Anthropic Messages request body.

Anthropic is stricter than OpenAI about the shape of a conversation, so the encoder normalises it:
system text moves to the top-level ``system``; tool results become ``tool_result`` blocks of a user
turn (before any text, as Anthropic requires); consecutive turns of one role are merged so user and
assistant alternate; messages left without content are dropped, since Anthropic rejects empty ones.
What Anthropic cannot express at all (audio input, tool arguments that are not a JSON object, a
conversation that does not open with a user turn) is a 400 here rather than an opaque upstream error.

Structured output: ``response_format`` json_schema becomes ``output_config.format``, Anthropic's
generally available structured outputs (the beta ``output_format`` it replaced is deprecated). It
constrains the text answer itself, so the client reads the JSON from ``content`` exactly as it would
from OpenAI; the older workaround, a forced tool, would move it into ``tool_calls`` and change the
finish reason. json_object has no native form and becomes an instruction in the system prompt.

Dropped because Anthropic has no equivalent: ``seed``, ``presence_penalty``, ``frequency_penalty``
and every ``metadata`` entry (Anthropic's metadata holds only ``user_id``, filled from ``user``).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any, Final

import orjson

from gomodel.core.chat import (
    ChatRequest,
    DocumentPart,
    ImagePart,
    Message,
    Part,
    TextPart,
    Tool,
)
from gomodel.core.errors import InvalidRequestError
from gomodel.dialects.anthropic.schema import strict_schema

__all__ = [
    "API_VERSION",
    "DEFAULT_MAX_TOKENS",
    "JSON_OBJECT_INSTRUCTION",
    "THINKING_BUDGETS",
    "encode_messages_request",
    "tool_use_id",
]

API_VERSION: Final = "2023-06-01"
DEFAULT_MAX_TOKENS: Final = 4096
#: OpenAI's reasoning_effort words -> thinking budget in tokens (Anthropic's minimum is 1024).
THINKING_BUDGETS: Final[Mapping[str, int]] = {
    "minimal": 1024,
    "low": 2048,
    "medium": 8192,
    "high": 16384,
    "xhigh": 32768,
}
JSON_OBJECT_INSTRUCTION: Final = (
    "Reply with one valid JSON object and nothing else: no prose, no Markdown, no code fences."
)

# Anthropic's tool_use ids must match ^[a-zA-Z0-9_-]+$; other providers' ids may not.
_TOOL_ID_FORBIDDEN = re.compile(r"[^a-zA-Z0-9_-]")


def _fail(message: str, param: str) -> InvalidRequestError:
    return InvalidRequestError(message, param=param)


def encode_messages_request(
    request: ChatRequest, *, stream: bool, default_max_tokens: int = DEFAULT_MAX_TOKENS
) -> dict[str, Any]:
    """`ChatRequest` -> the JSON body of ``POST /v1/messages``; raises `InvalidRequestError` (400)."""
    body: dict[str, Any] = {"model": request.model, "messages": _turns(request.messages)}
    system = request.system_text
    if request.response_format is not None and request.response_format.type == "json_object":
        system = f"{system}\n\n{JSON_OBJECT_INSTRUCTION}" if system else JSON_OBJECT_INSTRUCTION
    if system:
        body["system"] = system
    max_tokens = request.max_tokens if request.max_tokens is not None else default_max_tokens
    budget = _thinking_budget(request)
    if budget is not None:
        body["thinking"] = {"type": "enabled", "budget_tokens": budget}
        if max_tokens <= budget:
            # Thinking counts against max_tokens, which must exceed the budget: the client's own
            # limit is kept for the visible answer, on top of the budget.
            max_tokens = budget + (max_tokens or default_max_tokens)
    body["max_tokens"] = max_tokens
    if stream:
        body["stream"] = True
    _sampling(request, body, thinking=budget is not None)
    if request.stop:
        body["stop_sequences"] = list(request.stop)
    if request.user:
        body["metadata"] = {"user_id": request.user}
    if request.tools:
        body["tools"] = [_tool(tool) for tool in request.tools]
        choice = _tool_choice(request)
        if choice is not None:
            body["tool_choice"] = choice
    fmt = request.response_format
    if fmt is not None and fmt.type == "json_schema" and fmt.schema:
        body["output_config"] = {"format": {"type": "json_schema", "schema": strict_schema(fmt.schema)}}
    return body


def _thinking_budget(request: ChatRequest) -> int | None:
    if request.reasoning_budget is not None:
        return request.reasoning_budget if request.reasoning_budget > 0 else None
    effort = request.reasoning_effort
    if effort is None or effort == "none":
        return None
    budget = THINKING_BUDGETS.get(effort)
    if budget is None:
        known = ", ".join(["none", *THINKING_BUDGETS])
        raise _fail(f"'reasoning_effort' must be one of {known}; got {effort!r}", "reasoning_effort")
    return budget


def _sampling(request: ChatRequest, body: dict[str, Any], *, thinking: bool) -> None:
    # Extended thinking accepts only the default temperature and a top_p of at least 0.95; other
    # values are dropped rather than failing a request that merely asked for reasoning.
    temperature = request.temperature
    if temperature is not None and (not thinking or temperature == 1):
        # OpenAI's scale reaches 2, Anthropic's stops at 1: the top of one is the top of the other.
        body["temperature"] = min(temperature, 1.0)
    if request.top_p is not None and (not thinking or request.top_p >= 0.95):
        body["top_p"] = request.top_p


# --- conversation --------------------------------------------------------------------------------


def _turns(messages: tuple[Message, ...]) -> list[dict[str, Any]]:
    turns: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        if message.role == "system":
            continue
        blocks = _blocks(message, f"messages[{index}]")
        if not blocks:
            continue
        role = "assistant" if message.role == "assistant" else "user"
        if turns and turns[-1]["role"] == role:
            _merge(turns[-1]["content"], blocks)
        else:
            turns.append({"role": role, "content": blocks})
    if not turns:
        raise _fail("Anthropic needs at least one message with content besides the system prompt", "messages")
    if turns[0]["role"] != "user":
        raise _fail("Anthropic requires the conversation to start with a user message", "messages")
    return turns


def _merge(content: list[dict[str, Any]], blocks: list[dict[str, Any]]) -> None:
    if blocks[0]["type"] != "tool_result":
        content.extend(blocks)
        return
    # Tool results must open their user turn, ahead of any text that joined it earlier.
    at = next((i for i, block in enumerate(content) if block["type"] != "tool_result"), len(content))
    content[at:at] = blocks


def _blocks(message: Message, param: str) -> list[dict[str, Any]]:
    if message.role == "tool":
        return [_tool_result(message, param)]
    blocks: list[dict[str, Any]] = []
    if message.role == "assistant" and message.reasoning is not None and message.reasoning_signature:
        # Anthropic verifies the signature of replayed thinking; unsigned reasoning cannot go back.
        blocks.append(
            {"type": "thinking", "thinking": message.reasoning, "signature": message.reasoning_signature}
        )
    blocks.extend(_parts(message.content, f"{param}.content"))
    for i, call in enumerate(message.tool_calls):
        blocks.append(
            {
                "type": "tool_use",
                "id": tool_use_id(call.id),
                "name": call.name,
                "input": _arguments(call.arguments, f"{param}.tool_calls[{i}].function.arguments"),
            }
        )
    return blocks


def _parts(parts: tuple[Part, ...], param: str) -> list[dict[str, Any]]:
    # Anthropic rejects text blocks without visible text.
    return [
        _part(part, f"{param}[{i}]")
        for i, part in enumerate(parts)
        if not isinstance(part, TextPart) or part.text.strip()
    ]


def _tool_result(message: Message, param: str) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": tool_use_id(message.tool_call_id or "")}
    if all(isinstance(part, TextPart) for part in message.content):
        if message.text:
            block["content"] = message.text
    else:
        block["content"] = _parts(message.content, f"{param}.content")
    if message.is_error:
        block["is_error"] = True
    return block


def tool_use_id(call_id: str) -> str:
    """A tool call id in the alphabet Anthropic accepts (the same id always maps to the same result)."""
    return _TOOL_ID_FORBIDDEN.sub("_", call_id) or "call"


def _arguments(arguments: str, param: str) -> dict[str, Any]:
    if not arguments.strip():
        return {}
    try:
        value = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        raise _fail("tool call arguments must be valid JSON to be sent to Anthropic", param) from None
    if not isinstance(value, dict):
        raise _fail("tool call arguments must be a JSON object to be sent to Anthropic", param)
    return value


# --- content parts -------------------------------------------------------------------------------


def _part(part: Part, param: str) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if isinstance(part, ImagePart):
        return {"type": "image", "source": _image_source(part, param)}
    if isinstance(part, DocumentPart):
        return _document(part, param)
    raise _fail("Anthropic does not accept audio input", param)


def _image_source(image: ImagePart, param: str) -> dict[str, str]:
    inline = image.inline
    if inline is not None:
        media_type, data = inline
        return {"type": "base64", "media_type": media_type, "data": data}
    if image.url.startswith(("https://", "http://")):
        return {"type": "url", "url": image.url}
    raise _fail("an image must be an http(s) URL or a base64 data URL", param)


def _document(document: DocumentPart, param: str) -> dict[str, Any]:
    source: dict[str, str]
    if document.data is not None and document.media_type == "application/pdf":
        source = {"type": "base64", "media_type": "application/pdf", "data": document.data}
    elif document.data is not None and document.media_type == "text/plain":
        source = {"type": "text", "media_type": "text/plain", "data": _plain_text(document.data, param)}
    elif document.data is not None:
        raise _fail(f"Anthropic accepts PDF and plain-text documents, not {document.media_type}", param)
    elif document.url:
        source = {"type": "url", "url": document.url}
    else:
        raise _fail("a document needs inline data or a URL", param)
    block: dict[str, Any] = {"type": "document", "source": source}
    if document.name:
        block["title"] = document.name
    return block


def _plain_text(data: str, param: str) -> str:
    try:
        return base64.b64decode(data, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise _fail("a text/plain document must be base64-encoded UTF-8", param) from None


# --- tools -----------------------------------------------------------------------------------------


def _tool(tool: Tool) -> dict[str, Any]:
    schema = tool.parameters if "type" in tool.parameters else {"type": "object", **tool.parameters}
    if tool.strict:
        schema = strict_schema(schema)
    out: dict[str, Any] = {"name": tool.name, "input_schema": schema}
    if tool.description:
        out["description"] = tool.description
    if tool.strict:
        out["strict"] = True
    return out


def _tool_choice(request: ChatRequest) -> dict[str, Any] | None:
    choice = request.tool_choice
    serial = request.parallel_tool_calls is False
    if choice is None:
        return {"type": "auto", "disable_parallel_tool_use": True} if serial else None
    if choice.mode == "none":
        return {"type": "none"}
    if choice.mode == "tool":
        out: dict[str, Any] = {"type": "tool", "name": choice.name or ""}
    else:
        out = {"type": "any" if choice.mode == "required" else "auto"}
    if serial:
        out["disable_parallel_tool_use"] = True
    return out
