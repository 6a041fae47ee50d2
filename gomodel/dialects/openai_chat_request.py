"""OpenAI chat-completions request JSON <-> wire-neutral `ChatRequest`, both directions.

Decoding validates what translation relies on and answers a 400 naming the parameter otherwise;
encoding produces what an OpenAI-compatible upstream accepts.
"""

from __future__ import annotations

from typing import Any

from gomodel.core.chat import (
    AudioPart,
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
from gomodel.dialects.openai_tools import function_tool, tool_choice

__all__ = ["decode_chat_request", "encode_chat_request"]

_ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant", "tool": "tool"}


def _fail(message: str, param: str) -> InvalidRequestError:
    return InvalidRequestError(message, param=param)


def decode_chat_request(payload: dict[str, Any]) -> ChatRequest:
    """A validated OpenAI request body -> `ChatRequest` (``payload["model"]`` is taken as is)."""
    messages = payload.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _fail("'messages' must be a non-empty array", "messages")
    if payload.get("max_completion_tokens") is not None:
        max_tokens = _int(payload["max_completion_tokens"], "max_completion_tokens")
    else:
        max_tokens = _int(payload.get("max_tokens"), "max_tokens")
    return ChatRequest(
        model=str(payload.get("model", "")),
        messages=tuple(_message(m, f"messages[{i}]") for i, m in enumerate(messages)),
        stream=payload.get("stream") is True,
        max_tokens=max_tokens,
        temperature=_number(payload.get("temperature"), "temperature"),
        top_p=_number(payload.get("top_p"), "top_p"),
        stop=_stop(payload.get("stop")),
        tools=_tools(payload.get("tools"), payload.get("functions")),
        tool_choice=tool_choice(payload.get("tool_choice", payload.get("function_call"))),
        parallel_tool_calls=_bool(payload.get("parallel_tool_calls"), "parallel_tool_calls"),
        response_format=_response_format(payload.get("response_format")),
        reasoning_effort=_str(payload.get("reasoning_effort"), "reasoning_effort"),
        user=_str(payload.get("user"), "user"),
        metadata=payload.get("metadata") if isinstance(payload.get("metadata"), dict) else None,
        seed=_int(payload.get("seed"), "seed"),
        presence_penalty=_number(payload.get("presence_penalty"), "presence_penalty"),
        frequency_penalty=_number(payload.get("frequency_penalty"), "frequency_penalty"),
    )


def _int(value: Any, param: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(f"'{param}' must be an integer", param)
    return value


def _number(value: Any, param: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(f"'{param}' must be a number", param)
    return float(value)


def _bool(value: Any, param: str) -> bool | None:
    if value is None:
        return None
    if not isinstance(value, bool):
        raise _fail(f"'{param}' must be a boolean", param)
    return value


def _str(value: Any, param: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _fail(f"'{param}' must be a string", param)
    return value


def _stop(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(s, str) for s in value):
        return tuple(value)
    raise _fail("'stop' must be a string or an array of strings", "stop")


def _message(raw: Any, param: str) -> Message:
    if not isinstance(raw, dict):
        raise _fail("every message must be an object", param)
    raw_role = raw.get("role")
    role = _ROLES.get(raw_role) if isinstance(raw_role, str) else None
    if raw_role == "function":  # the legacy spelling of a tool result, answering the legacy call
        return Message(
            role="tool",
            content=_content(raw.get("content"), param),
            name=raw.get("name"),
            tool_call_id="call_0",
        )
    if role is None:
        raise _fail(f"unknown role {raw.get('role')!r}", f"{param}.role")
    if role == "tool":
        call_id = raw.get("tool_call_id")
        if not isinstance(call_id, str) or not call_id:
            raise _fail("a tool message needs 'tool_call_id'", f"{param}.tool_call_id")
        return Message(role="tool", content=_content(raw.get("content"), param), tool_call_id=call_id)
    tool_calls: tuple[ToolCall, ...] = ()
    if role == "assistant":
        tool_calls = _tool_calls(raw.get("tool_calls"), raw.get("function_call"), f"{param}.tool_calls")
    reasoning = raw.get("reasoning_content")
    signature = raw.get("reasoning_signature")
    return Message(
        role=role,  # type: ignore[arg-type]  # _ROLES values are Role literals
        content=_content(raw.get("content"), param),
        tool_calls=tool_calls,
        name=raw.get("name") if isinstance(raw.get("name"), str) else None,
        reasoning=reasoning if isinstance(reasoning, str) and reasoning else None,
        reasoning_signature=signature if isinstance(signature, str) and signature else None,
    )


def _content(value: Any, param: str) -> tuple[Part, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (TextPart(value),) if value else ()
    if not isinstance(value, list):
        raise _fail("message content must be a string or an array of parts", f"{param}.content")
    return tuple(_part(part, f"{param}.content[{i}]") for i, part in enumerate(value))


def _part(raw: Any, param: str) -> Part:
    kind = raw.get("type") if isinstance(raw, dict) else None
    if kind == "text" and isinstance(raw.get("text"), str):
        return TextPart(raw["text"])
    if kind == "image_url":
        image = raw.get("image_url")
        url = image.get("url") if isinstance(image, dict) else image
        if isinstance(url, str) and url:
            return ImagePart(url=url, detail=image.get("detail") if isinstance(image, dict) else None)
    if kind == "input_audio":
        audio = raw.get("input_audio")
        if isinstance(audio, dict) and isinstance(audio.get("data"), str):
            return AudioPart(data=audio["data"], format=str(audio.get("format") or "wav"))
    if kind == "file":
        file = raw.get("file")
        if isinstance(file, dict) and isinstance(file.get("file_data"), str):
            inline = parse_data_url(file["file_data"])
            media_type, data = inline if inline else ("application/pdf", file["file_data"])
            return DocumentPart(media_type=media_type, data=data, name=file.get("filename"))
        if isinstance(file, dict) and file.get("file_id"):
            raise _fail("file_id references can only be relayed to OpenAI-compatible providers", param)
    raise _fail(f"unsupported content part {kind!r}", param)


def _tool_calls(value: Any, legacy: Any, param: str) -> tuple[ToolCall, ...]:
    if value is None and isinstance(legacy, dict):
        value = [{"id": "call_0", "type": "function", "function": legacy}]
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _fail("'tool_calls' must be an array", param)
    calls = []
    for i, call in enumerate(value):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise _fail("a tool call needs function.name", f"{param}[{i}]")
        arguments = function.get("arguments", "")
        if not isinstance(arguments, str):
            raise _fail("function.arguments must be a JSON string", f"{param}[{i}].function.arguments")
        calls.append(
            ToolCall(
                id=str(call.get("id") or f"call_{i}"),
                name=function["name"],
                arguments=arguments if isinstance(arguments, str) else "",
            )
        )
    return tuple(calls)


def _tools(value: Any, legacy_functions: Any) -> tuple[Tool, ...]:
    if value is None and isinstance(legacy_functions, list):
        value = [{"type": "function", "function": f} for f in legacy_functions]
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _fail("'tools' must be an array", "tools")
    tools = []
    for i, tool in enumerate(value):
        if not isinstance(tool, dict) or tool.get("type") != "function":
            kind = tool.get("type") if isinstance(tool, dict) else None
            raise _fail(f"tool type {kind!r} is not supported by this provider", f"tools[{i}]")
        function = tool.get("function")
        if not isinstance(function, dict):
            raise _fail("a function tool needs function.name", f"tools[{i}].function.name")
        tools.append(function_tool(function, f"tools[{i}].function"))
    return tuple(tools)


def _response_format(value: Any) -> ResponseFormat | None:
    if value is None:
        return None
    kind = value.get("type") if isinstance(value, dict) else None
    if kind in ("text", "json_object"):
        return ResponseFormat(type=kind)
    if kind == "json_schema":
        spec = value.get("json_schema")
        if isinstance(spec, dict) and isinstance(spec.get("schema"), dict):
            return ResponseFormat(
                type="json_schema",
                schema=spec["schema"],
                name=spec.get("name"),
                strict=spec.get("strict") if isinstance(spec.get("strict"), bool) else None,
            )
        raise _fail("json_schema response format needs json_schema.schema", "response_format")
    raise _fail("'response_format' type must be text, json_object or json_schema", "response_format")


# --- encoding ----------------------------------------------------------------------------------


def encode_chat_request(request: ChatRequest, *, max_tokens_field: str = "max_tokens") -> dict[str, Any]:
    """`ChatRequest` -> an OpenAI chat-completions body (usage always requested when streaming).

    ``max_tokens_field``: OpenAI's reasoning models accept only ``max_completion_tokens``, while many
    compatible servers (DeepSeek, Ollama) know only ``max_tokens``; the provider's spec says which.
    """
    body: dict[str, Any] = {
        "model": request.model,
        "messages": [_encode_message(m) for m in request.messages],
    }
    if request.stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    for name, value in (
        (max_tokens_field, request.max_tokens),
        ("temperature", request.temperature),
        ("top_p", request.top_p),
        ("stop", list(request.stop) or None),
        ("parallel_tool_calls", request.parallel_tool_calls),
        ("reasoning_effort", request.reasoning_effort),
        ("user", request.user),
        ("metadata", request.metadata),
        ("seed", request.seed),
        ("presence_penalty", request.presence_penalty),
        ("frequency_penalty", request.frequency_penalty),
    ):
        if value is not None:
            body[name] = value
    if request.tools:
        body["tools"] = [_encode_tool(t) for t in request.tools]
    if request.tool_choice is not None:
        choice = request.tool_choice
        body["tool_choice"] = (
            {"type": "function", "function": {"name": choice.name}} if choice.mode == "tool" else choice.mode
        )
    if request.response_format is not None:
        body["response_format"] = _encode_response_format(request.response_format)
    return body


def _encode_message(message: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"role": message.role}
    if message.role == "tool":
        out["tool_call_id"] = message.tool_call_id or ""
        out["content"] = message.text
        return out
    if message.role in ("system", "assistant") or all(isinstance(p, TextPart) for p in message.content):
        out["content"] = message.text if message.content or not message.tool_calls else None
    else:
        out["content"] = [_encode_part(p) for p in message.content]
    if message.tool_calls:
        out["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in message.tool_calls
        ]
    if message.name:
        out["name"] = message.name
    return out


def _encode_part(part: Part) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if isinstance(part, ImagePart):
        image: dict[str, Any] = {"url": part.url}
        if part.detail:
            image["detail"] = part.detail
        return {"type": "image_url", "image_url": image}
    if isinstance(part, AudioPart):
        return {"type": "input_audio", "input_audio": {"data": part.data, "format": part.format}}
    if part.data is None:
        raise InvalidRequestError("documents given by URL cannot be sent to this provider", param="messages")
    file: dict[str, Any] = {"file_data": f"data:{part.media_type};base64,{part.data or ''}"}
    if part.name:
        file["filename"] = part.name
    return {"type": "file", "file": file}


def _encode_tool(tool: Tool) -> dict[str, Any]:
    function: dict[str, Any] = {"name": tool.name, "parameters": tool.parameters}
    if tool.description:
        function["description"] = tool.description
    if tool.strict is not None:
        function["strict"] = tool.strict
    return {"type": "function", "function": function}


def _encode_response_format(fmt: ResponseFormat) -> dict[str, Any]:
    if fmt.type != "json_schema":
        return {"type": fmt.type}
    spec: dict[str, Any] = {"name": fmt.name or "response", "schema": fmt.schema or {}}
    if fmt.strict is not None:
        spec["strict"] = fmt.strict
    return {"type": "json_schema", "json_schema": spec}
