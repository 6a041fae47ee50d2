"""OpenAI audio endpoints relayed to an OpenAI-compatible provider, and the gateway's audio errors.

The upstream is `FakeUpstream` with its strict ``/audio/speech`` and ``/audio/transcriptions``; the
client is the official ``openai`` SDK (or raw httpx where exact bytes matter).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest

from gomodel.testing import fake_upstream_wire as wire
from gomodel.testing.fake_upstream import FakeUpstream
from tests.harness import MASTER_KEY, Gateway

MODELS = ("gpt-fake", "tts-fake", "whisper-fake", "fault-429", "fault-500")
CLIP = b"RIFF\x00\x01" + bytes(range(256)) + b"\r\n--not-the-boundary\r\n\r\n"
AUTH = {"Authorization": f"Bearer {MASTER_KEY}"}
MakeGateway = Callable[..., Gateway]


@pytest.fixture
def upstream(make_fake: Callable[..., FakeUpstream]) -> FakeUpstream:
    return make_fake(models=MODELS)


@pytest.fixture
def gw(make_gateway: MakeGateway, upstream: FakeUpstream) -> Gateway:
    return make_gateway(
        {"OPENAI_API_KEY": "fake-key", "OPENAI_BASE_URL": upstream.base_url, "GOMODEL_MASTER_KEY": MASTER_KEY}
    )


def _direct(upstream: FakeUpstream) -> openai.OpenAI:
    return openai.OpenAI(api_key="fake-key", base_url=upstream.base_url, max_retries=0)


def _form(files: Any) -> tuple[bytes, str]:
    request = httpx.Request("POST", "http://form.invalid/", files=files)
    return request.read(), request.headers["Content-Type"]


def _post_form(gw: Gateway, body: bytes, content_type: str, **headers: str) -> httpx.Response:
    return httpx.post(
        gw.api_base + "/audio/transcriptions",
        content=body,
        headers={**AUTH, "Content-Type": content_type, **headers},
    )


def _error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    return dict(body["error"])


def _audio_calls(upstream: FakeUpstream) -> list[str]:
    """Paths of the audio calls the upstream received (the gateway also fetches its model list)."""
    return [r.path for r in upstream.requests if "/audio/" in r.path]


def _sent_fields(upstream: FakeUpstream) -> list[wire.FormPart]:
    sent = upstream.requests[-1]
    return wire.parse_multipart(sent.body, sent.headers["Content-Type"])


# --- speech -----------------------------------------------------------------------------


@pytest.mark.parametrize(("response_format", "content_type"), [("mp3", "audio/mpeg"), ("opus", "audio/opus")])
def test_speech_returns_upstream_bytes_and_content_type(
    gw: Gateway, upstream: FakeUpstream, response_format: Any, content_type: str
) -> None:
    kwargs: dict[str, Any] = {"model": "tts-fake", "voice": "coral", "input": "Hi there", "speed": 1.25}
    expected = _direct(upstream).audio.speech.create(**kwargs, response_format=response_format)

    relayed = gw.client().audio.speech.create(**kwargs, response_format=response_format)

    assert relayed.content == expected.content
    assert relayed.response.headers["content-type"] == content_type
    assert upstream.requests[-1].body == upstream.requests[-2].body, "the SDK's JSON is relayed unchanged"
    assert upstream.requests[-1].headers["Authorization"] == "Bearer fake-key"


def test_speech_sse_stream_format_is_relayed(gw: Gateway) -> None:
    response = gw.client().audio.speech.create(
        model="tts-fake", voice="alloy", input="hi", stream_format="sse"
    )

    assert response.response.headers["content-type"] == "text/event-stream"
    assert response.content.startswith(b'data: {"type":"speech.audio.delta"')


def test_speech_with_provider_prefix_sends_the_bare_model(gw: Gateway, upstream: FakeUpstream) -> None:
    relayed = gw.client().audio.speech.create(
        model="openai/tts-fake", voice="alloy", input="hi", instructions="calm", response_format="flac"
    )

    assert upstream.requests[-1].json == {
        "model": "tts-fake",
        "voice": "alloy",
        "input": "hi",
        "instructions": "calm",
        "response_format": "flac",
    }
    assert relayed.content.startswith(b"fLaC")
    (record,) = gw.records.wait_for(1)
    assert (record.endpoint, record.requested_model, record.model, record.provider, record.status) == (
        "/v1/audio/speech",
        "openai/tts-fake",
        "tts-fake",
        "openai",
        200,
    )


def test_upstream_speech_validation_error_reaches_the_client(gw: Gateway) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        gw.client().audio.speech.create(model="tts-fake", voice="nobody", input="hi")

    assert (raised.value.param, raised.value.code) == ("voice", "invalid_value")
    (record,) = gw.records.wait_for(1)
    assert record.status == 400


# --- transcription -----------------------------------------------------------------------


def test_transcription_multipart_is_relayed_byte_for_byte(gw: Gateway, upstream: FakeUpstream) -> None:
    body, content_type = _form(
        {
            "file": ("clip.wav", CLIP, "audio/wav"),
            "model": (None, b"whisper-fake"),
            "language": (None, b"de"),
            "prompt": (None, "Grüße".encode()),
        }
    )

    response = _post_form(gw, body, content_type)

    assert response.status_code == 200, response.text
    assert response.json()["text"] == wire.transcript_for(CLIP, "de")
    sent = upstream.requests[-1]
    assert sent.path == "/v1/audio/transcriptions"
    assert sent.body == body
    assert sent.headers["Content-Type"] == content_type
    assert sent.headers["Authorization"] == "Bearer fake-key"
    (record,) = gw.records.wait_for(1)
    assert (record.endpoint, record.model, record.status) == ("/v1/audio/transcriptions", "whisper-fake", 200)


def test_transcription_with_provider_prefix_is_rebuilt_with_the_bare_model(
    gw: Gateway, upstream: FakeUpstream
) -> None:
    result = gw.client().audio.transcriptions.create(
        model="openai/whisper-fake", file=("clip.mp3", CLIP, "audio/mpeg"), language="fr", temperature=0.5
    )

    assert result.text == wire.transcript_for(CLIP, "fr")
    fields = {part.name: part for part in _sent_fields(upstream)}
    assert fields["model"].value == b"whisper-fake"
    assert fields["file"] == wire.FormPart("file", CLIP, "clip.mp3", "audio/mpeg")
    assert (fields["language"].value, fields["temperature"].value) == (b"fr", b"0.5")
    assert upstream.requests[-1].headers["Content-Type"].startswith("multipart/form-data; boundary=gomodel-")


@pytest.mark.parametrize(
    ("response_format", "content_type"),
    [
        ("text", "text/plain; charset=utf-8"),
        ("srt", "text/plain; charset=utf-8"),
        ("vtt", "text/vtt; charset=utf-8"),
    ],
)
def test_transcription_text_formats_keep_the_upstream_content_type(
    gw: Gateway, response_format: str, content_type: str
) -> None:
    body, form_type = _form(
        {
            "file": ("a.mp3", CLIP, "audio/mpeg"),
            "model": (None, b"whisper-fake"),
            "response_format": (None, response_format),
        }
    )

    response = _post_form(gw, body, form_type)

    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert wire.transcript_for(CLIP) in response.text


def test_transcription_sdk_text_format(gw: Gateway) -> None:
    text = gw.client().audio.transcriptions.create(
        model="whisper-fake", file=("a.webm", CLIP, "audio/webm"), response_format="text"
    )

    assert text == wire.transcript_for(CLIP)


def test_unchanged_model_relays_repeated_array_fields(gw: Gateway, upstream: FakeUpstream) -> None:
    result = gw.client().audio.transcriptions.create(
        model="whisper-fake",
        file=("a.mp3", CLIP, "audio/mpeg"),
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
    )

    assert result.words is not None
    assert result.segments is not None


def test_rebuilt_form_keeps_repeated_array_fields(gw: Gateway, upstream: FakeUpstream) -> None:
    result = gw.client().audio.transcriptions.create(
        model="openai/whisper-fake",
        file=("a.mp3", CLIP, "audio/mpeg"),
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
    )

    granularities = [p.value for p in _sent_fields(upstream) if p.name == "timestamp_granularities[]"]
    assert granularities == [b"word", b"segment"]
    assert result.words is not None


# --- errors ----------------------------------------------------------------------------


def test_transcription_without_model_is_a_400(gw: Gateway, upstream: FakeUpstream) -> None:
    response = _post_form(gw, *_form({"file": ("a.mp3", CLIP, "audio/mpeg")}))

    assert response.status_code == 400
    error = _error(response)
    assert (error["type"], error["param"]) == ("invalid_request_error", "model")
    assert _audio_calls(upstream) == []


def test_transcription_with_blank_model_is_a_400(gw: Gateway) -> None:
    response = _post_form(gw, *_form({"file": ("a.mp3", CLIP, "audio/mpeg"), "model": (None, b"  ")}))

    assert (response.status_code, _error(response)["param"]) == (400, "model")


def test_transcription_without_file_is_a_400(gw: Gateway, upstream: FakeUpstream) -> None:
    response = _post_form(gw, *_form({"model": (None, b"whisper-fake")}))

    assert response.status_code == 400
    assert _error(response)["param"] == "file"
    assert _audio_calls(upstream) == []
    (record,) = gw.records.wait_for(1)
    assert (record.status, record.endpoint) == (400, "/v1/audio/transcriptions")


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"model": "whisper-fake", "file": "abc"}', "application/json"),
        (b"model=whisper-fake", "application/x-www-form-urlencoded"),
        (b"--x\r\n", "multipart/form-data"),
        (b"", ""),
    ],
)
def test_transcription_that_is_not_multipart_is_a_400(
    gw: Gateway, upstream: FakeUpstream, content: bytes, content_type: str
) -> None:
    response = _post_form(gw, content, content_type)

    assert response.status_code == 400
    assert _error(response)["code"] == "invalid_form"
    assert _audio_calls(upstream) == []


def test_sdk_json_speech_without_model_is_a_400(gw: Gateway, upstream: FakeUpstream) -> None:
    response = httpx.post(gw.api_base + "/audio/speech", json={"input": "hi", "voice": "alloy"}, headers=AUTH)
    broken = httpx.post(gw.api_base + "/audio/speech", content=b"{not json", headers=AUTH)

    assert (response.status_code, _error(response)["param"]) == (400, "model")
    assert (broken.status_code, _error(broken)["code"]) == (400, "invalid_json")
    assert _audio_calls(upstream) == []


def test_unknown_model_is_a_404_on_both_endpoints(gw: Gateway, upstream: FakeUpstream) -> None:
    client = gw.client()
    with pytest.raises(openai.NotFoundError) as speech:
        client.audio.speech.create(model="tts-nope", voice="alloy", input="hi")
    with pytest.raises(openai.NotFoundError) as transcription:
        client.audio.transcriptions.create(model="whisper-nope", file=("a.mp3", CLIP, "audio/mpeg"))

    for raised in (speech, transcription):
        assert (raised.value.code, raised.value.param) == ("model_not_found", "model")
    assert _audio_calls(upstream) == []
    records = gw.records.wait_for(2)
    assert [r.status for r in records] == [404, 404]


@pytest.mark.parametrize("key", [None, "wrong-key"])
def test_audio_needs_the_master_key(gw: Gateway, upstream: FakeUpstream, key: str | None) -> None:
    headers = {"Authorization": f"Bearer {key}"} if key else {}

    speech = httpx.post(
        gw.api_base + "/audio/speech",
        json={"model": "tts-fake", "input": "hi", "voice": "alloy"},
        headers=headers,
    )
    transcription = httpx.post(
        gw.api_base + "/audio/transcriptions",
        files={"file": ("a.mp3", CLIP, "audio/mpeg")},
        data={"model": "whisper-fake"},
        headers=headers,
    )

    for response in (speech, transcription):
        assert response.status_code == 401
        assert _error(response)["type"] == "authentication_error"
    assert _audio_calls(upstream) == []


def test_upstream_429_passes_through_with_retry_after(gw: Gateway) -> None:
    client = gw.client()
    with pytest.raises(openai.RateLimitError) as speech:
        client.audio.speech.create(model="fault-429", voice="alloy", input="hi")
    with pytest.raises(openai.RateLimitError) as transcription:
        client.audio.transcriptions.create(model="fault-429", file=("a.mp3", CLIP, "audio/mpeg"))

    for raised in (speech, transcription):
        assert raised.value.response.headers["retry-after"] == str(wire.RETRY_AFTER_SECONDS)
        assert raised.value.code == "rate_limit_exceeded"
        assert "Rate limit reached" in raised.value.message
    records = gw.records.wait_for(2)
    assert [r.status for r in records] == [429, 429]


def test_upstream_500_becomes_a_502(gw: Gateway) -> None:
    with pytest.raises(openai.InternalServerError) as raised:
        gw.client().audio.transcriptions.create(model="fault-500", file=("a.mp3", CLIP, "audio/mpeg"))

    assert raised.value.status_code == 502


def test_provider_without_audio_is_a_clear_400(
    make_gateway: MakeGateway, make_fake: Callable[..., FakeUpstream]
) -> None:
    anthropic = make_fake(models=("claude-fake",))
    gw = make_gateway(
        {
            "ANTHROPIC_API_KEY": "k",
            "ANTHROPIC_BASE_URL": anthropic.base_url,
            "ANTHROPIC_MODELS": "claude-fake",
            "CONFIGURED_PROVIDER_MODELS_MODE": "allowlist",
        }
    )

    speech = httpx.post(
        gw.api_base + "/audio/speech", json={"model": "claude-fake", "input": "hi", "voice": "x"}
    )
    transcription = httpx.post(
        gw.api_base + "/audio/transcriptions",
        files={"file": ("a.mp3", CLIP, "audio/mpeg")},
        data={"model": "claude-fake"},
    )

    for response in (speech, transcription):
        assert response.status_code == 400
        assert _error(response)["code"] == "unsupported_endpoint"
    assert _audio_calls(anthropic) == []
