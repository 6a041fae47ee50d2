"""Wire format of the fake Anthropic Messages API: request validation, errors and answers.

Pure (no I/O), so the aiohttp server in ``fake_anthropic`` stays a thin shell. Validation raises
`Rejected` carrying the status, error type and message the real API gives for the same mistake.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Final, Literal

import attrs
import orjson

__all__ = [
    "FAULT_MODES",
    "FAULT_STATUS",
    "RETRY_AFTER_SECONDS",
    "STREAM_ERRORS",
    "STREAM_FAULT_AFTER",
    "Answer",
    "AnswerStyle",
    "MessagesCall",
    "Rejected",
    "build_answer",
    "error_body",
    "invalid",
    "sample_value",
    "split",
    "sse_event",
    "validate",
]

RETRY_AFTER_SECONDS: Final = 7
#: How many stream events the stream faults let through before misbehaving.
STREAM_FAULT_AFTER: Final = 4
FAULT_STATUS: Final[Mapping[str, tuple[int, str, str]]] = {
    "fault-429": (429, "rate_limit_error", "This request would exceed the rate limit for your organization."),
    "fault-500": (500, "api_error", "Internal server error"),
    "fault-529": (529, "overloaded_error", "Overloaded"),
}
STREAM_ERRORS: Final[Mapping[str, tuple[str, str]]] = {
    "fault-stream-error": ("overloaded_error", "Overloaded"),
    "fault-stream-rate-limit": ("rate_limit_error", "Rate limited mid-stream"),
}
FAULT_MODES: Final = frozenset(
    {*FAULT_STATUS, *STREAM_ERRORS, "fault-stall", "fault-stream-stall", "fault-stream-cut"}
)

_TOP_LEVEL: Final = frozenset(
    {
        "model", "messages", "max_tokens", "system", "metadata", "stop_sequences", "stream",
        "temperature", "top_p", "top_k", "tools", "tool_choice", "thinking", "output_config",
        "service_tier", "container", "context_management", "mcp_servers", "inference_geo",
        "cache_control",
    }
)  # fmt: skip
#: Block type -> (required fields, optional fields).
_BLOCKS: Final[Mapping[str, tuple[frozenset[str], frozenset[str]]]] = {
    "text": (frozenset({"type", "text"}), frozenset({"cache_control", "citations"})),
    "image": (frozenset({"type", "source"}), frozenset({"cache_control"})),
    "document": (
        frozenset({"type", "source"}),
        frozenset({"cache_control", "title", "context", "citations"}),
    ),
    "tool_use": (
        frozenset({"type", "id", "name", "input"}),
        frozenset({"cache_control", "caller", "toolset_name"}),
    ),
    "tool_result": (
        frozenset({"type", "tool_use_id"}),
        frozenset({"content", "is_error", "cache_control", "toolset_name"}),
    ),
    "thinking": (frozenset({"type", "thinking", "signature"}), frozenset()),
    "redacted_thinking": (frozenset({"type", "data"}), frozenset()),
}
_ROLE_BLOCKS: Final = {
    "user": frozenset({"text", "image", "document", "tool_result"}),
    "assistant": frozenset({"text", "tool_use", "thinking", "redacted_thinking"}),
}
_TOOL_RESULT_BLOCKS: Final = frozenset({"text", "image", "document"})
_TOOL_FIELDS: Final = frozenset({"name", "description", "input_schema", "cache_control", "strict", "type"})
_IMAGE_TYPES: Final = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
_ID = re.compile(r"^[a-zA-Z0-9_-]+$")


class Rejected(Exception):
    """An error answer in Anthropic's shape, raised anywhere while handling a request."""

    def __init__(
        self, status: int, error_type: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.headers = dict(headers or {})


def invalid(message: str) -> Rejected:
    return Rejected(400, "invalid_request_error", message)


def error_body(error_type: str, message: str) -> bytes:
    return orjson.dumps(
        {"type": "error", "error": {"type": error_type, "message": message}, "request_id": "req_fake"}
    )


def sse_event(payload: dict[str, Any]) -> bytes:
    name: str = payload["type"]
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(payload) + b"\n\n"


# --- request validation ------------------------------------------------------------------------


@attrs.frozen
class MessagesCall:
    model: str
    stream: bool
    max_tokens: int
    thinking: bool
    tools: tuple[dict[str, Any], ...]
    tool_choice: dict[str, Any] | None
    schema: dict[str, Any] | None
    #: The last user turn carries tool results (so the fake answers in text).
    answering_tools: bool
    input_tokens: int


def _words(value: Any) -> int:
    if isinstance(value, str):
        return len(value.split())
    if isinstance(value, list):
        return sum(_words(item) for item in value)
    if isinstance(value, dict):
        return _words(value.get("text")) + _words(value.get("content"))
    return 0


def _check_fields(value: Any, loc: str, required: frozenset[str], optional: frozenset[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid(f"{loc}: Input should be a valid dictionary")
    for key in value:
        if key not in required and key not in optional:
            raise invalid(f"{loc}.{key}: Extra inputs are not permitted")
    for key in sorted(required):
        if key not in value:
            raise invalid(f"{loc}.{key}: Field required")
    return value


def _number(payload: dict[str, Any], key: str, low: float, high: float) -> None:
    value = payload.get(key)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid(f"{key}: Input should be a valid number")
    if not low <= value <= high:
        raise invalid(f"{key}: Input should be between {low:g} and {high:g}")


def validate(payload: Any, known_models: frozenset[str]) -> MessagesCall:
    """A request body -> what the fake answers, or `Rejected` with the error the real API gives."""
    if not isinstance(payload, dict):
        raise invalid("There was an issue with the request body: expected a JSON object")
    for key in payload:
        if key not in _TOP_LEVEL:
            raise invalid(f"{key}: Extra inputs are not permitted")
    for key in ("model", "messages", "max_tokens"):
        if key not in payload:
            raise invalid(f"{key}: Field required")
    max_tokens = payload["max_tokens"]
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 0:
        raise invalid("max_tokens: Input should be a valid integer greater than or equal to 0")
    model = payload["model"]
    if not isinstance(model, str) or not model:
        raise invalid("model: Input should be a valid string")
    _number(payload, "temperature", 0, 1)
    _number(payload, "top_p", 0, 1)
    _check_system(payload.get("system"))
    _check_fields(payload.get("metadata", {}), "metadata", frozenset(), frozenset({"user_id"}))
    stops = payload.get("stop_sequences", [])
    if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
        raise invalid("stop_sequences: Input should be a valid list of strings")
    answering_tools = _check_messages(payload["messages"])
    tools = _check_tools(payload.get("tools"))
    choice = _check_tool_choice(payload.get("tool_choice"))
    thinking = _check_thinking(payload, choice)
    schema = _check_output_config(payload.get("output_config"))
    if model not in known_models and not model.startswith("fault-"):
        raise Rejected(404, "not_found_error", f"model: {model}")
    stream = payload.get("stream", False)
    if not isinstance(stream, bool):
        raise invalid("stream: Input should be a valid boolean")
    return MessagesCall(
        model=model,
        stream=stream,
        max_tokens=max_tokens,
        thinking=thinking,
        tools=tools,
        tool_choice=choice,
        schema=schema,
        answering_tools=answering_tools,
        input_tokens=max(_words(payload.get("system")) + _words(payload["messages"]), 1),
    )


def _check_system(system: Any) -> None:
    if system is None or isinstance(system, str):
        return
    if not isinstance(system, list):
        raise invalid("system: Input should be a valid string or list of text blocks")
    for i, block in enumerate(system):
        _check_fields(block, f"system.{i}", *_BLOCKS["text"])


def _check_messages(messages: Any) -> bool:
    """Validate the conversation; True when its last user turn answers tool calls."""
    if not isinstance(messages, list):
        raise invalid("messages: Input should be a valid list")
    if not messages:
        raise invalid("messages: at least one message is required")
    pending: set[str] = set()  # tool_use ids of the previous assistant turn
    answering = False
    for i, message in enumerate(messages):
        loc = f"messages.{i}"
        _check_fields(message, loc, frozenset({"role", "content"}), frozenset())
        role = message["role"]
        if role not in _ROLE_BLOCKS:
            raise invalid(f"{loc}.role: Input should be 'user' or 'assistant'")
        if i == 0 and role != "user":
            raise invalid('messages: first message must use the "user" role')
        if i and messages[i - 1].get("role") == role:
            raise invalid(
                f'messages: roles must alternate between "user" and "assistant", '
                f'but found multiple "{role}" roles in a row'
            )
        content = message["content"]
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        if not isinstance(blocks, list):
            raise invalid(f"{loc}.content: Input should be a valid string or list")
        final_assistant = role == "assistant" and i == len(messages) - 1
        if (not content) and not final_assistant:
            raise invalid(
                f"{loc}: all messages must have non-empty content"
                " except for the optional final assistant message"
            )
        for j, block in enumerate(blocks if content else []):
            _check_block(block, role, f"{loc}.content.{j}")
        if role == "user":
            answering = _check_tool_results(blocks, pending, loc)
            pending = set()
        else:
            pending = {block["id"] for block in blocks if block["type"] == "tool_use"}
    return answering


def _check_tool_results(blocks: list[dict[str, Any]], pending: set[str], loc: str) -> bool:
    answered: set[str] = set()
    seen_other = False
    for j, block in enumerate(blocks):
        if block["type"] != "tool_result":
            seen_other = True
            continue
        if seen_other:
            raise invalid(f"{loc}.content.{j}: tool_result blocks must come before any other content")
        tool_use_id = block["tool_use_id"]
        if tool_use_id not in pending:
            raise invalid(
                f"{loc}.content.{j}: unexpected `tool_use_id` found in `tool_result` blocks:"
                f" {tool_use_id}. Each `tool_result` block must have a corresponding `tool_use` block"
                " in the previous message."
            )
        answered.add(tool_use_id)
    missing = pending - answered
    if missing:
        raise invalid(
            f"{loc}: `tool_use` ids were found without `tool_result` blocks immediately after: "
            f"{', '.join(sorted(missing))}. Each `tool_use` block must have a corresponding `tool_result`"
            " block in the next message."
        )
    return bool(answered)


def _check_block(block: Any, role: str, loc: str, allowed: frozenset[str] | None = None) -> None:
    kind = block.get("type") if isinstance(block, dict) else None
    if kind not in _BLOCKS:
        raise invalid(
            f"{loc}.type: Input tag {kind!r} found using 'type' does not match any of the expected tags"
        )
    if kind not in (allowed or _ROLE_BLOCKS[role]):
        raise invalid(f"{loc}: `{kind}` blocks are not allowed in {role} content here")
    _check_fields(block, loc, *_BLOCKS[kind])
    if kind == "text" and not (isinstance(block["text"], str) and block["text"].strip()):
        raise invalid(f"{loc}: text content blocks must contain non-whitespace text")
    elif kind in ("image", "document"):
        _check_source(block["source"], kind, f"{loc}.source")
    elif kind == "tool_use":
        if not isinstance(block["id"], str) or not _ID.match(block["id"]):
            raise invalid(f"{loc}.id: String should match pattern '^[a-zA-Z0-9_-]+$'")
        if not isinstance(block["input"], dict):
            raise invalid(f"{loc}.input: Input should be a valid dictionary")
    elif kind == "tool_result":
        content = block.get("content")
        if isinstance(content, list):
            for k, inner in enumerate(content):
                _check_block(inner, role, f"{loc}.content.{k}", _TOOL_RESULT_BLOCKS)
        elif content is not None and not isinstance(content, str):
            raise invalid(f"{loc}.content: Input should be a valid string or list")
    elif kind == "thinking" and not (isinstance(block["signature"], str) and block["signature"]):
        raise invalid(f"{loc}.signature: Invalid `signature` in `thinking` block")


def _check_source(source: Any, kind: str, loc: str) -> None:
    source_type = source.get("type") if isinstance(source, dict) else None
    if source_type == "url":
        _check_fields(source, loc, frozenset({"type", "url"}), frozenset())
        return
    if source_type == "base64":
        _check_fields(source, loc, frozenset({"type", "media_type", "data"}), frozenset())
        media_types = _IMAGE_TYPES if kind == "image" else frozenset({"application/pdf"})
        if source["media_type"] not in media_types:
            raise invalid(f"{loc}.media_type: Input should be one of {sorted(media_types)}")
        return
    if source_type == "text" and kind == "document":
        _check_fields(source, loc, frozenset({"type", "media_type", "data"}), frozenset())
        return
    raise invalid(f"{loc}.type: unsupported {kind} source type {source_type!r}")


def _check_tools(tools: Any) -> tuple[dict[str, Any], ...]:
    if tools is None:
        return ()
    if not isinstance(tools, list):
        raise invalid("tools: Input should be a valid list")
    for i, tool in enumerate(tools):
        _check_fields(tool, f"tools.{i}", frozenset({"name", "input_schema"}), _TOOL_FIELDS)
        schema = tool["input_schema"]
        if not isinstance(schema, dict) or schema.get("type") != "object":
            raise invalid(f"tools.{i}.custom.input_schema.type: Input should be 'object'")
    return tuple(tools)


def _check_tool_choice(choice: Any) -> dict[str, Any] | None:
    if choice is None:
        return None
    optional = frozenset({"name", "disable_parallel_tool_use"})
    _check_fields(choice, "tool_choice", frozenset({"type"}), optional)
    if choice["type"] not in ("auto", "any", "tool", "none"):
        raise invalid("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'")
    if choice["type"] == "tool" and not choice.get("name"):
        raise invalid("tool_choice.tool.name: Field required")
    return dict(choice)


def _check_thinking(payload: dict[str, Any], choice: dict[str, Any] | None) -> bool:
    thinking = payload.get("thinking")
    if thinking is None:
        return False
    if not isinstance(thinking, dict) or thinking.get("type") not in ("enabled", "disabled", "adaptive"):
        raise invalid("thinking.type: Input should be 'enabled', 'disabled' or 'adaptive'")
    if thinking["type"] != "enabled":
        return bool(thinking["type"] == "adaptive")
    _check_fields(thinking, "thinking.enabled", frozenset({"type", "budget_tokens"}), frozenset({"display"}))
    budget = thinking["budget_tokens"]
    if not isinstance(budget, int) or budget < 1024:
        raise invalid("thinking.enabled.budget_tokens: Input should be greater than or equal to 1024")
    if payload["max_tokens"] <= budget:
        raise invalid("`max_tokens` must be greater than `thinking.budget_tokens`.")
    if payload.get("temperature") not in (None, 1):
        raise invalid("`temperature` may only be set to 1 when thinking is enabled.")
    if choice is not None and choice["type"] in ("any", "tool"):
        raise invalid("Thinking may not be enabled when tool_choice forces tool use.")
    return True


def _check_output_config(config: Any) -> dict[str, Any] | None:
    if config is None:
        return None
    _check_fields(config, "output_config", frozenset(), frozenset({"format", "effort"}))
    fmt = config.get("format")
    if fmt is None:
        return None
    _check_fields(fmt, "output_config.format", frozenset({"type", "schema"}), frozenset())
    if fmt["type"] != "json_schema" or not isinstance(fmt["schema"], dict):
        raise invalid("output_config.format: expected a json_schema format with an object schema")
    _check_closed(fmt["schema"], "output_config.format.schema")
    return dict(fmt["schema"])


def _check_closed(schema: Any, loc: str) -> None:
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "object" and schema.get("additionalProperties") is not False:
        raise invalid(f"{loc}: For 'object' type, 'additionalProperties' must be explicitly set to false")
    if "oneOf" in schema:
        raise invalid(f"{loc}: 'oneOf' is not supported")
    for name, sub in (schema.get("properties") or {}).items():
        _check_closed(sub, f"{loc}.properties.{name}")
    for key in ("items", "additionalItems"):
        _check_closed(schema.get(key), f"{loc}.{key}")
    for i, sub in enumerate(schema.get("anyOf") or []):
        _check_closed(sub, f"{loc}.anyOf.{i}")


# --- answers ---------------------------------------------------------------------------------


def sample_value(schema: Any, name: str = "value") -> Any:
    """A deterministic value matching a (simple) JSON schema: what the fake's tools are called with."""
    if not isinstance(schema, dict):
        return f"{name}-value"
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            return sample_value(schema[key][0], name)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties") or {}
        return {key: sample_value(sub, key) for key, sub in properties.items()}
    samples: dict[str, Any] = {"array": None, "integer": 1, "number": 1.5, "boolean": True, "null": None}
    if kind == "array":
        return [sample_value(schema.get("items"), name)]
    return samples.get(str(kind), f"{name}-value")


def split(text: str, pieces: int) -> tuple[str, ...]:
    """``text`` in ``pieces`` consecutive parts (fewer when it is shorter), by characters."""
    if pieces <= 1 or len(text) <= 1:
        return (text,)
    size = -(-len(text) // pieces)
    return tuple(text[i : i + size] for i in range(0, len(text), size))


@attrs.frozen
class AnswerBlock:
    kind: Literal["text", "thinking", "tool_use"]
    pieces: tuple[str, ...]
    tool_id: str = ""
    name: str = ""
    signature: str = ""

    def whole(self) -> dict[str, Any]:
        text = "".join(self.pieces)
        if self.kind == "text":
            return {"type": "text", "text": text}
        if self.kind == "thinking":
            return {"type": "thinking", "thinking": text, "signature": self.signature}
        return {"type": "tool_use", "id": self.tool_id, "name": self.name, "input": orjson.loads(text)}

    def events(self, index: int) -> Iterator[dict[str, Any]]:
        opening: dict[str, Any] = {"type": self.kind, self.kind: ""}
        if self.kind == "tool_use":
            opening = {"type": "tool_use", "id": self.tool_id, "name": self.name, "input": {}}
        yield {"type": "content_block_start", "index": index, "content_block": opening}
        field, delta_type = {
            "text": ("text", "text_delta"),
            "thinking": ("thinking", "thinking_delta"),
            "tool_use": ("partial_json", "input_json_delta"),
        }[self.kind]
        if self.kind == "tool_use":
            # The real API opens a tool call's arguments with an empty piece.
            yield {"type": "content_block_delta", "index": index, "delta": {"type": delta_type, field: ""}}
        for piece in self.pieces:
            yield {"type": "content_block_delta", "index": index, "delta": {"type": delta_type, field: piece}}
        if self.kind == "thinking":
            delta = {"type": "signature_delta", "signature": self.signature}
            yield {"type": "content_block_delta", "index": index, "delta": delta}
        yield {"type": "content_block_stop", "index": index}


@attrs.frozen
class Answer:
    message_id: str
    model: str
    blocks: tuple[AnswerBlock, ...]
    stop_reason: str
    usage: dict[str, int]

    def message(self) -> dict[str, Any]:
        return {
            "id": self.message_id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [block.whole() for block in self.blocks],
            "stop_reason": self.stop_reason,
            "stop_sequence": None,
            "usage": self.usage,
        }

    def events(self) -> Iterator[bytes]:
        start = {
            **self.message(),
            "content": [],
            "stop_reason": None,
            "usage": {**self.usage, "output_tokens": 1},
        }
        yield sse_event({"type": "message_start", "message": start})
        yield sse_event({"type": "ping"})
        for index, block in enumerate(self.blocks):
            for event in block.events(index):
                yield sse_event(event)
        delta = {"stop_reason": self.stop_reason, "stop_sequence": None}
        yield sse_event(
            {"type": "message_delta", "delta": delta, "usage": {"output_tokens": self.usage["output_tokens"]}}
        )
        yield sse_event({"type": "message_stop"})


@attrs.frozen(kw_only=True)
class AnswerStyle:
    """How the fake words its answers (set from the server's constructor)."""

    pieces: tuple[str, ...]
    json_pieces: int
    cache_read_tokens: int
    cache_creation_tokens: int


def build_answer(call: MessagesCall, message_id: str, style: AnswerStyle) -> Answer:
    """The deterministic answer to a validated request."""
    blocks: list[AnswerBlock] = []
    if call.thinking:
        blocks.append(AnswerBlock("thinking", ("Thinking ", "it ", "over."), signature=f"sig-{message_id}"))
    tools = _tools_to_call(call)
    if tools:
        if call.tool_choice is None or call.tool_choice["type"] == "auto":
            blocks.append(AnswerBlock("text", ("Let me ", "check.")))
        for n, tool in enumerate(tools):
            arguments = split(orjson.dumps(sample_value(tool["input_schema"])).decode(), style.json_pieces)
            blocks.append(
                AnswerBlock("tool_use", arguments, tool_id=f"toolu_{message_id}_{n}", name=tool["name"])
            )
        stop_reason = "tool_use"
    else:
        pieces = style.pieces
        if call.schema is not None:
            pieces = split(orjson.dumps(sample_value(call.schema)).decode(), style.json_pieces)
        stop_reason = "end_turn"
        if len(pieces) > call.max_tokens:
            pieces, stop_reason = pieces[: call.max_tokens], "max_tokens"
        blocks.append(AnswerBlock("text", pieces or ("",)))
    usage = {
        "input_tokens": call.input_tokens,
        "cache_creation_input_tokens": style.cache_creation_tokens,
        "cache_read_input_tokens": style.cache_read_tokens,
        "output_tokens": sum(len(block.pieces) for block in blocks),
    }
    return Answer(message_id, call.model, tuple(blocks), stop_reason, usage)


def _tools_to_call(call: MessagesCall) -> tuple[dict[str, Any], ...]:
    choice = call.tool_choice or {"type": "auto"}
    if not call.tools or choice["type"] == "none" or call.answering_tools:
        return ()
    if choice["type"] == "tool":
        return tuple(tool for tool in call.tools if tool["name"] == choice["name"])[:1]
    return call.tools[:1] if choice.get("disable_parallel_tool_use") else call.tools
