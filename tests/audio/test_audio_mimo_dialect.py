"""`gomodel.dialects.mimo_audio`: OpenAI audio requests <-> MiMo's chat-completions audio dialect.

The wire shapes follow GoModel's ``internal/providers/xiaomi/audio.go``.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from gomodel.core.errors import InvalidRequestError, UpstreamError
from gomodel.dialects import mimo_audio


def _chat(message: Any) -> bytes:
    return orjson.dumps({"choices": [{"index": 0, "message": message}]})


def test_model_families() -> None:
    assert mimo_audio.is_tts_model("mimo-v2.5-tts")
    assert mimo_audio.is_tts_model("mimo-v2.5-tts-voiceclone")
    assert not mimo_audio.is_tts_model("mimo-v2.5-asr")
    assert mimo_audio.is_asr_model("mimo-v2.5-asr")
    assert not mimo_audio.is_asr_model("mimo-v2.5-pro")


def test_tts_body_puts_text_in_an_assistant_message_and_instructions_before_it() -> None:
    payload = {
        "model": "xiaomi/mimo-v2.5-tts",
        "input": "  Hello there  ",
        "voice": " default_en ",
        "instructions": "  Speak slowly ",
        "response_format": "WAV",
        "speed": 1.5,
    }

    body, content_type = mimo_audio.tts_chat_body(payload, "mimo-v2.5-tts")

    assert content_type == "audio/wav"
    assert orjson.loads(body) == {
        "model": "mimo-v2.5-tts",
        "messages": [
            {"role": "user", "content": "Speak slowly"},
            {"role": "assistant", "content": "  Hello there  "},
        ],
        "audio": {"format": "wav", "voice": "default_en"},
    }


@pytest.mark.parametrize(
    ("payload", "audio"),
    [
        ({"input": "hi"}, {"format": "wav"}),
        ({"input": "hi", "response_format": None, "voice": "   "}, {"format": "wav"}),
        ({"input": "hi", "response_format": "pcm", "voice": 7}, {"format": "pcm16"}),
        ({"input": "hi", "instructions": "   "}, {"format": "wav"}),
    ],
)
def test_tts_body_defaults(payload: dict[str, Any], audio: dict[str, str]) -> None:
    body, _ = mimo_audio.tts_chat_body(payload, "mimo-v2.5-tts")

    sent = orjson.loads(body)
    assert sent["audio"] == audio
    assert sent["messages"] == [{"role": "assistant", "content": "hi"}]


def test_pcm_maps_to_pcm16() -> None:
    assert mimo_audio.tts_chat_body({"input": "x", "response_format": "pcm"}, "m")[1] == "audio/pcm"


@pytest.mark.parametrize("response_format", ["mp3", "opus", "aac", "flac", "pcm16", 3])
def test_tts_rejects_formats_mimo_cannot_synthesise(response_format: object) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        mimo_audio.tts_chat_body({"input": "hi", "response_format": response_format}, "mimo-v2.5-tts")

    assert (raised.value.status, raised.value.param) == (400, "response_format")


@pytest.mark.parametrize("text", [None, "", "   ", 5, ["hi"]])
def test_tts_requires_input_text(text: object) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        mimo_audio.tts_chat_body({"input": text}, "mimo-v2.5-tts")

    assert raised.value.param == "input"


def test_speech_from_chat_decodes_the_audio() -> None:
    audio = b"RIFF\x00\xff\r\n"
    body = _chat({"role": "assistant", "content": "", "audio": {"data": base64.b64encode(audio).decode()}})

    assert mimo_audio.speech_from_chat(body, "xiaomi") == audio


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        orjson.dumps({"choices": []}),
        _chat({"role": "assistant", "content": "no audio"}),
        _chat({"role": "assistant", "audio": {"data": ""}}),
        _chat({"role": "assistant", "audio": {"data": "@@not base64@@"}}),
        _chat({"role": "assistant", "audio": "UklGRg=="}),
    ],
)
def test_speech_from_chat_rejects_unusable_answers(body: bytes) -> None:
    with pytest.raises(UpstreamError) as raised:
        mimo_audio.speech_from_chat(body, "xiaomi")

    assert raised.value.status == 502
    assert "xiaomi" in raised.value.message


def test_asr_body_sends_a_data_uri_and_language() -> None:
    audio = b"\x00\x01\xff"

    body = mimo_audio.asr_chat_body(audio, "clip.mp3", "audio/mpeg", "mimo-v2.5-asr", "en")

    assert orjson.loads(body) == {
        "model": "mimo-v2.5-asr",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "input_audio", "input_audio": {"data": "data:audio/mpeg;base64,AAH/"}},
                ],
            }
        ],
        "asr_options": {"language": "en"},
    }


@pytest.mark.parametrize(
    ("filename", "content_type", "media_type"),
    [
        ("a.wav", "audio/x-wav", "audio/x-wav"),
        ("a.MP3", "application/octet-stream", "audio/mpeg"),
        ("a.m4a", None, "audio/mp4"),
        ("a.mp4", None, "audio/mp4"),
        ("a.flac", None, "audio/flac"),
        ("a.ogg", None, "audio/ogg"),
        ("a.opus", None, "audio/ogg"),
        ("a.webm", "video/webm", "audio/webm"),
        ("a.bin", None, "audio/wav"),
        (None, None, "audio/wav"),
    ],
)
def test_asr_media_type_comes_from_the_upload_then_the_extension(
    filename: str | None, content_type: str | None, media_type: str
) -> None:
    body = mimo_audio.asr_chat_body(b"x", filename, content_type, "mimo-v2.5-asr", None)

    sent = orjson.loads(body)
    assert sent["messages"][0]["content"][0]["input_audio"]["data"] == f"data:{media_type};base64,eA=="
    assert "asr_options" not in sent


def test_asr_rejects_an_empty_file() -> None:
    with pytest.raises(InvalidRequestError) as raised:
        mimo_audio.asr_chat_body(b"", "a.mp3", "audio/mpeg", "mimo-v2.5-asr", None)

    assert raised.value.param == "file"


@pytest.mark.parametrize(
    ("content", "text"),
    [
        ("hello world", "hello world"),
        ([{"type": "text", "text": "hello "}, {"type": "text", "text": "world"}, "junk"], "hello world"),
        (None, ""),
    ],
)
def test_text_from_chat(content: object, text: str) -> None:
    assert mimo_audio.text_from_chat(_chat({"role": "assistant", "content": content}), "xiaomi") == text


def test_text_from_chat_rejects_an_answer_without_choices() -> None:
    with pytest.raises(UpstreamError):
        mimo_audio.text_from_chat(orjson.dumps({"error": "nope"}), "xiaomi")


def test_public_surface() -> None:
    assert sorted(mimo_audio.__all__) == [
        "asr_chat_body",
        "is_asr_model",
        "is_tts_model",
        "speech_from_chat",
        "text_from_chat",
        "tts_chat_body",
    ]
