"""A Responses API request -> wire-neutral `ChatRequest` (stateless: ``store: false`` semantics).

``input`` is a string or a list of items (messages, ``function_call``, ``function_call_output``,
``reasoning``); ``instructions`` becomes the leading system message. Built-in tools (web search, file
search, code interpreter...) need OpenAI's own servers, so asking another provider for them is a 400.
"""

from __future__ import annotations

from typing import Any

import attrs

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
    parse_data_url,
)
from gomodel.core.errors import InvalidRequestError
from gomodel.dialects.json_body import as_dict
from gomodel.dialects.openai_tools import function_tool, tool_choice

__all__ = ["decode_responses_request"]

_ROLES = {"user": "user", "assistant": "assistant", "system": "system", "developer": "system"}
_TEXT_PARTS = {"input_text", "output_text", "text", "summary_text"}


def _fail(message: str, param: str) -> InvalidRequestError:
    return InvalidRequestError(message, param=param)


def decode_responses_request(payload: dict[str, Any], model: str) -> ChatRequest:
    if payload.get("previous_response_id"):
        raise _fail(
            "previous_response_id needs stored responses, which this gateway does not keep yet; "
            "send the whole conversation in 'input'",
            "previous_response_id",
        )
    if payload.get("conversation"):
        raise _fail("conversations are not stored by this gateway yet", "conversation")
    messages: list[Message] = []
    instructions = payload.get("instructions")
    if isinstance(instructions, str) and instructions:
        messages.append(Message(role="system", content=(TextPart(instructions),)))
    messages.extend(_input(payload.get("input")))
    if not messages:
        raise _fail("'input' must not be empty", "input")
    text = as_dict(payload.get("text"))
    reasoning = as_dict(payload.get("reasoning"))
    max_tokens = payload.get("max_output_tokens")
    if max_tokens is not None and (isinstance(max_tokens, bool) or not isinstance(max_tokens, int)):
        raise _fail("'max_output_tokens' must be an integer", "max_output_tokens")
    return ChatRequest(
        model=model,
        messages=_merge_assistant_turns(messages),
        stream=payload.get("stream") is True,
        max_tokens=max_tokens,
        temperature=_number(payload, "temperature"),
        top_p=_number(payload, "top_p"),
        tools=_tools(payload.get("tools")),
        tool_choice=tool_choice(payload.get("tool_choice")),
        parallel_tool_calls=payload.get("parallel_tool_calls")
        if isinstance(payload.get("parallel_tool_calls"), bool)
        else None,
        response_format=_format(text.get("format")),
        reasoning_effort=reasoning.get("effort") if isinstance(reasoning.get("effort"), str) else None,
        user=payload.get("user") if isinstance(payload.get("user"), str) else None,
        metadata=payload.get("metadata") if isinstance(payload.get("metadata"), dict) else None,
    )


def _number(payload: dict[str, Any], key: str) -> float | None:
    value = payload.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(f"'{key}' must be a number", key)
    return float(value)


def _input(value: Any) -> list[Message]:
    if isinstance(value, str):
        return [Message(role="user", content=(TextPart(value),))] if value else []
    if not isinstance(value, list):
        raise _fail("'input' must be a string or an array of items", "input")
    messages: list[Message] = []
    for index, item in enumerate(value):
        message = _item(item, f"input[{index}]")
        if message is not None:
            messages.append(message)
    return messages


def _item(item: Any, param: str) -> Message | None:
    if not isinstance(item, dict):
        raise _fail("every input item must be an object", param)
    kind = item.get("type", "message")
    if kind == "message":
        role = item.get("role", "")
        role = _ROLES.get(role) if isinstance(role, str) else None
        if role is None:
            raise _fail(f"unknown role {item.get('role')!r}", f"{param}.role")
        return Message(role=role, content=_content(item.get("content"), param))  # type: ignore[arg-type]
    if kind == "function_call":
        call_id, name = item.get("call_id"), item.get("name")
        if not isinstance(call_id, str) or not isinstance(name, str):
            raise _fail("a function_call item needs call_id and name", param)
        arguments = item.get("arguments")
        call = ToolCall(id=call_id, name=name, arguments=arguments if isinstance(arguments, str) else "{}")
        return Message(role="assistant", tool_calls=(call,))
    if kind == "function_call_output":
        call_id = item.get("call_id")
        if not isinstance(call_id, str):
            raise _fail("a function_call_output item needs call_id", param)
        output = item.get("output")
        content = (TextPart(output),) if isinstance(output, str) else _content(output, param)
        return Message(role="tool", tool_call_id=call_id, content=content)
    if kind == "reasoning":
        parts = item.get("summary")
        if parts is not None and not isinstance(parts, list):
            raise _fail("a reasoning item's summary must be an array", f"{param}.summary")
        summary = "".join(str(part.get("text", "")) for part in parts or [] if isinstance(part, dict))
        signature = item.get("encrypted_content")
        signature = signature if isinstance(signature, str) and signature else None
        if not summary and signature is None:
            return None
        return Message(role="assistant", reasoning=summary or None, reasoning_signature=signature)
    if kind == "item_reference":
        raise _fail("item references need stored responses, which this gateway does not keep yet", param)
    raise _fail(f"input item type {kind!r} is not supported", f"{param}.type")


def _content(value: Any, param: str) -> tuple[Part, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (TextPart(value),) if value else ()
    if not isinstance(value, list):
        raise _fail("content must be a string or an array of parts", f"{param}.content")
    parts: list[Part] = []
    for index, part in enumerate(value):
        kind = part.get("type") if isinstance(part, dict) else None
        kind = kind if isinstance(kind, str) else None
        where = f"{param}.content[{index}]"
        if kind in _TEXT_PARTS and isinstance(part.get("text"), str):
            parts.append(TextPart(part["text"]))
        elif kind == "input_image" and isinstance(part.get("image_url"), str):
            parts.append(ImagePart(url=part["image_url"], detail=part.get("detail")))
        elif kind == "input_file" and isinstance(part.get("file_data"), str):
            inline = parse_data_url(part["file_data"])
            media_type, data = inline if inline else ("application/pdf", part["file_data"])
            parts.append(DocumentPart(media_type=media_type, data=data, name=part.get("filename")))
        elif kind == "refusal":
            parts.append(TextPart(str(part.get("refusal", ""))))
        else:
            raise _fail(f"content part type {kind!r} is not supported here", where)
    return tuple(parts)


def _merge_assistant_turns(messages: list[Message]) -> tuple[Message, ...]:
    """Responses lists an answer's text and each function call as separate items; chat wants one turn."""
    merged: list[Message] = []
    for message in messages:
        if merged and message.role == "assistant" and merged[-1].role == "assistant":
            previous = merged[-1]
            merged[-1] = attrs.evolve(
                previous,
                content=previous.content + message.content,
                tool_calls=previous.tool_calls + message.tool_calls,
                reasoning=previous.reasoning or message.reasoning,
                reasoning_signature=previous.reasoning_signature or message.reasoning_signature,
            )
        else:
            merged.append(message)
    return tuple(merged)


def _tools(value: Any) -> tuple[Tool, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _fail("'tools' must be an array", "tools")
    tools = []
    for index, tool in enumerate(value):
        kind = tool.get("type") if isinstance(tool, dict) else None
        if kind != "function":
            raise _fail(
                f"built-in tool {kind!r} runs only on OpenAI's Responses API; "
                "this provider takes function tools",
                f"tools[{index}]",
            )
        tools.append(function_tool(tool, f"tools[{index}]"))
    return tuple(tools)


def _format(value: Any) -> ResponseFormat | None:
    if value is None:
        return None
    kind = value.get("type") if isinstance(value, dict) else None
    if kind in ("text", "json_object"):
        return ResponseFormat(type=kind)
    if kind == "json_schema" and isinstance(value.get("schema"), dict):
        return ResponseFormat(
            type="json_schema",
            schema=value["schema"],
            name=value.get("name") if isinstance(value.get("name"), str) else None,
            strict=value.get("strict") if isinstance(value.get("strict"), bool) else None,
        )
    raise _fail("'text.format' must be text, json_object or json_schema (with a schema)", "text.format")
