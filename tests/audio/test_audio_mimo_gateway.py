"""Xiaomi MiMo speech through the gateway: OpenAI audio endpoints in, MiMo chat-completions audio out.

The official ``openai`` SDK talks to a real gateway configured with ``XIAOMI_API_KEY`` and
``XIAOMI_BASE_URL`` pointing at `FakeMiMo`; the fake checks the translated bodies strictly.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import openai
import orjson
import pytest

from gomodel.testing import fake_upstream_wire as wire
from gomodel.testing.fake_mimo import FakeMiMo, speech_audio
from tests.harness import MASTER_KEY, Gateway

CLIP = b"ID3\x04\x00" + bytes(range(256)) * 3 + b"\r\n--boundary-ish\r\n\x00"
MakeGateway = Callable[..., Gateway]


@pytest.fixture
def mimo() -> Iterator[FakeMiMo]:
    with FakeMiMo().serve() as fake:
        yield fake


@pytest.fixture
def gw(make_gateway: MakeGateway, mimo: FakeMiMo) -> Gateway:
    return make_gateway(
        {"XIAOMI_API_KEY": "mimo-key", "XIAOMI_BASE_URL": mimo.base_url, "GOMODEL_MASTER_KEY": MASTER_KEY}
    )


def _envelope(error: openai.APIStatusError) -> dict[str, Any]:
    body = error.response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    return dict(body["error"])


# --- speech -----------------------------------------------------------------------------


def test_speech_is_a_mimo_tts_chat_and_returns_its_audio(gw: Gateway, mimo: FakeMiMo) -> None:
    response = gw.client().audio.speech.create(
        model="mimo-v2.5-tts",
        voice="default_en",
        input="Hello from the gateway",
        response_format="wav",
        instructions="Speak warmly",
    )

    assert response.content == speech_audio("Hello from the gateway", "default_en", "wav", "Speak warmly")
    assert response.content.startswith(b"RIFF")
    assert response.response.headers["content-type"] == "audio/wav"
    (sent,) = mimo.chat_requests
    assert sent.headers["Authorization"] == "Bearer mimo-key"
    assert sent.json == {
        "model": "mimo-v2.5-tts",
        "messages": [
            {"role": "user", "content": "Speak warmly"},
            {"role": "assistant", "content": "Hello from the gateway"},
        ],
        "audio": {"format": "wav", "voice": "default_en"},
    }


def test_speech_record_carries_usage_and_endpoint(gw: Gateway) -> None:
    audio = gw.client().audio.speech.create(
        model="mimo-v2.5-tts",
        voice="default_zh",
        input="one two three",
        response_format="wav",
    )

    (record,) = gw.records.wait_for(1)
    assert (record.endpoint, record.method, record.status) == ("/v1/audio/speech", "POST", 200)
    assert (record.requested_model, record.model, record.provider) == (
        "mimo-v2.5-tts",
        "mimo-v2.5-tts",
        "xiaomi",
    )
    assert record.usage is not None
    assert record.usage.prompt_tokens == 3
    assert record.usage.completion_tokens == len(audio.content) // 100
    assert record.error_type is None


def test_speech_pcm_asks_mimo_for_pcm16(gw: Gateway, mimo: FakeMiMo) -> None:
    response = gw.client().audio.speech.create(
        model="mimo-v2.5-tts",
        voice="default_en",
        input="raw samples",
        response_format="pcm",
    )

    assert mimo.chat_requests[-1].json["audio"] == {"format": "pcm16", "voice": "default_en"}
    assert response.response.headers["content-type"] == "audio/pcm"
    assert response.content == speech_audio("raw samples", "default_en", "pcm16")


def test_speech_with_a_provider_prefix_and_without_a_format(gw: Gateway, mimo: FakeMiMo) -> None:
    response = httpx.post(
        gw.api_base + "/audio/speech",
        json={"model": "xiaomi/mimo-v2.5-tts-voiceclone", "input": "hi"},
        headers={"Authorization": f"Bearer {MASTER_KEY}"},
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav"
    assert mimo.chat_requests[-1].json == {
        "model": "mimo-v2.5-tts-voiceclone",
        "messages": [{"role": "assistant", "content": "hi"}],
        "audio": {"format": "wav"},
    }


def test_speech_in_mp3_is_a_400_before_mimo_is_called(gw: Gateway, mimo: FakeMiMo) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        gw.client().audio.speech.create(
            model="mimo-v2.5-tts", voice="alloy", input="hi", response_format="mp3"
        )

    error = _envelope(raised.value)
    assert (error["type"], error["param"]) == ("invalid_request_error", "response_format")
    assert "wav" in error["message"]
    assert mimo.chat_requests == []
    (record,) = gw.records.wait_for(1)
    assert (record.status, record.error_type) == (400, "invalid_request_error")


@pytest.mark.parametrize(
    "body", [{"model": "mimo-v2.5-tts", "voice": "x"}, {"model": "mimo-v2.5-tts", "input": "  "}]
)
def test_speech_without_text_is_a_400(gw: Gateway, mimo: FakeMiMo, body: dict[str, Any]) -> None:
    response = httpx.post(
        gw.api_base + "/audio/speech", json=body, headers={"Authorization": f"Bearer {MASTER_KEY}"}
    )

    assert response.status_code == 400
    assert response.json()["error"]["param"] == "input"
    assert mimo.chat_requests == []


def test_mimo_rejection_reaches_the_client_as_its_status(make_gateway: MakeGateway) -> None:
    # A MiMo that knows no TTS model: the fake validates, then answers 404 like the API.
    with FakeMiMo(models=("mimo-v2.5-pro",)).serve() as mimo:
        gw = make_gateway(
            {"XIAOMI_API_KEY": "mimo-key", "XIAOMI_BASE_URL": mimo.base_url, "XIAOMI_MODELS": "mimo-v2.5-tts",
             "CONFIGURED_PROVIDER_MODELS_MODE": "allowlist"}
        )  # fmt: skip
        with pytest.raises(openai.NotFoundError) as raised:
            gw.client().audio.speech.create(
                model="mimo-v2.5-tts", voice="alloy", input="hi", response_format="wav"
            )

    assert _envelope(raised.value)["code"] == "model_not_found"


def test_mimo_answer_without_audio_is_a_502(make_gateway: MakeGateway, make_fake: Callable[..., Any]) -> None:
    # An upstream that answers the TTS chat with text only (a plain OpenAI-style fake behind XIAOMI_*).
    plain = make_fake(api_key="mimo-key", models=("mimo-v2.5-tts",))
    gw = make_gateway({"XIAOMI_API_KEY": "mimo-key", "XIAOMI_BASE_URL": plain.base_url})

    with pytest.raises(openai.InternalServerError) as raised:
        gw.client().audio.speech.create(
            model="mimo-v2.5-tts", voice="alloy", input="hi", response_format="wav"
        )

    assert raised.value.status_code == 502
    assert "without audio" in _envelope(raised.value)["message"]
    (record,) = gw.records.wait_for(1)
    assert record.status == 502
    assert record.usage is not None, "the tokens MiMo billed are recorded even when its answer is unusable"


# --- transcription ---------------------------------------------------------------------


def test_transcription_is_a_mimo_asr_chat(gw: Gateway, mimo: FakeMiMo) -> None:
    result = gw.client().audio.transcriptions.create(
        model="mimo-v2.5-asr", file=("a.mp3", CLIP, "audio/mpeg"), language="en"
    )

    assert result.text == wire.transcript_for(CLIP, "en")
    (sent,) = mimo.chat_requests
    assert sent.json == {
        "model": "mimo-v2.5-asr",
        "messages": [
            {
                "role": "user",
                "content": [
                    {
                        "type": "input_audio",
                        "input_audio": {"data": "data:audio/mpeg;base64," + base64.b64encode(CLIP).decode()},
                    }
                ],
            }
        ],
        "asr_options": {"language": "en"},
    }


def test_transcription_record_carries_usage_and_endpoint(gw: Gateway) -> None:
    result = gw.client().audio.transcriptions.create(model="mimo-v2.5-asr", file=("a.wav", CLIP, "audio/wav"))

    (record,) = gw.records.wait_for(1)
    assert (record.endpoint, record.status, record.provider) == ("/v1/audio/transcriptions", 200, "xiaomi")
    assert (record.requested_model, record.model) == ("mimo-v2.5-asr", "mimo-v2.5-asr")
    assert record.usage is not None
    assert record.usage.prompt_tokens == len(CLIP) // 100
    assert record.usage.completion_tokens == len(result.text.split())


def test_transcription_text_format_is_plain_text(gw: Gateway) -> None:
    text = gw.client().audio.transcriptions.create(
        model="mimo-v2.5-asr", file=("a.flac", CLIP, "audio/flac"), response_format="text"
    )

    assert text == wire.transcript_for(CLIP)
    response = httpx.post(
        gw.api_base + "/audio/transcriptions",
        files={"file": ("a.flac", CLIP, "audio/flac")},
        data={"model": "mimo-v2.5-asr", "response_format": "text"},
        headers={"Authorization": f"Bearer {MASTER_KEY}"},
    )
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == wire.transcript_for(CLIP)


def test_transcription_verbose_json_is_answered_with_the_text(gw: Gateway) -> None:
    response = httpx.post(
        gw.api_base + "/audio/transcriptions",
        files={"file": ("a.ogg", CLIP, "audio/ogg")},
        data={"model": "mimo-v2.5-asr", "response_format": "verbose_json", "language": " "},
        headers={"Authorization": f"Bearer {MASTER_KEY}"},
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert orjson.loads(response.content) == {"text": wire.transcript_for(CLIP)}


def test_transcription_media_type_falls_back_to_the_extension(gw: Gateway, mimo: FakeMiMo) -> None:
    gw.client().audio.transcriptions.create(
        model="xiaomi/mimo-v2.5-asr", file=("clip.m4a", CLIP, "application/octet-stream")
    )

    sent = mimo.chat_requests[-1].json
    assert sent["model"] == "mimo-v2.5-asr"
    assert sent["messages"][0]["content"][0]["input_audio"]["data"].startswith("data:audio/mp4;base64,")
    assert "asr_options" not in sent


@pytest.mark.parametrize("response_format", ["srt", "vtt"])
def test_transcription_subtitle_formats_are_a_400(gw: Gateway, mimo: FakeMiMo, response_format: Any) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        gw.client().audio.transcriptions.create(
            model="mimo-v2.5-asr", file=("a.mp3", CLIP, "audio/mpeg"), response_format=response_format
        )

    assert _envelope(raised.value)["param"] == "response_format"
    assert mimo.chat_requests == []


def test_transcription_of_an_empty_file_is_a_400(gw: Gateway, mimo: FakeMiMo) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        gw.client().audio.transcriptions.create(model="mimo-v2.5-asr", file=("a.mp3", b"", "audio/mpeg"))

    assert _envelope(raised.value)["param"] == "file"
    assert mimo.chat_requests == []
    (record,) = gw.records.wait_for(1)
    assert (record.status, record.requested_model) == (400, "mimo-v2.5-asr")


def test_audio_needs_the_gateway_key_not_mimos(gw: Gateway, mimo: FakeMiMo) -> None:
    with pytest.raises(openai.AuthenticationError):
        gw.client(api_key="mimo-key").audio.transcriptions.create(
            model="mimo-v2.5-asr", file=("a.mp3", CLIP, "audio/mpeg")
        )
    assert mimo.chat_requests == []


def test_speech_on_a_mimo_chat_model_is_an_openai_shaped_error(gw: Gateway) -> None:
    # Only mimo-v2.5-tts* is translated; MiMo has no /audio/speech for the rest to be relayed to.
    with pytest.raises(openai.APIStatusError) as raised:
        gw.client().audio.speech.create(model="mimo-v2.5-pro", voice="alloy", input="hi")

    assert raised.value.status_code in (400, 404)
    _envelope(raised.value)


# --- the [1m] context marker -------------------------------------------------------------


@pytest.fixture
def marked(make_gateway: MakeGateway, mimo: FakeMiMo) -> Gateway:
    return make_gateway(
        {
            "XIAOMI_API_KEY": "mimo-key",
            "XIAOMI_BASE_URL": mimo.base_url,
            "XIAOMI_MODELS": "mimo-v2.5-pro[1m]",
            "CONFIGURED_PROVIDER_MODELS_MODE": "allowlist",
        }
    )


def test_marked_model_is_listed_with_its_marker(marked: Gateway) -> None:
    assert [m.id for m in marked.client().models.list()] == ["mimo-v2.5-pro[1m]"]


def test_marked_model_reaches_mimo_by_its_plain_id(marked: Gateway, mimo: FakeMiMo) -> None:
    messages: Any = [{"role": "user", "content": "hello"}]

    completion = marked.client().chat.completions.create(model="mimo-v2.5-pro[1m]", messages=messages)

    assert completion.choices[0].message.content == "tok0 tok1 tok2 tok3 tok4 "
    assert mimo.chat_requests[-1].json == {"model": "mimo-v2.5-pro", "messages": messages}
    (record,) = marked.records.wait_for(1)
    assert (record.requested_model, record.model, record.status) == (
        "mimo-v2.5-pro[1m]",
        "mimo-v2.5-pro",
        200,
    )


def test_marked_model_streams_and_takes_a_provider_prefix(marked: Gateway, mimo: FakeMiMo) -> None:
    messages: Any = [{"role": "user", "content": "hello"}]

    chunks = list(
        marked.client().chat.completions.create(
            model="xiaomi/mimo-v2.5-pro[1m]", messages=messages, stream=True
        )
    )

    assert (
        "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "tok0 tok1 tok2 tok3 tok4 "
    )
    sent = mimo.chat_requests[-1].json
    assert sent["model"] == "mimo-v2.5-pro"
    assert sent["stream"] is True
