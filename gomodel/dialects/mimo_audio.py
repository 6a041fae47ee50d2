"""Xiaomi MiMo speech: OpenAI's audio endpoints expressed in MiMo's chat-completions audio dialect.

MiMo has no ``/audio/speech`` or ``/audio/transcriptions``: text-to-speech is a chat completion whose
assistant message holds the text to speak (style instructions in a user message, voice and format in
a top-level ``audio`` object) and whose answer carries base64 audio in ``message.audio.data``; speech
recognition is a chat completion with an ``input_audio`` part (a data URI) and ``asr_options``.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from gomodel.core.errors import InvalidRequestError, UpstreamError
from gomodel.dialects.json_body import as_dict

__all__ = [
    "asr_chat_body",
    "is_asr_model",
    "is_tts_model",
    "speech_from_chat",
    "text_from_chat",
    "tts_chat_body",
]

_TTS_PREFIX = "mimo-v2.5-tts"
_ASR_PREFIX = "mimo-v2.5-asr"
#: OpenAI response_format -> (MiMo audio.format, content type). MiMo synthesises only these two.
_SPEECH_FORMATS = {"wav": ("wav", "audio/wav"), "pcm": ("pcm16", "audio/pcm")}
_AUDIO_TYPES = {
    ".mp3": "audio/mpeg",
    ".mpeg": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".mp4": "audio/mp4",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".webm": "audio/webm",
}


def is_tts_model(model: str) -> bool:
    return model.startswith(_TTS_PREFIX)


def is_asr_model(model: str) -> bool:
    return model.startswith(_ASR_PREFIX)


def tts_chat_body(payload: dict[str, Any], model: str) -> tuple[bytes, str]:
    """An OpenAI speech request -> (MiMo chat body, content type of the audio it will return)."""
    text = payload.get("input")
    if not isinstance(text, str) or not text.strip():
        raise InvalidRequestError("'input' must be a non-empty string", param="input")
    requested = str(payload.get("response_format") or "wav").strip().lower()
    if requested not in _SPEECH_FORMATS:
        raise InvalidRequestError(
            "Xiaomi MiMo speech supports the wav and pcm response formats", param="response_format"
        )
    audio_format, content_type = _SPEECH_FORMATS[requested]
    audio: dict[str, str] = {"format": audio_format}
    voice = payload.get("voice")
    if isinstance(voice, str) and voice.strip():
        audio["voice"] = voice.strip()
    messages: list[dict[str, str]] = []
    instructions = payload.get("instructions")
    if isinstance(instructions, str) and instructions.strip():
        messages.append({"role": "user", "content": instructions.strip()})
    messages.append({"role": "assistant", "content": text})
    return orjson.dumps({"model": model, "messages": messages, "audio": audio}), content_type


def speech_from_chat(body: bytes, provider: str) -> bytes:
    """The audio bytes of a MiMo TTS chat completion."""
    message = _first_message(body, provider)
    data = as_dict(message.get("audio")).get("data")
    if not isinstance(data, str) or not data:
        raise UpstreamError(f"provider {provider} returned a speech response without audio")
    try:
        # Line-wrapped base64 is still base64 (Go's decoder, which GoModel uses, accepts it too).
        return base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        raise UpstreamError(f"provider {provider} returned speech audio that is not base64") from None


def asr_chat_body(
    audio: bytes, filename: str | None, content_type: str | None, model: str, language: str | None
) -> bytes:
    """An uploaded audio file -> a MiMo ASR chat body."""
    if not audio:
        raise InvalidRequestError("'file' must contain audio", param="file")
    media_type = content_type if content_type and content_type.startswith("audio/") else _guess_type(filename)
    data_uri = f"data:{media_type};base64,{base64.b64encode(audio).decode()}"
    body: dict[str, Any] = {
        "model": model,
        "messages": [
            {"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": data_uri}}]}
        ],
    }
    if language:
        body["asr_options"] = {"language": language}
    return orjson.dumps(body)


def text_from_chat(body: bytes, provider: str) -> str:
    """The transcript of a MiMo ASR chat completion."""
    content = _first_message(body, provider).get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def _first_message(body: bytes, provider: str) -> dict[str, Any]:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise UpstreamError(f"provider {provider} returned a response that is not JSON") from None
    choices = as_dict(payload).get("choices")
    if not isinstance(choices, list) or not choices:
        raise UpstreamError(f"provider {provider} returned a response without choices")
    return as_dict(as_dict(choices[0]).get("message"))


def _guess_type(filename: str | None) -> str:
    name = (filename or "").lower()
    for suffix, media_type in _AUDIO_TYPES.items():
        if name.endswith(suffix):
            return media_type
    return "audio/wav"
