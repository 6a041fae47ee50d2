"""`ChatRequest` -> a ``generateContent`` body (the same JSON for AI Studio and Vertex AI).

Shape decisions, each forced by the API:

* System messages, wherever they are, become one ``systemInstruction``; Gemini has no system turn.
* Roles are ``user`` and ``model``. Consecutive turns of one role merge, so the results of parallel
  tool calls land in the single ``user`` turn Gemini requires right after the calling ``model`` turn.
* A tool result needs the function's name, found through the assistant call with the same id.
* Schemas go as JSON Schema (``parametersJsonSchema``, ``responseJsonSchema``), which Gemini 2.5 and
  later accept whole, instead of being squeezed into the OpenAPI subset of ``parameters``.
* ``reasoning_effort`` becomes a ``thinkingBudget`` (the token budgets Google's own OpenAI endpoint
  uses) with ``includeThoughts``, so thoughts come back as reasoning; no effort, no thinking config,
  because models that cannot think reject one.
"""

from __future__ import annotations

import mimetypes
from typing import Any
from urllib.parse import urlsplit

import orjson

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
    ToolChoice,
)
from gomodel.core.errors import InvalidRequestError
from gomodel.dialects.gemini.tool_ids import SKIP_SIGNATURE, split_tool_call_id

__all__ = ["THINKING_BUDGETS", "encode_generate_request"]

#: OpenAI ``reasoning_effort`` -> Gemini ``thinkingBudget``; "minimal" is the least every 2.5 model takes.
THINKING_BUDGETS = {"none": 0, "minimal": 512, "low": 1024, "medium": 8192, "high": 24576}
_TOOL_MODES = {"auto": "AUTO", "none": "NONE", "required": "ANY", "tool": "ANY"}


def encode_generate_request(request: ChatRequest) -> dict[str, Any]:
    body: dict[str, Any] = {"contents": _contents(request.messages)}
    system = request.system_text
    if system:
        body["systemInstruction"] = {"parts": [{"text": system}]}
    if request.tools:
        body["tools"] = [{"functionDeclarations": [_declaration(tool) for tool in request.tools]}]
        if request.tool_choice is not None:
            body["toolConfig"] = {"functionCallingConfig": _calling_config(request.tool_choice)}
    config = _generation_config(request)
    if config:
        body["generationConfig"] = config
    return body


# --- contents -----------------------------------------------------------------------------------


def _contents(messages: tuple[Message, ...]) -> list[dict[str, Any]]:
    names: dict[str, str] = {}  # tool call id -> function name; the latest assistant turn wins
    contents: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        param = f"messages[{index}]"
        if message.role == "system":
            continue
        if message.role == "assistant":
            names.update((call.id, call.name) for call in message.tool_calls)
            role, parts = "model", _model_parts(message, param)
        elif message.role == "tool":
            role, parts = "user", [_function_response(message, names, param)]
        else:
            encoded = (_part(part, f"{param}.content") for part in message.content)
            role, parts = "user", [part for part in encoded if part is not None]
        if not parts:
            continue  # Gemini rejects empty turns; an empty message adds nothing anyway
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})
    if not contents:
        raise InvalidRequestError("the request has no user or assistant content to send", param="messages")
    return contents


def _model_parts(message: Message, param: str) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = [{"text": text} for part in message.content if (text := _text(part))]
    for position, call in enumerate(message.tool_calls):
        _, signature = split_tool_call_id(call.id)
        part: dict[str, Any] = {
            "functionCall": {"name": call.name, "args": _arguments(call.arguments, f"{param}.tool_calls")}
        }
        # Only the first call of a turn carries a signature; calls Gemini did not make get Google's
        # documented stand-in so Gemini 3 still accepts the history.
        if signature or position == 0:
            part["thoughtSignature"] = signature or SKIP_SIGNATURE
        parts.append(part)
    return parts


def _text(part: Part) -> str:
    return part.text if isinstance(part, TextPart) else ""


def _arguments(arguments: str, param: str) -> dict[str, Any]:
    if not arguments.strip():
        return {}
    try:
        value = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        raise InvalidRequestError("tool call arguments must be a JSON object", param=param) from None
    if not isinstance(value, dict):
        raise InvalidRequestError("tool call arguments must be a JSON object", param=param)
    return value


def _function_response(message: Message, names: dict[str, str], param: str) -> dict[str, Any]:
    call_id = message.tool_call_id or ""
    name = names.get(call_id) or message.name
    if not name:
        raise InvalidRequestError(
            f"tool result {call_id!r} answers no tool call of an earlier assistant message",
            param=f"{param}.tool_call_id",
        )
    key = "error" if message.is_error else "output"
    return {"functionResponse": {"name": name, "response": {key: _result_value(message.text)}}}


def _result_value(text: str) -> Any:
    """JSON results go as structured values (which the model reads best), anything else as text."""
    if text[:1] in ("{", "["):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return text


def _part(part: Part, param: str) -> dict[str, Any] | None:
    if isinstance(part, TextPart):
        return {"text": part.text} if part.text else None
    if isinstance(part, ImagePart):
        inline = part.inline
        if inline is not None:
            return {"inlineData": {"mimeType": inline[0], "data": inline[1]}}
        if part.url.startswith("data:"):
            raise InvalidRequestError("image data URLs must be base64 encoded", param=param)
        return _file(part.url, _guess_type(part.url, "image/jpeg"))
    if isinstance(part, AudioPart):
        return {"inlineData": {"mimeType": f"audio/{part.format}", "data": part.data}}
    return _document(part, param)


def _document(part: DocumentPart, param: str) -> dict[str, Any]:
    if part.data is not None:
        return {"inlineData": {"mimeType": part.media_type, "data": part.data}}
    if part.url:
        return _file(part.url, part.media_type)
    raise InvalidRequestError("a file part needs data or a URL", param=param)


def _file(url: str, media_type: str) -> dict[str, Any]:
    # Vertex requires the media type of a file reference, AI Studio tolerates it: always send one.
    return {"fileData": {"mimeType": media_type, "fileUri": url}}


def _guess_type(url: str, default: str) -> str:
    guessed, _ = mimetypes.guess_type(urlsplit(url).path)
    return guessed or default


# --- tools and configuration --------------------------------------------------------------------


def _declaration(tool: Tool) -> dict[str, Any]:
    declaration: dict[str, Any] = {"name": tool.name, "parametersJsonSchema": tool.parameters}
    if tool.description:
        declaration["description"] = tool.description
    return declaration


def _calling_config(choice: ToolChoice) -> dict[str, Any]:
    config: dict[str, Any] = {"mode": _TOOL_MODES[choice.mode]}
    if choice.mode == "tool" and choice.name:
        config["allowedFunctionNames"] = [choice.name]
    return config


def _generation_config(request: ChatRequest) -> dict[str, Any]:
    optional = {
        "temperature": request.temperature,
        "topP": request.top_p,
        "maxOutputTokens": request.max_tokens,
        "stopSequences": list(request.stop) or None,
        "seed": request.seed,
        "presencePenalty": request.presence_penalty,
        "frequencyPenalty": request.frequency_penalty,
    }
    config: dict[str, Any] = {key: value for key, value in optional.items() if value is not None}
    if request.response_format is not None:
        config.update(_response_format(request.response_format))
    thinking = _thinking_config(request)
    if thinking is not None:
        config["thinkingConfig"] = thinking
    return config


def _response_format(fmt: ResponseFormat) -> dict[str, Any]:
    if fmt.type == "json_object":
        return {"responseMimeType": "application/json"}
    if fmt.type == "json_schema":
        return {"responseMimeType": "application/json", "responseJsonSchema": fmt.schema or {}}
    return {}


def _thinking_config(request: ChatRequest) -> dict[str, Any] | None:
    budget = request.reasoning_budget
    effort = request.reasoning_effort
    if budget is None and effort is not None:
        budget = THINKING_BUDGETS.get(effort)
        if budget is None:
            allowed = ", ".join(THINKING_BUDGETS)
            raise InvalidRequestError(
                f"reasoning_effort {effort!r} is not supported here (supported: {allowed})",
                param="reasoning_effort",
            )
    if budget is None:
        return None
    return {"thinkingBudget": budget, "includeThoughts": True} if budget else {"thinkingBudget": 0}
