"""Wire format of the fake Gemini upstream: request validation, Google errors and reply bodies.

Pure (no I/O), so ``fake_gemini`` stays a thin aiohttp shell. Validation follows the real API where
the gateway could get it wrong: unknown fields, roles, empty parts, the function-call turn rules,
base64 thought signatures, mutually exclusive schema fields, and Gemini 3's demand that replayed
function calls carry their thought signature. Messages copy Google's wording.
"""

from __future__ import annotations

import base64
import binascii
import struct
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

import attrs
import orjson

from gomodel.testing.fake_upstream_wire import embedding_vector

GENERATE_FIELDS: Final = frozenset(
    {
        "contents",
        "systemInstruction",
        "tools",
        "toolConfig",
        "generationConfig",
        "safetySettings",
        "cachedContent",
    }
)
VERTEX_GENERATE_FIELDS: Final = GENERATE_FIELDS | {"labels"}
CONFIG_FIELDS: Final = frozenset(
    {
        "temperature", "topP", "topK", "candidateCount", "maxOutputTokens", "stopSequences", "seed",
        "presencePenalty", "frequencyPenalty", "responseMimeType", "responseSchema", "responseJsonSchema",
        "responseModalities", "thinkingConfig", "responseLogprobs", "logprobs", "mediaResolution",
    }
)  # fmt: skip
DATA_FIELDS: Final = frozenset(
    {
        "text",
        "inlineData",
        "fileData",
        "functionCall",
        "functionResponse",
        "executableCode",
        "codeExecutionResult",
    }
)
PART_FIELDS: Final = DATA_FIELDS | {"thought", "thoughtSignature", "videoMetadata"}
DECLARATION_FIELDS: Final = frozenset(
    {"name", "description", "parameters", "parametersJsonSchema", "response", "responseJsonSchema"}
)
THINKING_FIELDS: Final = frozenset({"includeThoughts", "thinkingBudget", "thinkingLevel"})
MODES: Final = frozenset({"AUTO", "ANY", "NONE", "VALIDATED"})

FAULT_STATUS: Final[Mapping[str, tuple[int, str, str]]] = {
    "fault-400": (400, "INVALID_ARGUMENT", "Request contains an invalid argument."),
    "fault-403": (403, "PERMISSION_DENIED", "The caller does not have permission"),
    "fault-429": (429, "RESOURCE_EXHAUSTED", "You exceeded your current quota, please check your plan."),
    "fault-429-header": (429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
    "fault-500": (500, "INTERNAL", "An internal error has occurred. Please retry or report."),
    "fault-503": (503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
}
FAULT_LIST_ERROR: Final = "fault-list-error"
FAULT_BLOCKED: Final = "fault-blocked"
FAULT_SAFETY: Final = "fault-safety"
FAULT_MALFORMED: Final = "fault-malformed"
FAULT_STREAM_ERROR: Final = "fault-stream-error"
FAULT_STREAM_CUT: Final = "fault-stream-cut"
FAULT_MODES: Final = frozenset(FAULT_STATUS) | {
    FAULT_LIST_ERROR,
    FAULT_BLOCKED,
    FAULT_SAFETY,
    FAULT_MALFORMED,
    FAULT_STREAM_ERROR,
    FAULT_STREAM_CUT,
}
#: Events a stream fault lets through before misbehaving.
STREAM_FAULT_AFTER: Final = 2
RETRY_DELAY: Final = "6.5s"
RETRY_AFTER_HEADER: Final = "9"
#: The last reply piece is not ASCII, so split UTF-8 gets exercised.
UNICODE_PIECE: Final = "naïve ☃"
TOOL_ARGUMENTS: Final = {"city": "Zürich", "unit": "celsius"}


class GoogleError(Exception):
    """An HTTP error reply in Google's shape, raised anywhere in request handling."""

    def __init__(
        self,
        status: int,
        google_status: str,
        message: str,
        *,
        details: Sequence[Mapping[str, Any]] = (),
        headers: Mapping[str, str] | None = None,
        wrap_in_list: bool = False,
    ) -> None:
        super().__init__(status, message)
        self.status = status
        error: dict[str, Any] = {"code": status, "message": message, "status": google_status}
        if details:
            error["details"] = list(details)
        self.body = orjson.dumps([{"error": error}] if wrap_in_list else {"error": error})
        self.headers: Mapping[str, str] = headers or {}


def invalid(message: str) -> GoogleError:
    return GoogleError(400, "INVALID_ARGUMENT", message)


def error_event(status: int, google_status: str, message: str) -> bytes:
    error = {"code": status, "message": message, "status": google_status}
    return b"data: " + orjson.dumps({"error": error}) + b"\r\n\r\n"


def fault_error(fault: str) -> GoogleError:
    if fault == FAULT_LIST_ERROR:
        return GoogleError(400, "INVALID_ARGUMENT", "Invalid JSON payload received.", wrap_in_list=True)
    status, google_status, message = FAULT_STATUS[fault]
    if fault == "fault-429-header":
        return GoogleError(status, google_status, message, headers={"Retry-After": RETRY_AFTER_HEADER})
    details: list[dict[str, Any]] = []
    if status == 429:
        details = [
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaId": "Fake"}]},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": RETRY_DELAY},
        ]
    return GoogleError(status, google_status, message, details=details)


def api_key_error(provided: str | None) -> GoogleError:
    if not provided:
        return GoogleError(
            403,
            "PERMISSION_DENIED",
            "Method doesn't allow unregistered callers (callers without established identity)."
            " Please use API Key or other form of API consumer identity to call this API.",
        )
    info = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}
    return GoogleError(
        400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", details=[info]
    )


def token_error() -> GoogleError:
    return GoogleError(
        401,
        "UNAUTHENTICATED",
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or"
        " other valid authentication credential.",
    )


def parse_json(body: bytes) -> dict[str, Any]:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise invalid("Invalid JSON payload received. Unexpected token.") from None
    if not isinstance(payload, dict):
        raise invalid("Invalid JSON payload received. Expected an object.")
    return payload


def check_fields(payload: Mapping[str, Any], allowed: frozenset[str], where: str = "") -> None:
    for key in payload:
        if key not in allowed:
            at = f" at '{where}'" if where else ""
            raise invalid(f'Invalid JSON payload received. Unknown name "{key}"{at}: Cannot find field.')


def as_object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid(f"Invalid value at '{where}': expected an object.")
    return value


def content_text(value: Any, where: str) -> str:
    """The text of a ``{"parts": [{"text": ...}]}`` content to embed."""
    content = as_object(value, where)
    check_fields(content, frozenset({"role", "parts"}), where)
    parts = content.get("parts")
    if not isinstance(parts, list) or not parts:
        raise invalid(f"* {where}.parts: contents.parts must not be empty.")
    texts = []
    for index, raw in enumerate(parts):
        part = as_object(raw, f"{where}.parts[{index}]")
        check_fields(part, frozenset({"text"}), f"{where}.parts[{index}]")
        if not isinstance(part.get("text"), str) or not part["text"]:
            raise invalid("Unable to submit request because it has an empty text parameter.")
        texts.append(part["text"])
    return " ".join(texts)


# --- generateContent ----------------------------------------------------------------------------


@attrs.frozen
class Generate:
    """What the fake needs from a valid request to shape its reply."""

    declared: tuple[str, ...]
    #: Function names the model may call now: empty when tools are off or the turn answers tool results.
    callable: tuple[str, ...]
    answered: tuple[str, ...]
    thoughts: bool
    json: bool
    prompt_tokens: int


def validate_generate(payload: dict[str, Any], model: str, *, vertex: bool) -> Generate:
    check_fields(payload, VERTEX_GENERATE_FIELDS if vertex else GENERATE_FIELDS)
    contents = payload.get("contents")
    if not isinstance(contents, list) or not contents:
        raise invalid("* GenerateContentRequest.contents: contents is not specified")
    text = [_content(as_object(c, f"contents[{i}]"), i, model, vertex) for i, c in enumerate(contents)]
    _turn_rules(contents)
    system = payload.get("systemInstruction")
    if system is not None:
        text.append(_content(as_object(system, "system_instruction"), -1, model, vertex))
    declared = _tools(payload.get("tools"))
    mode, allowed = _tool_config(payload.get("toolConfig"), declared)
    thoughts, json_reply = _generation_config(payload.get("generationConfig"), model)
    last = contents[-1]["parts"]
    answered = tuple(p["functionResponse"]["name"] for p in last if "functionResponse" in p)
    callable_ = () if answered or mode == "NONE" else (allowed or declared)
    words = sum(len(t.split()) for t in text)
    return Generate(declared, callable_, answered, thoughts, json_reply, max(words, 1))


def _content(content: dict[str, Any], index: int, model: str, vertex: bool) -> str:
    where = f"contents[{index}]" if index >= 0 else "system_instruction"
    check_fields(content, frozenset({"role", "parts"}), where)
    role = content.get("role", "user")
    if index >= 0 and role not in ("user", "model"):
        raise invalid("Please use a valid role: user, model.")
    parts = content.get("parts")
    if not isinstance(parts, list) or not parts:
        raise invalid(f"* GenerateContentRequest.{where}.parts: contents.parts must not be empty.")
    texts = []
    first_call = True
    for number, raw in enumerate(parts):
        part = as_object(raw, f"{where}.parts[{number}]")
        _part(part, f"{where}.parts[{number}]", role, vertex)
        if isinstance(part.get("text"), str):
            texts.append(part["text"])
        if "functionCall" in part:
            if first_call and model.startswith("gemini-3") and "thoughtSignature" not in part:
                name = part["functionCall"]["name"]
                raise invalid(
                    "Function call is missing a thought_signature in functionCall parts. This is required for"
                    f" tools to work correctly. Additional data, function call `default_api:{name}` ,"
                    f" position {number + 1}. Please refer to"
                    " https://ai.google.dev/gemini-api/docs/thought-signatures for more details."
                )
            first_call = False
    return " ".join(texts)


def _part(part: dict[str, Any], where: str, role: str, vertex: bool) -> None:
    check_fields(part, PART_FIELDS, where)
    data = [key for key in part if key in DATA_FIELDS]
    if len(data) != 1:
        raise invalid(f"Invalid value at '{where}': a part must hold exactly one of the data fields.")
    signature = part.get("thoughtSignature")
    if signature is not None and not _is_base64(signature):
        raise invalid(
            f"Invalid value at '{where}.thought_signature' (TYPE_BYTES),"
            f" Base64 decoding failed for {signature!r}"
        )
    kind = data[0]
    value = part[kind]
    if kind == "text":
        if not isinstance(value, str) or not value:
            raise invalid(
                "Unable to submit request because it has an empty text parameter."
                " Add a value to the parameter and try again."
            )
    elif kind == "inlineData":
        blob = as_object(value, f"{where}.inline_data")
        check_fields(blob, frozenset({"mimeType", "data"}), f"{where}.inline_data")
        if not blob.get("mimeType") or not _is_base64(blob.get("data")):
            raise invalid(f"Invalid value at '{where}.inline_data': mimeType and base64 data are required.")
    elif kind == "fileData":
        file = as_object(value, f"{where}.file_data")
        check_fields(file, frozenset({"mimeType", "fileUri"}), f"{where}.file_data")
        if not file.get("fileUri") or (vertex and not file.get("mimeType")):
            raise invalid(
                f"Invalid value at '{where}.file_data': fileUri (and on Vertex mimeType) is required."
            )
    elif kind == "functionCall":
        call = as_object(value, f"{where}.function_call")
        check_fields(call, frozenset({"name", "args", "id"}), f"{where}.function_call")
        if role != "model" or not call.get("name") or not isinstance(call.get("args", {}), dict):
            raise invalid(
                f"Invalid value at '{where}.function_call': a named call in a model turn is required."
            )
    elif kind == "functionResponse":
        answer = as_object(value, f"{where}.function_response")
        check_fields(answer, frozenset({"name", "response", "id"}), f"{where}.function_response")
        if role != "user" or not answer.get("name") or not isinstance(answer.get("response"), dict):
            raise invalid(
                f"Invalid value at '{where}.function_response': name and a response object are required."
            )


def _is_base64(value: Any) -> bool:
    """Standard or URL-safe base64, padded or not: what Google's JSON parser takes for ``bytes``."""
    if not isinstance(value, str) or not value:
        return False
    padded = (value + "=" * (-len(value) % 4)).replace("-", "+").replace("_", "/")
    try:
        base64.b64decode(padded, validate=True)
    except binascii.Error:
        return False
    return True


def _turn_rules(contents: list[dict[str, Any]]) -> None:
    previous: list[dict[str, Any]] = []
    for content in contents:
        parts = content["parts"]
        calls = [p["functionCall"]["name"] for p in previous if "functionCall" in p]
        answers = [p["functionResponse"]["name"] for p in parts if "functionResponse" in p]
        if answers and len(answers) != len(calls):
            raise invalid(
                "Please ensure that the number of function response parts is equal to the number of function"
                " call parts of the function call turn."
            )
        if answers and sorted(answers) != sorted(calls):
            raise invalid("Please ensure that function response names match the function call names.")
        if (
            any("functionCall" in p for p in parts)
            and previous
            and any("functionCall" in p for p in previous)
        ):
            raise invalid(
                "Please ensure that function call turn comes immediately after a user turn"
                " or after a function response turn."
            )
        previous = parts


def _tools(tools: Any) -> tuple[str, ...]:
    if tools is None:
        return ()
    if not isinstance(tools, list):
        raise invalid("Invalid value at 'tools': expected a list.")
    names: list[str] = []
    for index, raw_tool in enumerate(tools):
        tool = as_object(raw_tool, f"tools[{index}]")
        check_fields(tool, frozenset({"functionDeclarations", "googleSearch", "codeExecution", "urlContext"}))
        for number, raw in enumerate(tool.get("functionDeclarations") or ()):
            where = f"tools[{index}].function_declarations[{number}]"
            declaration = as_object(raw, where)
            check_fields(declaration, DECLARATION_FIELDS, where)
            name = declaration.get("name")
            if not isinstance(name, str) or not name or not (name[0].isalpha() or name[0] == "_"):
                raise invalid(f"* GenerateContentRequest.{where}.name: Invalid function name.")
            if "parameters" in declaration and "parametersJsonSchema" in declaration:
                raise invalid(f"{where}: parameters and parameters_json_schema are mutually exclusive.")
            names.append(name)
    return tuple(names)


def _tool_config(config: Any, declared: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    if config is None:
        return "AUTO", ()
    config = as_object(config, "tool_config")
    check_fields(config, frozenset({"functionCallingConfig"}), "tool_config")
    calling = as_object(config.get("functionCallingConfig", {}), "tool_config.function_calling_config")
    check_fields(calling, frozenset({"mode", "allowedFunctionNames"}), "tool_config.function_calling_config")
    mode = calling.get("mode", "AUTO")
    if mode not in MODES:
        raise invalid(f"Invalid value at 'tool_config.function_calling_config.mode' ({mode!r})")
    allowed = tuple(calling.get("allowedFunctionNames") or ())
    if allowed and mode not in ("ANY", "VALIDATED"):
        raise invalid(
            "* GenerateContentRequest.tool_config: allowed_function_names may be set only when mode is ANY."
        )
    if any(name not in declared for name in allowed):
        raise invalid(
            "* GenerateContentRequest.tool_config: allowed_function_names must name declared functions."
        )
    return mode, allowed


def _generation_config(config: Any, model: str) -> tuple[bool, bool]:
    if config is None:
        return False, False
    config = as_object(config, "generation_config")
    check_fields(config, CONFIG_FIELDS, "generation_config")
    temperature = config.get("temperature")
    if temperature is not None and not 0 <= temperature <= 2:
        raise invalid("* GenerateContentRequest.generation_config.temperature: must be in [0.0, 2.0]")
    if len(config.get("stopSequences") or ()) > 5:
        raise invalid("* GenerateContentRequest.generation_config.stop_sequences: at most 5 are allowed")
    if "responseSchema" in config and "responseJsonSchema" in config:
        raise invalid("response_schema and response_json_schema are mutually exclusive.")
    json_reply = config.get("responseMimeType") == "application/json"
    if ("responseSchema" in config or "responseJsonSchema" in config) and not json_reply:
        raise invalid(
            "* GenerateContentRequest.generation_config.response_mime_type: must be application/json"
        )
    thinking = config.get("thinkingConfig")
    if thinking is None:
        return False, json_reply
    thinking = as_object(thinking, "generation_config.thinking_config")
    check_fields(thinking, THINKING_FIELDS, "generation_config.thinking_config")
    if model.startswith("gemini-2.0"):
        raise invalid("Thinking is not supported for this model.")
    if "thinkingBudget" in thinking and "thinkingLevel" in thinking:
        raise invalid("You can only set only one of thinking budget and thinking level.")
    return bool(thinking.get("includeThoughts")), json_reply


# --- replies ------------------------------------------------------------------------------------


@attrs.frozen
class Reply:
    """One answer as the parts Gemini would stream, one part per event."""

    parts: tuple[dict[str, Any], ...]
    thoughts_tokens: int | None
    prompt_tokens: int


def build_reply(request: Generate, model: str, chunks: int) -> Reply:
    parts: list[dict[str, Any]] = []
    if request.thoughts:
        parts.append({"text": "Thinking it over…", "thought": True})
    if request.callable:
        for index, name in enumerate(request.callable):
            part: dict[str, Any] = {"functionCall": {"name": name, "args": {**TOOL_ARGUMENTS, "n": index}}}
            if index == 0 and not model.startswith("gemini-2.0"):
                part["thoughtSignature"] = base64.b64encode(f"sig:{model}:{name}".encode()).decode()
            parts.append(part)
    elif request.answered:
        parts.append({"text": "results: " + ", ".join(request.answered)})
    elif request.json:
        parts.append({"text": '{"answer": "tok"}'})
    else:
        parts.extend({"text": f"tok{i} "} for i in range(chunks))
        parts.append({"text": UNICODE_PIECE})
    return Reply(tuple(parts), 7 if request.thoughts else None, request.prompt_tokens)


def _usage(reply: Reply, emitted: int) -> dict[str, int]:
    candidates = sum(1 for p in reply.parts[:emitted] if not p.get("thought"))
    usage = {"promptTokenCount": reply.prompt_tokens, "candidatesTokenCount": candidates}
    total = reply.prompt_tokens + candidates
    if reply.thoughts_tokens is not None and emitted:
        usage["thoughtsTokenCount"] = reply.thoughts_tokens
        total += reply.thoughts_tokens
    usage["totalTokenCount"] = total
    return usage


def _finish(model: str) -> str:
    return {FAULT_SAFETY: "SAFETY", FAULT_MALFORMED: "MALFORMED_FUNCTION_CALL"}.get(model, "STOP")


def response_body(reply: Reply, model: str, response_id: str) -> bytes:
    if model == FAULT_BLOCKED:
        return orjson.dumps({"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": _usage(reply, 0)})
    merged: list[dict[str, Any]] = []
    for part in reply.parts:
        same_kind = merged and "text" in part and "text" in merged[-1]
        if same_kind and bool(part.get("thought")) == bool(merged[-1].get("thought")):
            merged[-1] = {**merged[-1], "text": merged[-1]["text"] + part["text"]}
        else:
            merged.append(part)
    candidate: dict[str, Any] = {"finishReason": _finish(model), "index": 0}
    if model not in (FAULT_SAFETY, FAULT_MALFORMED):
        candidate["content"] = {"parts": merged, "role": "model"}
    return orjson.dumps(
        {
            "candidates": [candidate],
            "usageMetadata": _usage(reply, len(reply.parts)),
            "modelVersion": model,
            "responseId": response_id,
        }
    )


def stream_events(reply: Reply, model: str, response_id: str) -> Iterator[bytes]:
    """Every SSE event of ``streamGenerateContent?alt=sse``, with Google's CRLF framing."""
    if model == FAULT_BLOCKED:
        yield b"data: " + response_body(reply, model, response_id) + b"\r\n\r\n"
        return
    last = len(reply.parts)
    for emitted, part in enumerate(reply.parts, start=1):
        candidate: dict[str, Any] = {"content": {"parts": [part], "role": "model"}, "index": 0}
        if emitted == last:
            candidate["finishReason"] = _finish(model)
        chunk = {
            "candidates": [candidate],
            "usageMetadata": _usage(reply, emitted),
            "modelVersion": model,
            "responseId": response_id,
        }
        yield b"data: " + orjson.dumps(chunk) + b"\r\n\r\n"


# --- embeddings and model lists -----------------------------------------------------------------


def vector(text: str, dim: int) -> list[float]:
    return list(struct.unpack(f"<{dim}f", embedding_vector(text, dim)))


def text_tokens(text: str) -> int:
    return max(len(text.split()), 1)


def embedding_dim(config: Mapping[str, Any], default: int) -> int:
    value = config.get("outputDimensionality")
    if value is None:
        return default
    if not isinstance(value, int) or value < 1:
        raise invalid("Invalid value at 'output_dimensionality': must be a positive integer.")
    return value
