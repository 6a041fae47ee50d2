"""Wire format of the fake OpenAI upstream: request validation, errors and reply bytes.

Everything here is pure (no I/O) so the aiohttp server in ``fake_upstream`` stays a
thin shell. The fixed parts of every reply are serialised once per server, which
keeps the fake far cheaper per request than the gateway it is used to benchmark.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import math
import struct
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

import attrs
import orjson

CREATED: Final = 1_700_000_000
SYSTEM_FINGERPRINT: Final = "fp_fake"

CHAT_PARAMS: Final = frozenset(
    {
        "model", "messages", "stream", "stream_options", "temperature", "top_p", "n",
        "stop", "max_tokens", "max_completion_tokens", "presence_penalty",
        "frequency_penalty", "logit_bias", "logprobs", "top_logprobs", "user", "seed",
        "tools", "tool_choice", "parallel_tool_calls", "response_format",
        "reasoning_effort", "metadata", "store", "modalities", "audio", "prediction",
        "service_tier", "web_search_options", "verbosity", "prompt_cache_key",
        "safety_identifier", "functions", "function_call",
    }
)  # fmt: skip
EMBEDDING_PARAMS: Final = frozenset({"model", "input", "encoding_format", "dimensions", "user"})
ROLES: Final = ("system", "developer", "user", "assistant", "tool", "function")

FAULT_STATUS: Final[Mapping[str, int]] = {
    "fault-400": 400,
    "fault-401": 401,
    "fault-429": 429,
    "fault-500": 500,
    "fault-503": 503,
}
FAULT_STALL: Final = "fault-stall"
FAULT_CUT: Final = "fault-cut"
FAULT_STREAM_STALL: Final = "fault-stream-stall"
FAULT_STREAM_CUT: Final = "fault-stream-cut"
FAULT_STREAM_ERROR: Final = "fault-stream-error"
STREAM_FAULTS: Final = frozenset({FAULT_STREAM_STALL, FAULT_STREAM_CUT, FAULT_STREAM_ERROR})
FAULT_MODES: Final = frozenset(FAULT_STATUS) | {FAULT_STALL, FAULT_CUT} | STREAM_FAULTS
FAULT_PREFIX: Final = "fault-"
# How many stream events the stream faults let through before misbehaving.
STREAM_FAULT_AFTER: Final = 2

RETRY_AFTER_SECONDS: Final = 7

DONE_EVENT: Final = b"data: [DONE]\n\n"
AZURE_NOT_FOUND: Final = orjson.dumps({"error": {"code": "404", "message": "Resource not found"}})

_JSON_PARSE_MESSAGE: Final = (
    "We could not parse the JSON body of your request. (HINT: This likely means you"
    " aren't using your HTTP library correctly. The OpenAI API expects a JSON payload,"
    " but what was sent was not valid JSON. If you have trouble figuring out how to fix"
    " this, please contact us through our help center at help.openai.com.)"
)
_INVALID_INPUT_MESSAGE: Final = (
    "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference."
)


class UpstreamError(Exception):
    """An HTTP error reply, raised anywhere in request handling and sent as-is."""

    def __init__(self, status: int, body: bytes, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers: Mapping[str, str] = headers or {}


def error_body(
    message: str,
    *,
    type_: str = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
) -> bytes:
    return orjson.dumps({"error": {"message": message, "type": type_, "param": param, "code": code}})


STREAM_ERROR_EVENT: Final = b"data: " + error_body("upstream exploded", type_="server_error") + b"\n\n"


def invalid_request(message: str, param: str | None = None, code: str | None = None) -> UpstreamError:
    return UpstreamError(400, error_body(message, param=param, code=code))


def redact_key(key: str) -> str:
    shown = key[-4:] if len(key) > 4 else ""
    return "*" * (len(key) - len(shown)) + shown


def auth_error(provided: str | None) -> UpstreamError:
    if not provided:
        message = (
            "You didn't provide an API key. You need to provide your API key in an"
            " Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
        )
    else:
        message = (
            f"Incorrect API key provided: {redact_key(provided)}. You can find your API key"
            " at https://platform.openai.com/account/api-keys."
        )
    return UpstreamError(401, error_body(message, code="invalid_api_key"))


def invalid_url(method: str, path: str) -> UpstreamError:
    return UpstreamError(404, error_body(f"Invalid URL ({method} {path})"))


def model_not_found(model: str) -> UpstreamError:
    message = f"The model `{model}` does not exist or you do not have access to it."
    return UpstreamError(404, error_body(message, code="model_not_found"))


def status_error(status: int, message: str) -> UpstreamError:
    type_ = "server_error" if status >= 500 else "invalid_request_error"
    return UpstreamError(status, error_body(message, type_=type_))


def fault_error(fault: str) -> UpstreamError:
    """The error reply of one of the ``FAULT_STATUS`` modes."""
    status = FAULT_STATUS[fault]
    if status == 401:
        return auth_error("sk-fault-injected")
    if status == 429:
        message = (
            "Rate limit reached for fake-model in organization org-fake on requests per min"
            f" (RPM): Limit 1, Used 1, Requested 1. Please try again in {RETRY_AFTER_SECONDS}s."
        )
        body = error_body(message, type_="requests", code="rate_limit_exceeded")
        return UpstreamError(429, body, {"retry-after": str(RETRY_AFTER_SECONDS)})
    if status == 400:
        return invalid_request(f"Injected bad request ({fault}).")
    return status_error(status, f"The server had an error while processing your request ({fault}).")


# --- request validation ---------------------------------------------------------------


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _invalid_type(param: str, expected: str, value: object) -> UpstreamError:
    message = f"Invalid type for '{param}': expected {expected}, but got {_json_type(value)} instead."
    return invalid_request(message, param, "invalid_type")


def _missing(param: str) -> UpstreamError:
    return invalid_request(f"Missing required parameter: '{param}'.", param, "missing_required_parameter")


def parse_json(body: bytes) -> Any:
    """Decode a request body; None when it is not valid JSON (or is JSON ``null``)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


def require_object(parsed: Any) -> dict[str, Any]:
    if parsed is None:
        raise invalid_request(_JSON_PARSE_MESSAGE)
    if not isinstance(parsed, dict):
        raise _invalid_type("body", "an object", parsed)
    return parsed


def _reject_unknown(payload: Mapping[str, Any], allowed: frozenset[str]) -> None:
    for name in payload:
        if name not in allowed:
            raise invalid_request(f"Unrecognized request argument supplied: {name}", name)


def _require_model(payload: Mapping[str, Any]) -> str:
    if "model" not in payload:
        raise _missing("model")
    model = payload["model"]
    if not isinstance(model, str):
        raise _invalid_type("model", "a string", model)
    return model


def _optional_bool(value: object, param: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _invalid_type(param, "a boolean", value)
    return value


@attrs.frozen
class ChatRequest:
    model: str
    stream: bool
    include_usage: bool
    prompt_tokens: int


def _check_messages(messages: object) -> list[dict[str, Any]]:
    if not isinstance(messages, list):
        raise _invalid_type("messages", "an array", messages)
    if not messages:
        raise invalid_request(
            "Invalid 'messages': empty array. Expected an array with minimum length 1,"
            " but got an empty array instead.",
            "messages",
            "empty_array",
        )
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise _invalid_type(f"messages[{index}]", "an object", message)
        if message.get("role") not in ROLES:
            raise _bad_role(index, message)
    return messages


def _bad_role(index: int, message: Mapping[str, Any]) -> UpstreamError:
    param = f"messages[{index}].role"
    if "role" not in message:
        return _missing(param)
    supported = ", ".join(f"'{role}'" for role in ROLES[:-1]) + f", and '{ROLES[-1]}'"
    return invalid_request(
        f"Invalid value: {orjson.dumps(message['role']).decode()}. Supported values are: {supported}.",
        param,
        "invalid_value",
    )


def count_prompt_tokens(messages: Sequence[Mapping[str, Any]]) -> int:
    """Whitespace-separated words over all string message contents, at least 1."""
    words = sum(len(m["content"].split()) for m in messages if isinstance(m.get("content"), str))
    return max(words, 1)


def validate_chat(payload: dict[str, Any]) -> ChatRequest:
    _reject_unknown(payload, CHAT_PARAMS)
    model = _require_model(payload)
    if "messages" not in payload:
        raise _missing("messages")
    messages = _check_messages(payload["messages"])
    stream = _optional_bool(payload.get("stream"), "stream")
    options = payload.get("stream_options")
    include_usage = False
    if options is not None:
        if not stream:
            raise invalid_request(
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                "stream_options",
            )
        if not isinstance(options, dict):
            raise _invalid_type("stream_options", "an object", options)
        include_usage = _optional_bool(options.get("include_usage"), "stream_options.include_usage")
    return ChatRequest(model, stream, include_usage, count_prompt_tokens(messages))


@attrs.frozen
class EmbeddingRequest:
    model: str
    # Strings stay strings; token arrays become tuples so they can be cached on.
    inputs: tuple[str | tuple[int, ...], ...]
    base64: bool
    dimensions: int | None


def _is_token(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _embedding_inputs(value: object) -> tuple[str | tuple[int, ...], ...]:
    if isinstance(value, str) and value:
        return (value,)
    if isinstance(value, list) and value:
        if all(isinstance(item, str) and item for item in value):
            return tuple(value)
        if all(_is_token(item) for item in value):
            return (tuple(value),)
        if all(isinstance(item, list) and item and all(map(_is_token, item)) for item in value):
            return tuple(tuple(item) for item in value)
    raise invalid_request(_INVALID_INPUT_MESSAGE, "input")


def validate_embeddings(payload: dict[str, Any]) -> EmbeddingRequest:
    _reject_unknown(payload, EMBEDDING_PARAMS)
    model = _require_model(payload)
    if "input" not in payload:
        raise _missing("input")
    inputs = _embedding_inputs(payload["input"])
    encoding = payload.get("encoding_format")
    if encoding not in (None, "float", "base64"):
        raise invalid_request(
            f"Invalid value: {orjson.dumps(encoding).decode()}. Supported values are: 'float' and 'base64'.",
            "encoding_format",
            "invalid_value",
        )
    dimensions = payload.get("dimensions")
    if dimensions is not None and not (_is_token(dimensions) and dimensions > 0):
        raise invalid_request(
            "Invalid 'dimensions': expected an integer greater than or equal to 1.",
            "dimensions",
            "invalid_value",
        )
    return EmbeddingRequest(model, inputs, encoding == "base64", dimensions)


# --- replies -------------------------------------------------------------------------


def models_body(models: Sequence[str]) -> bytes:
    data = [{"id": m, "object": "model", "created": CREATED, "owned_by": "fake"} for m in models]
    return orjson.dumps({"object": "list", "data": data})


def _usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _choice_delta(delta: Mapping[str, str], finish_reason: str | None) -> bytes:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
    return orjson.dumps([choice])


@attrs.frozen
class ChatReply:
    """The deterministic assistant reply (``"tok0 "``, ``"tok1 "``, ...) pre-serialised."""

    pieces: tuple[str, ...]
    # Per stream event, everything after `"choices":`; one variant carries `"usage":null`.
    _tails: tuple[bytes, ...]
    _tails_with_usage: tuple[bytes, ...]

    @classmethod
    def build(cls, chunks: int) -> ChatReply:
        pieces = tuple(f"tok{i} " for i in range(chunks))
        choices = [
            _choice_delta({"role": "assistant", "content": ""}, None),
            *(_choice_delta({"content": piece}, None) for piece in pieces),
            _choice_delta({}, "stop"),
        ]
        return cls(
            pieces,
            tuple(c + b"}\n\n" for c in choices),
            tuple(c + b',"usage":null}\n\n' for c in choices),
        )

    @property
    def content(self) -> str:
        return "".join(self.pieces)

    def completion(self, completion_id: str, model: str, prompt_tokens: int) -> bytes:
        message = {"role": "assistant", "content": self.content, "refusal": None}
        return orjson.dumps(
            {
                "id": completion_id,
                "object": "chat.completion",
                "created": CREATED,
                "model": model,
                "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}],
                "usage": _usage(prompt_tokens, len(self.pieces)),
                "system_fingerprint": SYSTEM_FINGERPRINT,
            }
        )

    def stream_events(
        self, completion_id: str, model: str, include_usage: bool, prompt_tokens: int
    ) -> Iterator[bytes]:
        """Every SSE event of a streamed completion, ``data: [DONE]`` included."""
        head = b"".join(
            (
                b'data: {"id":',
                orjson.dumps(completion_id),
                b',"object":"chat.completion.chunk","created":',
                str(CREATED).encode(),
                b',"model":',
                orjson.dumps(model),
                b',"system_fingerprint":',
                orjson.dumps(SYSTEM_FINGERPRINT),
                b',"choices":',
            )
        )
        for tail in self._tails_with_usage if include_usage else self._tails:
            yield head + tail
        if include_usage:
            usage = orjson.dumps(_usage(prompt_tokens, len(self.pieces)))
            yield head + b'[],"usage":' + usage + b"}\n\n"
        yield DONE_EVENT


def _seed(item: str | tuple[int, ...]) -> bytes:
    if isinstance(item, str):
        return b"text:" + item.encode()
    return b"tokens:" + orjson.dumps(item)


@functools.lru_cache(maxsize=4096)
def embedding_vector(item: str | tuple[int, ...], dim: int) -> bytes:
    """A unit-length vector derived from ``item``, as little-endian float32 bytes.

    Packing to float32 up front makes the ``float`` and ``base64`` encodings carry
    exactly the same numbers, as they do on the real API.
    """
    words = struct.unpack(f"<{dim}I", hashlib.shake_256(_seed(item)).digest(4 * dim))
    values = [w / 2**31 - 1.0 for w in words]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return struct.pack(f"<{dim}f", *(v / norm for v in values))


def _prompt_tokens(item: str | tuple[int, ...]) -> int:
    return max(len(item.split()), 1) if isinstance(item, str) else len(item)


def embeddings_body(request: EmbeddingRequest, default_dim: int) -> bytes:
    dim = request.dimensions or default_dim
    data = []
    for index, item in enumerate(request.inputs):
        packed = embedding_vector(item, dim)
        vector: object = (
            base64.b64encode(packed).decode() if request.base64 else list(struct.unpack(f"<{dim}f", packed))
        )
        data.append({"object": "embedding", "index": index, "embedding": vector})
    tokens = sum(map(_prompt_tokens, request.inputs))
    return orjson.dumps(
        {
            "object": "list",
            "data": data,
            "model": request.model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    )
