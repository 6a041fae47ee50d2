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


# --- audio ---------------------------------------------------------------------------

SPEECH_PARAMS: Final = frozenset(
    {"model", "input", "voice", "instructions", "response_format", "speed", "stream_format"}
)
#: Speech ``response_format`` -> the content type the API answers with.
SPEECH_FORMATS: Final[Mapping[str, str]] = {
    "mp3": "audio/mpeg",
    "opus": "audio/opus",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}
SPEECH_VOICES: Final = (
    "alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer", "verse",
    "marin", "cedar",
)  # fmt: skip
SPEECH_MAX_INPUT: Final = 4096
SPEECH_SAMPLE_RATE: Final = 24_000
# Container signatures, so each format's bytes at least start like the real thing.
_SPEECH_MAGIC: Final[Mapping[str, bytes]] = {
    "mp3": b"ID3\x04\x00\x00\x00\x00\x00\x00",
    "opus": b"OggS\x00\x02",
    "aac": b"\xff\xf1\x50\x80",
    "flac": b"fLaC",
}
TRANSCRIPTION_PARAMS: Final = frozenset(
    {
        "file", "model", "response_format", "language", "prompt", "temperature",
        "timestamp_granularities[]", "include[]",
    }
)  # fmt: skip
#: Form fields a client may repeat (the SDKs send arrays as ``name[]`` parts).
TRANSCRIPTION_ARRAYS: Final = frozenset({"timestamp_granularities[]", "include[]"})
TRANSCRIPTION_FORMATS: Final = ("json", "text", "srt", "verbose_json", "vtt")
AUDIO_FILE_TYPES: Final = ("flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm")
_TEXT_PLAIN: Final = "text/plain; charset=utf-8"


def _invalid_value(param: str, value: object, supported: Sequence[str]) -> UpstreamError:
    quoted = [f"'{item}'" for item in supported]
    listed = ", ".join(quoted[:-1]) + f", and {quoted[-1]}" if len(quoted) > 1 else quoted[0]
    return invalid_request(
        f"Invalid value: {orjson.dumps(value).decode()}. Supported values are: {listed}.",
        param,
        "invalid_value",
    )


@attrs.frozen
class SpeechRequest:
    model: str
    input: str
    voice: str
    instructions: str | None
    response_format: str
    speed: float
    stream_format: str


def _speech_voice(payload: Mapping[str, Any]) -> str:
    if "voice" not in payload:
        raise _missing("voice")
    voice = payload["voice"]
    if isinstance(voice, dict):  # a custom voice: {"id": "voice_..."}
        voice_id = voice.get("id")
        if not isinstance(voice_id, str) or not voice_id:
            raise _missing("voice.id")
        return voice_id
    if not isinstance(voice, str):
        raise _invalid_type("voice", "a string", voice)
    if voice not in SPEECH_VOICES:
        raise _invalid_value("voice", voice, SPEECH_VOICES)
    return voice


def validate_speech(payload: dict[str, Any]) -> SpeechRequest:
    _reject_unknown(payload, SPEECH_PARAMS)
    model = _require_model(payload)
    if "input" not in payload:
        raise _missing("input")
    text = payload["input"]
    if not isinstance(text, str):
        raise _invalid_type("input", "a string", text)
    if not text:
        raise invalid_request(
            "Invalid 'input': empty string. Expected a string with minimum length 1, but got an empty"
            " string instead.",
            "input",
            "empty_string",
        )
    if len(text) > SPEECH_MAX_INPUT:
        raise invalid_request(
            f"Invalid 'input': string too long. Expected a string with maximum length {SPEECH_MAX_INPUT},"
            f" but got a string with length {len(text)} instead.",
            "input",
            "string_above_max_length",
        )
    voice = _speech_voice(payload)
    instructions = payload.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise _invalid_type("instructions", "a string", instructions)
    response_format = payload.get("response_format", "mp3")
    if response_format not in SPEECH_FORMATS:
        raise _invalid_value("response_format", response_format, tuple(SPEECH_FORMATS))
    speed = payload.get("speed", 1.0)
    if isinstance(speed, bool) or not isinstance(speed, int | float):
        raise _invalid_type("speed", "a number", speed)
    if not 0.25 <= speed <= 4.0:
        raise invalid_request(
            f"Invalid 'speed': expected a number between 0.25 and 4.0, but got {speed} instead.",
            "speed",
            "invalid_value",
        )
    stream_format = payload.get("stream_format", "audio")
    if stream_format not in ("audio", "sse"):
        raise _invalid_value("stream_format", stream_format, ("audio", "sse"))
    return SpeechRequest(model, text, voice, instructions, response_format, float(speed), stream_format)


def wav_bytes(pcm: bytes, sample_rate: int = SPEECH_SAMPLE_RATE) -> bytes:
    """16-bit mono PCM wrapped in a minimal RIFF/WAVE header."""
    header = struct.pack("<4sI4s", b"RIFF", 36 + len(pcm), b"WAVE")
    fmt = struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, 1, sample_rate, sample_rate * 2, 2, 16)
    return header + fmt + struct.pack("<4sI", b"data", len(pcm)) + pcm


def pcm_samples(seed: bytes, words: int) -> bytes:
    """Deterministic 16-bit samples: a few hundred per word, derived from ``seed``."""
    return hashlib.shake_256(seed).digest(2 * 240 * max(words, 1))


def speech_audio(request: SpeechRequest) -> bytes:
    """The deterministic audio for a speech request, in its ``response_format``."""
    seed = orjson.dumps([request.model, request.voice, request.input, request.instructions, request.speed])
    pcm = pcm_samples(seed, len(request.input.split()))
    if request.response_format == "pcm":
        return pcm
    if request.response_format == "wav":
        return wav_bytes(pcm)
    return _SPEECH_MAGIC[request.response_format] + pcm


def speech_sse(request: SpeechRequest) -> bytes:
    """``stream_format: "sse"``: one audio delta, then the done event with usage."""
    audio = base64.b64encode(speech_audio(request)).decode()
    tokens = max(len(request.input.split()), 1)
    delta = orjson.dumps({"type": "speech.audio.delta", "audio": audio})
    usage = {"input_tokens": tokens, "output_tokens": 4 * tokens, "total_tokens": 5 * tokens}
    done = orjson.dumps({"type": "speech.audio.done", "usage": usage})
    return b"data: " + delta + b"\n\ndata: " + done + b"\n\n"


@attrs.frozen
class FormPart:
    """One part of a ``multipart/form-data`` body."""

    name: str
    value: bytes
    filename: str | None = None
    content_type: str | None = None


def _form_error(detail: str) -> UpstreamError:
    return invalid_request(f"Could not parse multipart form: {detail}.", code="invalid_multipart_form")


def header_params(value: str) -> tuple[str, dict[str, str]]:
    """``form-data; name="a\\"b"; filename=x`` -> ("form-data", {"name": 'a"b', "filename": "x"})."""
    main, _, rest = value.partition(";")
    params: dict[str, str] = {}
    index = 0
    while index < len(rest):
        while index < len(rest) and rest[index] in " \t;":
            index += 1
        equals = rest.find("=", index)
        if equals < 0:
            break
        key = rest[index:equals].strip().lower()
        index = equals + 1
        if rest[index : index + 1] == '"':
            index += 1
            chars: list[str] = []
            while index < len(rest) and rest[index] != '"':
                if rest[index] == "\\" and index + 1 < len(rest):
                    index += 1
                chars.append(rest[index])
                index += 1
            if index >= len(rest):
                raise _form_error(f"unterminated quoted {key!r} parameter")
            index += 1
            params[key] = "".join(chars)
        else:
            end = rest.find(";", index)
            end = len(rest) if end < 0 else end
            params[key] = rest[index:end].strip()
            index = end
    return main.strip().lower(), params


def _split_parts(body: bytes, boundary: bytes) -> list[bytes]:
    """The raw parts between RFC 2046 delimiters (CRLF, ``--boundary``, padding, CRLF)."""
    delimiter = b"\r\n--" + boundary
    data = b"\r\n" + body
    parts: list[bytes] = []
    start: int | None = None
    position = 0
    while True:
        found = data.find(delimiter, position)
        if found < 0:
            raise _form_error("the closing boundary is missing")
        after = found + len(delimiter)
        if data[after : after + 2] == b"--":
            if start is None:
                raise _form_error("the form has no parts")
            parts.append(data[start:found])
            return parts
        end = after
        while data[end : end + 1] in (b" ", b"\t"):
            end += 1
        if data[end : end + 2] != b"\r\n":
            position = after  # boundary-like bytes inside a part, not a delimiter
            continue
        if start is not None:
            parts.append(data[start:found])
        start = position = end + 2


def _read_part(raw: bytes) -> FormPart:
    if raw.startswith(b"\r\n"):
        head, value = b"", raw[2:]
    else:
        head, separator, value = raw.partition(b"\r\n\r\n")
        if not separator:
            raise _form_error("a part has no blank line after its headers")
    headers: dict[str, str] = {}
    for line in head.split(b"\r\n") if head else ():
        name, colon, field = line.partition(b":")
        if not colon:
            raise _form_error("a part header has no colon")
        try:
            headers[name.decode("ascii").strip().lower()] = field.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise _form_error("a part header is not UTF-8") from None
    if "content-disposition" not in headers:
        raise _form_error("a part has no Content-Disposition")
    kind, params = header_params(headers["content-disposition"])
    if kind != "form-data" or not params.get("name"):
        raise _form_error("a part's Content-Disposition is not form-data with a name")
    return FormPart(params["name"], value, params.get("filename"), headers.get("content-type"))


def parse_multipart(body: bytes, content_type: str) -> list[FormPart]:
    """Every part of a ``multipart/form-data`` body, in order; raises the API's 400s."""
    media_type, params = header_params(content_type)
    if media_type != "multipart/form-data":
        raise invalid_request(
            f"Invalid Content-Type header ({content_type or 'none'}), expected multipart/form-data."
            " (HINT: If you're using curl, you can pass -H 'Content-Type: multipart/form-data')"
        )
    boundary = params.get("boundary")
    if not boundary:
        raise _form_error("the Content-Type has no boundary")
    return [_read_part(raw) for raw in _split_parts(body, boundary.encode("latin-1"))]


@attrs.frozen
class TranscriptionRequest:
    model: str
    file: bytes
    filename: str
    response_format: str
    language: str | None
    prompt: str | None
    temperature: float
    granularities: tuple[str, ...]
    include: tuple[str, ...]


def _form_fields(parts: Sequence[FormPart]) -> dict[str, list[FormPart]]:
    fields: dict[str, list[FormPart]] = {}
    for part in parts:
        if part.name not in TRANSCRIPTION_PARAMS:
            raise invalid_request(f"Unrecognized request argument supplied: {part.name}", part.name)
        if part.name in fields and part.name not in TRANSCRIPTION_ARRAYS:
            raise invalid_request(f"Duplicate form field: {part.name}", part.name)
        fields.setdefault(part.name, []).append(part)
    return fields


def _form_text(fields: Mapping[str, list[FormPart]], name: str) -> str | None:
    parts = fields.get(name)
    if not parts:
        return None
    try:
        return parts[0].value.decode("utf-8")
    except UnicodeDecodeError:
        raise invalid_request(f"Invalid '{name}': not UTF-8 text.", name) from None


def _form_file(fields: Mapping[str, list[FormPart]]) -> FormPart:
    if "file" not in fields:
        raise _missing("file")
    file = fields["file"][0]
    if file.filename is None:
        raise _invalid_type("file", "a file upload", file.value.decode("utf-8", "replace"))
    extension = file.filename.rpartition(".")[2].lower() if "." in file.filename else ""
    if extension not in AUDIO_FILE_TYPES:
        raise invalid_request(
            f"Invalid file format. Supported formats: {list(AUDIO_FILE_TYPES)}", "file", "invalid_value"
        )
    if not file.value:
        raise invalid_request(
            "Audio file is too short. Minimum audio length is 0.1 seconds.", "file", "audio_too_short"
        )
    return file


def _form_temperature(fields: Mapping[str, list[FormPart]]) -> float:
    text = _form_text(fields, "temperature")
    if text is None:
        return 0.0
    try:
        temperature = float(text)
    except ValueError:
        raise _invalid_type("temperature", "a number", text) from None
    if not 0.0 <= temperature <= 1.0:
        raise invalid_request(
            f"Invalid 'temperature': expected a number between 0 and 1, but got {temperature} instead.",
            "temperature",
            "invalid_value",
        )
    return temperature


def validate_transcription(parts: Sequence[FormPart]) -> TranscriptionRequest:
    fields = _form_fields(parts)
    model = _form_text(fields, "model")
    if not model:
        raise _missing("model")
    file = _form_file(fields)
    response_format = _form_text(fields, "response_format") or "json"
    if response_format not in TRANSCRIPTION_FORMATS:
        raise _invalid_value("response_format", response_format, TRANSCRIPTION_FORMATS)
    language = _form_text(fields, "language")
    if language is not None and not (2 <= len(language) <= 3 and language.isascii() and language.isalpha()):
        raise invalid_request(
            f"Invalid language '{language}'. Language parameter must be specified in ISO-639-1 format.",
            "language",
            "invalid_language_format",
        )
    granularities = tuple(
        p.value.decode("utf-8", "replace") for p in fields.get("timestamp_granularities[]", [])
    )
    for value in granularities:
        if value not in ("word", "segment"):
            raise _invalid_value("timestamp_granularities[]", value, ("word", "segment"))
    if granularities and response_format != "verbose_json":
        raise invalid_request(
            "timestamp_granularities is only supported with response_format 'verbose_json'.",
            "timestamp_granularities",
        )
    include = tuple(p.value.decode("utf-8", "replace") for p in fields.get("include[]", []))
    for value in include:
        if value != "logprobs":
            raise _invalid_value("include[]", value, ("logprobs",))
    return TranscriptionRequest(
        model=model,
        file=file.value,
        filename=file.filename or "",
        response_format=response_format,
        language=language.lower() if language else None,
        prompt=_form_text(fields, "prompt"),
        temperature=_form_temperature(fields),
        granularities=granularities,
        include=include,
    )


def transcript_for(audio: bytes, language: str | None = None) -> str:
    """The deterministic transcript of ``audio``: it names the bytes, so tests see they arrived intact."""
    digest = hashlib.sha256(audio).hexdigest()[:12]
    suffix = f" in {language}" if language else ""
    return f"Fake transcript of {len(audio)} bytes ({digest}){suffix}."


def _audio_seconds(audio: bytes) -> float:
    return max(round(len(audio) / (2 * SPEECH_SAMPLE_RATE), 2), 0.1)


def _timestamp(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02}:{minutes:02}:{rest // 1000:02}{separator}{rest % 1000:03}"


def transcription_body(request: TranscriptionRequest) -> tuple[bytes, str]:
    """(reply body, content type) of a transcription in the requested ``response_format``."""
    text = transcript_for(request.file, request.language)
    seconds = _audio_seconds(request.file)
    fmt = request.response_format
    if fmt == "text":
        return text.encode(), _TEXT_PLAIN
    if fmt == "srt":
        return f"1\n{_timestamp(0, ',')} --> {_timestamp(seconds, ',')}\n{text}\n\n".encode(), _TEXT_PLAIN
    if fmt == "vtt":
        cue = f"{_timestamp(0, '.')} --> {_timestamp(seconds, '.')}"
        return f"WEBVTT\n\n{cue}\n{text}\n\n".encode(), "text/vtt; charset=utf-8"
    usage = {"type": "duration", "seconds": math.ceil(seconds)}
    if fmt == "json":
        return orjson.dumps({"text": text, "usage": usage}), "application/json"
    verbose: dict[str, Any] = {
        "task": "transcribe",
        "language": request.language or "english",
        "duration": seconds,
        "text": text,
        "usage": usage,
    }
    if not request.granularities or "segment" in request.granularities:
        verbose["segments"] = [
            {
                "id": 0,
                "seek": 0,
                "start": 0.0,
                "end": seconds,
                "text": text,
                "temperature": request.temperature,
            }
        ]
    if "word" in request.granularities:
        words = text.split()
        step = seconds / len(words)
        verbose["words"] = [
            {"word": word, "start": round(i * step, 3), "end": round((i + 1) * step, 3)}
            for i, word in enumerate(words)
        ]
    return orjson.dumps(verbose), "application/json"
