"""`ChatRequest` -> the JSON body of Converse / ConverseStream (the model id goes in the URL).

What Converse insists on, and how the encoder meets it:

* roles alternate user/assistant, so consecutive turns of one role (tool results, then a user note)
  merge into one turn, and system messages become top-level ``system`` blocks;
* images and documents travel as base64 bytes, so ``https://`` URLs are refused with a 400;
* a history holding ``toolUse``/``toolResult`` blocks needs a ``toolConfig``. When the request offers no
  tools (none declared, or ``tool_choice: none``, which Converse cannot express), past calls and results
  are written out as text instead, so the model still sees them and cannot call anything;
* ``response_format: json_schema`` becomes ``outputConfig.textFormat`` (structured outputs); Converse
  has no schemaless JSON mode, so ``json_object`` is refused with a 400.

Tool results are sent as ``text`` blocks rather than ``json``: every tool-capable family reads text,
while some (Mistral, Llama) reject the ``json`` member.
"""

from __future__ import annotations

import re
from typing import Any

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
    ToolCall,
)
from gomodel.core.errors import InvalidRequestError
from gomodel.dialects.bedrock.reasoning import reasoning_config

__all__ = ["encode_converse", "encode_converse_body"]

_IMAGE_FORMATS = {
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/jpg": "jpeg",
    "image/gif": "gif",
    "image/webp": "webp",
}
_DOCUMENT_FORMATS = {
    "application/pdf": "pdf",
    "text/csv": "csv",
    "application/msword": "doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "text/html": "html",
    "text/plain": "txt",
    "text/markdown": "md",
}
_AUDIO_FORMATS = frozenset({"mp3", "opus", "wav", "aac", "flac", "mp4", "ogg", "webm", "m4a", "mpeg", "pcm"})
# Document names allow letters, digits, single spaces, hyphens, parentheses and square brackets.
_NAME_JUNK = re.compile(r"[^A-Za-z0-9\s\-()\[\]]+")
_SPACES = re.compile(r"\s+")


def encode_converse_body(request: ChatRequest) -> bytes:
    return orjson.dumps(encode_converse(request))


def encode_converse(request: ChatRequest) -> dict[str, Any]:
    """The Converse request body for ``request``; raises `InvalidRequestError` for what it cannot carry."""
    offer_tools = bool(request.tools) and not (request.tool_choice and request.tool_choice.mode == "none")
    system, messages = _Conversation(offer_tools).encode(request.messages)
    body: dict[str, Any] = {"messages": messages}
    if system:
        body["system"] = system
    fields, max_tokens = reasoning_config(
        request.model, request.reasoning_effort, request.reasoning_budget, request.max_tokens
    )
    inference = _inference_config(request, max_tokens)
    if inference:
        body["inferenceConfig"] = inference
    if offer_tools:
        body["toolConfig"] = _tool_config(request)
    if fields:
        body["additionalModelRequestFields"] = fields
    if request.response_format is not None and request.response_format.type != "text":
        body["outputConfig"] = _output_config(request.response_format)
    return body


def _inference_config(request: ChatRequest, max_tokens: int | None) -> dict[str, Any]:
    config: dict[str, Any] = {}
    if max_tokens is not None:
        config["maxTokens"] = max_tokens
    if request.temperature is not None:
        config["temperature"] = request.temperature
    if request.top_p is not None:
        config["topP"] = request.top_p
    stops = [stop for stop in request.stop if stop]
    if stops:
        config["stopSequences"] = stops
    return config


def _tool_config(request: ChatRequest) -> dict[str, Any]:
    tools = []
    for tool in request.tools:
        spec: dict[str, Any] = {"name": tool.name, "inputSchema": {"json": tool.parameters}}
        if tool.description:
            spec["description"] = tool.description
        if tool.strict:
            spec["strict"] = True
        tools.append({"toolSpec": spec})
    config: dict[str, Any] = {"tools": tools}
    choice = request.tool_choice
    # "auto" is the default; leaving it out keeps families without toolChoice support working.
    if choice is not None and choice.mode == "required":
        config["toolChoice"] = {"any": {}}
    elif choice is not None and choice.mode == "tool":
        config["toolChoice"] = {"tool": {"name": choice.name}}
    return config


def _output_config(response_format: ResponseFormat) -> dict[str, Any]:
    if response_format.type == "json_object" or response_format.schema is None:
        raise InvalidRequestError(
            "Bedrock Converse has no JSON mode without a schema; use response_format "
            "{'type': 'json_schema', 'json_schema': {...}}",
            param="response_format",
        )
    schema: dict[str, Any] = {"schema": orjson.dumps(response_format.schema).decode()}
    if response_format.name:
        schema["name"] = response_format.name
    return {"textFormat": {"type": "json_schema", "structure": {"jsonSchema": schema}}}


class _Conversation:
    """Walks the messages once; remembers call names (for written-out results) and document names."""

    def __init__(self, offer_tools: bool) -> None:
        self._offer_tools = offer_tools
        self._call_names: dict[str, str] = {}
        self._documents = 0

    def encode(self, messages: tuple[Message, ...]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        system: list[dict[str, Any]] = []
        turns: list[dict[str, Any]] = []
        for i, message in enumerate(messages):
            param = f"messages[{i}]"
            if message.role == "system":
                system.extend(self._system(message, param))
                continue
            if message.role == "assistant":
                role, blocks = "assistant", self._assistant(message, param)
            elif message.role == "tool":
                role, blocks = "user", [self._tool_result(message, param)]
            else:
                role, blocks = "user", [b for part in message.content if (b := self._part(part, param))]
            if not blocks:
                continue
            if turns and turns[-1]["role"] == role:
                turns[-1]["content"].extend(blocks)
            else:
                turns.append({"role": role, "content": blocks})
        return system, turns

    @staticmethod
    def _system(message: Message, param: str) -> list[dict[str, Any]]:
        if any(not isinstance(part, TextPart) for part in message.content):
            raise InvalidRequestError("Bedrock system messages can only hold text", param=f"{param}.content")
        return [{"text": part.text} for part in message.content if isinstance(part, TextPart) and part.text]

    def _assistant(self, message: Message, param: str) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        if message.reasoning and message.reasoning_signature:
            text = {"text": message.reasoning, "signature": message.reasoning_signature}
            blocks.append({"reasoningContent": {"reasoningText": text}})
        blocks.extend(b for part in message.content if (b := self._part(part, param)))
        for call in message.tool_calls:
            self._call_names[call.id] = call.name
            blocks.append(self._tool_use(call, param) if self._offer_tools else {"text": _call_text(call)})
        return blocks

    @staticmethod
    def _tool_use(call: ToolCall, param: str) -> dict[str, Any]:
        try:
            arguments = orjson.loads(call.arguments) if call.arguments.strip() else {}
        except orjson.JSONDecodeError:
            raise InvalidRequestError(
                f"the arguments of tool call {call.id!r} are not valid JSON", param=f"{param}.tool_calls"
            ) from None
        return {"toolUse": {"toolUseId": call.id, "name": call.name, "input": arguments}}

    def _tool_result(self, message: Message, param: str) -> dict[str, Any]:
        call_id = message.tool_call_id or self._call_id_for(message.name)
        if call_id is None:
            raise InvalidRequestError("a tool result needs the id of its tool call", param=param)
        text = message.text
        if not self._offer_tools:
            name = self._call_names.get(call_id, message.name or "tool")
            status = " (error)" if message.is_error else ""
            return {"text": f"[result of tool call {call_id} to {name}{status}]\n{text}"}
        content: list[dict[str, Any]] = [{"text": text}] if text else []
        content.extend(
            _image(part, param) if isinstance(part, ImagePart) else self._document(part, param)
            for part in message.content
            if isinstance(part, ImagePart | DocumentPart)
        )
        result: dict[str, Any] = {"toolUseId": call_id, "content": content}
        if message.is_error:
            result["status"] = "error"
        return {"toolResult": result}

    def _call_id_for(self, name: str | None) -> str | None:
        """The legacy ``function`` role names the function, not the call: take its latest call."""
        matches = [call_id for call_id, call_name in self._call_names.items() if call_name == name]
        return matches[-1] if matches else None

    def _part(self, part: Part, param: str) -> dict[str, Any] | None:
        if isinstance(part, TextPart):
            return {"text": part.text} if part.text else None
        if isinstance(part, ImagePart):
            return _image(part, param)
        if isinstance(part, DocumentPart):
            return self._document(part, param)
        return _audio(part, param)

    def _document(self, part: DocumentPart, param: str) -> dict[str, Any]:
        kind = _DOCUMENT_FORMATS.get(part.media_type)
        if part.data is None or kind is None:
            raise InvalidRequestError(
                f"Bedrock takes documents inline (base64) in {sorted(_DOCUMENT_FORMATS.values())} formats; "
                f"got {part.media_type!r}{' by URL' if part.data is None else ''}",
                param=f"{param}.content",
            )
        self._documents += 1
        # Names must be unique within a request and free of dots, so "a.pdf" becomes "a (1)".
        stem = _SPACES.sub(" ", _NAME_JUNK.sub(" ", (part.name or "document").rsplit(".", 1)[0])).strip()
        name = f"{stem or 'document'} ({self._documents})"
        return {"document": {"format": kind, "name": name, "source": {"bytes": part.data}}}


def _image(part: ImagePart, param: str) -> dict[str, Any]:
    inline = part.inline
    if inline is None:
        raise InvalidRequestError(
            "Bedrock cannot fetch image URLs; send the image inline as a data: URL (base64)",
            param=f"{param}.content",
        )
    media_type, data = inline
    kind = _IMAGE_FORMATS.get(media_type.lower())
    if kind is None:
        raise InvalidRequestError(
            f"Bedrock takes png, jpeg, gif and webp images, not {media_type!r}", param=f"{param}.content"
        )
    return {"image": {"format": kind, "source": {"bytes": data}}}


def _audio(part: AudioPart, param: str) -> dict[str, Any]:
    if part.format not in _AUDIO_FORMATS:
        raise InvalidRequestError(f"Bedrock does not take {part.format!r} audio", param=f"{param}.content")
    return {"audio": {"format": part.format, "source": {"bytes": part.data}}}


def _call_text(call: ToolCall) -> str:
    return f"[tool call {call.id} to {call.name} with arguments {call.arguments or '{}'}]"
