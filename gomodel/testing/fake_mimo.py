"""A fake Xiaomi MiMo endpoint: OpenAI-compatible chat plus MiMo's chat-completions audio dialect.

MiMo has no ``/audio`` endpoints; speech runs through ``/chat/completions`` (see
`gomodel.dialects.mimo_audio` and GoModel's ``internal/providers/xiaomi/audio.go``):

* ``mimo-v2.5-tts*``: the text to speak is an assistant message, optional style instructions a user
  message before it, and a top-level ``audio`` object carries ``format`` (``wav`` or ``pcm16``) and
  an optional ``voice``. The answer holds base64 audio in ``choices[0].message.audio.data``.
* ``mimo-v2.5-asr*``: exactly one user message with one ``input_audio`` part whose ``data`` is a
  ``data:audio/...;base64,`` URI, and optional ``asr_options.language``. The transcript is the
  answer's message content.

Anything else is a plain chat model answered like `FakeUpstream` answers it. Requests must carry
``Authorization: Bearer <api_key>``; malformed ones get OpenAI-shaped 400s, unknown models a 404.
Audio and transcripts are deterministic (`speech_audio`, `wire.transcript_for`) so tests can
compare bytes. Use ``with FakeMiMo().serve() as mimo:`` and point ``XIAOMI_BASE_URL`` at
``mimo.base_url``; ``mimo.requests`` lists what arrived.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import itertools
import re
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from aiohttp import web

from gomodel.testing import fake_upstream_wire as wire
from gomodel.testing.fake_server import (
    MAX_BODY,
    SSE_HEADERS,
    FakeServer,
    Handler,
    RecordedRequest,
    error_response,
    guard,
    json_response,
    runner_kwargs,
)

__all__ = ["ASR_PREFIX", "DEFAULT_MODELS", "TTS_FORMATS", "TTS_PREFIX", "FakeMiMo", "speech_audio"]

TTS_PREFIX = "mimo-v2.5-tts"
ASR_PREFIX = "mimo-v2.5-asr"
DEFAULT_MODELS = ("mimo-v2.5-pro", "mimo-v2.5", "mimo-v2.5-tts", "mimo-v2.5-tts-voiceclone", "mimo-v2.5-asr")
TTS_FORMATS = ("wav", "pcm16")
#: MiMo's own chat extension, accepted on plain chat models.
_CHAT_EXTRAS = frozenset({"thinking"})
_TTS_PARAMS = frozenset({"model", "messages", "audio", "stream"})
_ASR_PARAMS = frozenset({"model", "messages", "asr_options", "stream"})
_DATA_URI = re.compile(r"data:(audio/[A-Za-z0-9.+-]+);base64,([A-Za-z0-9+/]*={0,2})", re.ASCII)


def speech_audio(text: str, voice: str | None, audio_format: str, instructions: str | None = None) -> bytes:
    """The audio the fake synthesises: ``pcm16`` samples, or the same samples in a WAV container."""
    pcm = wire.pcm_samples(orjson.dumps(["mimo", voice, text, instructions]), len(text.split()))
    return wire.wav_bytes(pcm) if audio_format == "wav" else pcm


def _usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _text_of(message: Mapping[str, Any], index: int, role: str) -> str:
    if set(message) - {"role", "content"}:
        extra = sorted(set(message) - {"role", "content"})[0]
        raise wire.invalid_request(f"Unrecognized message field: {extra}", f"messages[{index}].{extra}")
    if message.get("role") != role:
        raise wire.invalid_request(
            f"Invalid 'messages[{index}].role': expected '{role}' for a speech synthesis request.",
            f"messages[{index}].role",
            "invalid_value",
        )
    content = message.get("content")
    if not isinstance(content, str) or not content.strip():
        raise wire.invalid_request(
            f"Invalid 'messages[{index}].content': expected a non-empty string.",
            f"messages[{index}].content",
            "invalid_value",
        )
    return content


def _reject_stream(payload: Mapping[str, Any]) -> None:
    if payload.get("stream") not in (None, False):
        raise wire.invalid_request("This fake does not stream audio models.", "stream", "invalid_value")


def _reject_unknown(payload: Mapping[str, Any], allowed: frozenset[str]) -> None:
    for name in payload:
        if name not in allowed:
            raise wire.invalid_request(f"Unrecognized request argument supplied: {name}", name)


def _require_model(payload: Mapping[str, Any]) -> str:
    model = payload.get("model")
    if model is None:
        raise wire.invalid_request(
            "Missing required parameter: 'model'.", "model", "missing_required_parameter"
        )
    if not isinstance(model, str):
        raise wire.invalid_request("Invalid type for 'model': expected a string.", "model", "invalid_type")
    return model


def _messages(payload: Mapping[str, Any]) -> list[Any]:
    if "messages" not in payload:
        raise wire.invalid_request(
            "Missing required parameter: 'messages'.", "messages", "missing_required_parameter"
        )
    messages = payload["messages"]
    if not isinstance(messages, list) or not messages:
        raise wire.invalid_request(
            "Invalid 'messages': expected a non-empty array.", "messages", "invalid_value"
        )
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise wire.invalid_request(
                f"Invalid 'messages[{index}]': expected an object.", f"messages[{index}]", "invalid_type"
            )
    return messages


def _tts_reply(payload: Mapping[str, Any], model: str, completion_id: str) -> bytes:
    """Validate a MiMo TTS chat body and answer it; raises the API's 400s."""
    _reject_unknown(payload, _TTS_PARAMS)
    _reject_stream(payload)
    messages = _messages(payload)
    if len(messages) > 2:
        raise wire.invalid_request(
            "Speech synthesis takes an optional user message with instructions and one assistant message"
            " with the text.",
            "messages",
            "invalid_value",
        )
    text = _text_of(messages[-1], len(messages) - 1, "assistant")
    instructions = _text_of(messages[0], 0, "user") if len(messages) == 2 else None
    if "audio" not in payload:
        raise wire.invalid_request(
            "Missing required parameter: 'audio'.", "audio", "missing_required_parameter"
        )
    audio = payload["audio"]
    if not isinstance(audio, dict):
        raise wire.invalid_request("Invalid 'audio': expected an object.", "audio", "invalid_type")
    _reject_unknown({f"audio.{k}": v for k, v in audio.items()}, frozenset({"audio.format", "audio.voice"}))
    audio_format = audio.get("format")
    if audio_format not in TTS_FORMATS:
        raise wire.invalid_request(
            f"Invalid 'audio.format': {orjson.dumps(audio_format).decode()}; supported: wav, pcm16.",
            "audio.format",
            "invalid_value",
        )
    voice = audio.get("voice")
    if voice is not None and (not isinstance(voice, str) or not voice.strip()):
        raise wire.invalid_request("Invalid 'audio.voice': expected a non-empty string.", "audio.voice")
    data = speech_audio(text, voice, audio_format, instructions)
    message = {
        "role": "assistant",
        "content": "",
        "audio": {"id": f"audio-{completion_id}", "data": base64.b64encode(data).decode(), "transcript": ""},
    }
    prompt_tokens = wire.count_prompt_tokens(messages)
    return _completion(completion_id, model, message, _usage(prompt_tokens, len(data) // 100))


def _audio_part(messages: Sequence[Any]) -> Mapping[str, Any]:
    if len(messages) != 1 or messages[0].get("role") != "user":
        raise wire.invalid_request(
            "Speech recognition takes exactly one user message.", "messages", "invalid_value"
        )
    content = messages[0].get("content")
    if not isinstance(content, list) or len(content) != 1 or not isinstance(content[0], dict):
        raise wire.invalid_request(
            "Speech recognition takes exactly one content part of type 'input_audio'.",
            "messages[0].content",
            "invalid_value",
        )
    part: dict[str, Any] = content[0]
    if part.get("type") != "input_audio" or set(part) != {"type", "input_audio"}:
        raise wire.invalid_request(
            "Invalid content part: expected {'type': 'input_audio', 'input_audio': {...}}.",
            "messages[0].content[0]",
            "invalid_value",
        )
    input_audio = part["input_audio"]
    if not isinstance(input_audio, dict) or set(input_audio) != {"data"}:
        raise wire.invalid_request(
            "Invalid 'input_audio': expected an object with only 'data'.",
            "messages[0].content[0].input_audio",
            "invalid_value",
        )
    return input_audio


def _decode_data_uri(value: object) -> tuple[str, bytes]:
    """``data:audio/x;base64,...`` -> (media type, bytes); raises the API's 400 for anything else."""
    match = _DATA_URI.fullmatch(value) if isinstance(value, str) else None
    audio = b""
    if match is not None:
        with contextlib.suppress(binascii.Error, ValueError):
            audio = base64.b64decode(match.group(2), validate=True)
    if match is None or not audio:
        raise wire.invalid_request(
            "Invalid 'input_audio.data': expected a non-empty data:audio/<type>;base64,<data> URI.",
            "messages[0].content[0].input_audio.data",
            "invalid_value",
        )
    return match.group(1), audio


def _asr_reply(payload: Mapping[str, Any], model: str, completion_id: str) -> bytes:
    """Validate a MiMo ASR chat body and answer it; raises the API's 400s."""
    _reject_unknown(payload, _ASR_PARAMS)
    _reject_stream(payload)
    _media_type, audio = _decode_data_uri(_audio_part(_messages(payload))["data"])
    language = None
    if "asr_options" in payload:
        options = payload["asr_options"]
        if not isinstance(options, dict) or set(options) - {"language"}:
            raise wire.invalid_request(
                "Invalid 'asr_options': expected an object with only 'language'.", "asr_options"
            )
        language = options.get("language")
        if language is not None and (not isinstance(language, str) or not language):
            raise wire.invalid_request(
                "Invalid 'asr_options.language': expected a non-empty string.", "asr_options.language"
            )
    text = wire.transcript_for(audio, language)
    message = {"role": "assistant", "content": text}
    return _completion(completion_id, model, message, _usage(max(len(audio) // 100, 1), len(text.split())))


def _completion(
    completion_id: str, model: str, message: Mapping[str, Any], usage: Mapping[str, int]
) -> bytes:
    return orjson.dumps(
        {
            "id": completion_id,
            "object": "chat.completion",
            "created": wire.CREATED,
            "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": usage,
        }
    )


class FakeMiMo(FakeServer):
    """A fake ``https://api.xiaomimimo.com/v1``: models list, chat, and MiMo's audio-over-chat.

    ``fault-400/401/429/500/503`` as a model name answer that error, as on `FakeUpstream`.
    """

    def __init__(
        self,
        *,
        api_key: str | None = "mimo-key",
        models: Sequence[str] = DEFAULT_MODELS,
        chunks: int = 5,
        record: bool = True,
    ) -> None:
        # MiMo's API lives under a fixed /v1, so base_url (what XIAOMI_BASE_URL takes) ends in it.
        super().__init__(path_prefix="/v1", record=record)
        self.api_key = api_key
        self.models = tuple(models)
        self._reply = wire.ChatReply.build(chunks)
        self._ids = itertools.count(1)

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_get("/v1/models", self._guarded(self._list_models))
        app.router.add_post("/v1/chat/completions", self._guarded(self._chat))
        app.router.add_route("*", "/{tail:.*}", self._guarded(self._unknown_route))
        return app

    @staticmethod
    def runner_kwargs() -> dict[str, Any]:
        """The shared runner options but ``handler_cancellation``: MiMo's fake never stalls."""
        kwargs = runner_kwargs()
        del kwargs["handler_cancellation"]
        return kwargs

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == "/v1/chat/completions"]

    def clear(self) -> None:
        self.requests.clear()

    # --- request handling ------------------------------------------------------------

    @staticmethod
    def _guarded(handler: Handler) -> Handler:
        return guard(handler, wire.UpstreamError, error_response)

    async def _admit(self, request: web.Request) -> Any:
        _, parsed = await self._capture(request)
        if self.api_key is not None:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            provided = token.strip() if scheme.lower() == "bearer" else None
            if provided != self.api_key:
                raise wire.auth_error(provided)
        return parsed

    async def _unknown_route(self, request: web.Request) -> web.StreamResponse:
        await self._admit(request)
        raise wire.invalid_url(request.method, request.path)

    async def _list_models(self, request: web.Request) -> web.StreamResponse:
        await self._admit(request)
        return json_response(wire.models_body(self.models))

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        payload = wire.require_object(await self._admit(request))
        model = _require_model(payload)
        if model in wire.FAULT_STATUS:
            raise wire.fault_error(model)
        completion_id = f"chatcmpl-mimo-{next(self._ids)}"
        if model.startswith(TTS_PREFIX):
            body = _tts_reply(payload, model, completion_id)
        elif model.startswith(ASR_PREFIX):
            body = _asr_reply(payload, model, completion_id)
        else:
            chat = wire.validate_chat({k: v for k, v in payload.items() if k not in _CHAT_EXTRAS})
            self._check_model(model)
            if chat.stream:
                return await self._stream(request, completion_id, chat)
            body = self._reply.completion(completion_id, model, chat.prompt_tokens)
        self._check_model(model)
        return json_response(body)

    def _check_model(self, model: str) -> None:
        if model not in self.models:
            raise wire.model_not_found(model)

    async def _stream(
        self, request: web.Request, completion_id: str, chat: wire.ChatRequest
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers=SSE_HEADERS)
        await response.prepare(request)
        for event in self._reply.stream_events(
            completion_id, chat.model, chat.include_usage, chat.prompt_tokens
        ):
            await response.write(event)
        await response.write_eof()
        return response
