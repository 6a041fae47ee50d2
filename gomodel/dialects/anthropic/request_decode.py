"""An Anthropic Messages request (the ``/v1/messages`` ingress) -> wire-neutral `ChatRequest`.

Tool results, which Anthropic sends inside user turns, become tool messages placed before the rest of
that turn; ``tool_use`` blocks become assistant tool calls with their ``input`` as JSON text; thinking
blocks become reasoning (with its signature) so it can be replayed. Unknown ``anthropic-beta``
features never reach this code: they are headers, passed on to Anthropic and ignored elsewhere.
"""

from __future__ import annotations

from typing import Any

import orjson

from gomodel.core.chat import (
    ChatRequest,
    DocumentPart,
    ImagePart,
    Message,
    Part,
    ResponseFormat,
    TextPart,
    Tool,
    ToolCall,
    ToolChoice,
    data_url,
)
from gomodel.core.errors import InvalidRequestError
from gomodel.dialects.json_body import as_dict

__all__ = ["decode_anthropic_request"]


def _fail(message: str, param: str) -> InvalidRequestError:
    return InvalidRequestError(message, param=param)


def decode_anthropic_request(
    payload: dict[str, Any], model: str, *, require_max_tokens: bool = True
) -> ChatRequest:
    """``require_max_tokens`` is off for count_tokens, whose requests carry none."""
    max_tokens = payload.get("max_tokens")
    if max_tokens is None and require_max_tokens:
        raise _fail("max_tokens: Field required", "max_tokens")
    if max_tokens is not None and (
        isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1
    ):
        raise _fail("max_tokens: must be a positive integer", "max_tokens")
    raw_messages = payload.get("messages")
    if not isinstance(raw_messages, list) or not raw_messages:
        raise _fail("messages: at least one message is required", "messages")
    messages: list[Message] = []
    system = _system(payload.get("system"))
    if system:
        messages.append(Message(role="system", content=(TextPart(system),)))
    for index, raw in enumerate(raw_messages):
        messages.extend(_turn(raw, index))
    request = ChatRequest(
        model=model, messages=tuple(messages), stream=payload.get("stream") is True, max_tokens=max_tokens
    )
    if not payload.keys() <= _BASIC_FIELDS:
        _options(payload, request)
    return request


#: The fields of the plainest requests; any other is read by `_options` (skipped for a plain request:
#: ~9k instructions of lookups that find nothing).
_BASIC_FIELDS = frozenset(("model", "max_tokens", "messages", "system", "stream"))


def _options(payload: dict[str, Any], request: ChatRequest) -> None:
    thinking = as_dict(payload.get("thinking"))
    budget = thinking.get("budget_tokens") if thinking.get("type") == "enabled" else None
    request.temperature = _number(payload, "temperature")
    request.top_p = _number(payload, "top_p")
    request.stop = _stop(payload.get("stop_sequences"))
    request.tools = _tools(payload.get("tools"))
    request.tool_choice = _tool_choice(payload.get("tool_choice"))
    if as_dict(payload.get("tool_choice")).get("disable_parallel_tool_use"):
        request.parallel_tool_calls = False
    request.response_format = _output_format(payload)
    request.reasoning_budget = budget if isinstance(budget, int) and budget > 0 else None
    request.user = _user(payload.get("metadata"))


def _number(payload: dict[str, Any], key: str) -> float | None:
    value = payload.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(f"{key}: must be a number", key)
    return float(value)


def _stop(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list) and all(isinstance(s, str) for s in value):
        return tuple(value)
    raise _fail("stop_sequences: must be an array of strings", "stop_sequences")


def _user(metadata: Any) -> str | None:
    user = as_dict(metadata).get("user_id")
    return user if isinstance(user, str) and user else None


def _system(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        texts = []
        for index, block in enumerate(value):
            if (
                not isinstance(block, dict)
                or block.get("type") != "text"
                or not isinstance(block.get("text"), str)
            ):
                raise _fail("system: only text blocks are allowed", f"system.{index}")
            texts.append(block["text"])
        return "\n\n".join(texts)
    raise _fail("system: must be a string or an array of text blocks", "system")


def _turn(raw: Any, index: int) -> list[Message]:
    # The error's param is built only when needed: most turns are valid and one string of text.
    if not isinstance(raw, dict):
        raise _fail("each message must be an object", f"messages.{index}")
    role = raw.get("role")
    if role not in ("user", "assistant"):
        raise _fail(f"messages.{index}.role: must be 'user' or 'assistant'", f"messages.{index}.role")
    content = raw.get("content")
    if isinstance(content, str):
        return [Message(role=role, content=(TextPart(content),) if content else ())]
    param = f"messages.{index}"
    if not isinstance(content, list):
        raise _fail(f"{param}.content: must be a string or an array of blocks", f"{param}.content")
    if role == "assistant":
        return [_assistant(content, param)]
    return _user_turn(content, param)


def _assistant(blocks: list[Any], param: str) -> Message:
    parts: list[Part] = []
    calls: list[ToolCall] = []
    reasoning: list[str] = []
    signature: str | None = None
    for index, block in enumerate(blocks):
        where = f"{param}.content.{index}"
        kind = as_dict(block).get("type")
        if kind == "text":
            parts.append(TextPart(str(block.get("text", ""))))
        elif kind == "tool_use":
            if not isinstance(block.get("id"), str) or not isinstance(block.get("name"), str):
                raise _fail("tool_use blocks need id and name", where)
            arguments = orjson.dumps(block.get("input") if block.get("input") is not None else {}).decode()
            calls.append(ToolCall(id=block["id"], name=block["name"], arguments=arguments))
        elif kind == "thinking":
            reasoning.append(str(block.get("thinking", "")))
            signature = block.get("signature") if isinstance(block.get("signature"), str) else signature
        elif kind == "redacted_thinking":
            continue  # opaque to every provider but Anthropic, which is relayed natively
        else:
            raise _fail(f"content block type {kind!r} is not supported in assistant turns", where)
    return Message(
        role="assistant",
        content=tuple(parts),
        tool_calls=tuple(calls),
        reasoning="".join(reasoning) or None,
        reasoning_signature=signature,
    )


def _user_turn(blocks: list[Any], param: str) -> list[Message]:
    results: list[Message] = []
    parts: list[Part] = []
    for index, block in enumerate(blocks):
        where = f"{param}.content.{index}"
        kind = as_dict(block).get("type")
        if kind == "tool_result":
            tool_use_id = block.get("tool_use_id")
            if not isinstance(tool_use_id, str):
                raise _fail("tool_result blocks need tool_use_id", where)
            results.append(
                Message(
                    role="tool",
                    tool_call_id=tool_use_id,
                    content=_result_content(block.get("content"), where),
                    is_error=block.get("is_error") is True,
                )
            )
        else:
            parts.append(_part(block, where))
    # Chat dialects want tool results right after the assistant turn that called the tools.
    return results + ([Message(role="user", content=tuple(parts))] if parts else [])


def _result_content(value: Any, param: str) -> tuple[Part, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (TextPart(value),)
    if isinstance(value, list):
        return tuple(_part(block, f"{param}.content.{i}") for i, block in enumerate(value))
    raise _fail("tool_result content must be a string or an array of blocks", param)


def _part(block: Any, param: str) -> Part:
    kind = as_dict(block).get("type")
    if kind == "text" and isinstance(block.get("text"), str):
        return TextPart(block["text"])
    if kind == "image":
        source = as_dict(block.get("source"))
        if source.get("type") == "base64" and isinstance(source.get("data"), str):
            return ImagePart(url=data_url(str(source.get("media_type") or "image/png"), source["data"]))
        if source.get("type") == "url" and isinstance(source.get("url"), str):
            return ImagePart(url=source["url"])
        raise _fail("image source must be base64 or url", f"{param}.source")
    if kind == "document":
        source = as_dict(block.get("source"))
        title = block.get("title") if isinstance(block.get("title"), str) else None
        if source.get("type") == "base64" and isinstance(source.get("data"), str):
            media_type = str(source.get("media_type") or "application/pdf")
            return DocumentPart(media_type=media_type, data=source["data"], name=title)
        if source.get("type") == "text" and isinstance(source.get("data"), str):
            return TextPart(source["data"])
        if source.get("type") == "url" and isinstance(source.get("url"), str):
            return DocumentPart(media_type="application/pdf", url=source["url"], name=title)
        raise _fail("document source must be base64, text or url", f"{param}.source")
    raise _fail(f"content block type {kind!r} is not supported", param)


def _tools(value: Any) -> tuple[Tool, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _fail("tools: must be an array", "tools")
    tools = []
    for index, raw in enumerate(value):
        tool = as_dict(raw)
        kind = tool.get("type", "custom")
        if kind != "custom" or not isinstance(tool.get("name"), str):
            raise _fail(
                f"tool type {kind!r} runs only on Anthropic's own API; other providers take custom tools",
                f"tools.{index}",
            )
        schema = tool.get("input_schema")
        if not isinstance(schema, dict):
            raise _fail("tools: input_schema must be an object", f"tools.{index}.input_schema")
        tools.append(
            Tool(
                name=tool["name"],
                description=tool.get("description") if isinstance(tool.get("description"), str) else None,
                parameters=schema,
                strict=tool.get("strict") if isinstance(tool.get("strict"), bool) else None,
            )
        )
    return tuple(tools)


def _tool_choice(value: Any) -> ToolChoice | None:
    if value is None:
        return None
    kind = as_dict(value).get("type")
    if kind == "auto":
        return ToolChoice(mode="auto")
    if kind == "any":
        return ToolChoice(mode="required")
    if kind == "none":
        return ToolChoice(mode="none")
    if kind == "tool" and isinstance(value.get("name"), str):
        return ToolChoice(mode="tool", name=value["name"])
    raise _fail("tool_choice: type must be auto, any, tool or none", "tool_choice")


def _output_format(payload: dict[str, Any]) -> ResponseFormat | None:
    fmt = as_dict(payload.get("output_format")) or as_dict(
        as_dict(payload.get("output_config")).get("format")
    )
    if fmt.get("type") == "json_schema" and isinstance(fmt.get("schema"), dict):
        return ResponseFormat(type="json_schema", schema=fmt["schema"], name="response", strict=True)
    return None
