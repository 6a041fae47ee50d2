"""The audio fakes themselves: `FakeUpstream`'s OpenAI audio endpoints and the `FakeMiMo` server.

Gateway tests trust these as "the real API", so their strictness is pinned here with the official
``openai`` SDK and raw httpx, independently of the gateway.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import orjson
import pytest

from gomodel.testing import fake_mimo
from gomodel.testing import fake_upstream_wire as wire
from gomodel.testing.fake_mimo import FakeMiMo, speech_audio
from gomodel.testing.fake_upstream import FakeUpstream

AUDIO_MODELS = ("gpt-fake", "tts-fake", "whisper-fake")
CLIP = b"ID3\x03\x00" + bytes(range(256)) + b"\r\n--not-a-boundary\r\n"


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream(models=AUDIO_MODELS).serve() as fake:
        yield fake


@pytest.fixture
def client(upstream: FakeUpstream) -> openai.OpenAI:
    return openai.OpenAI(api_key="fake-key", base_url=upstream.base_url, max_retries=0)


@pytest.fixture
def mimo() -> Iterator[FakeMiMo]:
    with FakeMiMo().serve() as fake:
        yield fake


def _mimo_post(mimo: FakeMiMo, body: Any, key: str = "mimo-key") -> httpx.Response:
    return httpx.post(
        mimo.base_url + "/chat/completions",
        content=orjson.dumps(body),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )


def _form(files: Any, data: dict[str, Any] | None = None) -> tuple[bytes, str]:
    request = httpx.Request("POST", "http://form.invalid/", files=files, data=data)
    return request.read(), request.headers["Content-Type"]


# --- FakeUpstream: /audio/speech -------------------------------------------------------


@pytest.mark.parametrize(
    ("response_format", "content_type"),
    [("mp3", "audio/mpeg"), ("opus", "audio/opus"), ("aac", "audio/aac"), ("flac", "audio/flac"),
     ("wav", "audio/wav"), ("pcm", "audio/pcm")],
)  # fmt: skip
def test_speech_answers_deterministic_audio_of_each_format(
    client: openai.OpenAI, response_format: Any, content_type: str
) -> None:
    first = client.audio.speech.create(
        model="tts-fake", voice="alloy", input="hello there", response_format=response_format
    )
    second = client.audio.speech.create(
        model="tts-fake", voice="alloy", input="hello there", response_format=response_format
    )

    assert first.response.headers["content-type"] == content_type
    assert first.content == second.content
    request = wire.SpeechRequest("tts-fake", "hello there", "alloy", None, response_format, 1.0, "audio")
    assert first.content == wire.speech_audio(request)


def test_speech_defaults_to_mp3_and_wav_has_a_riff_header(client: openai.OpenAI) -> None:
    mp3 = client.audio.speech.create(model="tts-fake", voice="nova", input="hi")
    wav = client.audio.speech.create(model="tts-fake", voice="nova", input="hi", response_format="wav")

    assert mp3.response.headers["content-type"] == "audio/mpeg"
    assert mp3.content.startswith(b"ID3")
    assert wav.content[:4] == b"RIFF"
    assert wav.content[8:16] == b"WAVEfmt "


def test_speech_audio_depends_on_voice_input_and_instructions(client: openai.OpenAI) -> None:
    def speak(**kwargs: Any) -> bytes:
        return client.audio.speech.create(
            model="tts-fake", **{"voice": "alloy", "input": "hi", **kwargs}
        ).content

    assert len({speak(), speak(voice="echo"), speak(input="bye"), speak(instructions="whisper")}) == 4


def test_speech_sse_stream_format(client: openai.OpenAI) -> None:
    response = client.audio.speech.create(model="tts-fake", voice="alloy", input="a b", stream_format="sse")

    assert response.response.headers["content-type"] == "text/event-stream"
    events = [orjson.loads(line[6:]) for line in response.content.split(b"\n\n") if line]
    assert [e["type"] for e in events] == ["speech.audio.delta", "speech.audio.done"]
    request = wire.SpeechRequest("tts-fake", "a b", "alloy", None, "mp3", 1.0, "sse")
    assert base64.b64decode(events[0]["audio"]) == wire.speech_audio(request)
    assert events[1]["usage"]["input_tokens"] == 2


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"input": "hi", "voice": "alloy"}, "model", "missing_required_parameter"),
        ({"model": "tts-fake", "voice": "alloy"}, "input", "missing_required_parameter"),
        ({"model": "tts-fake", "input": "hi"}, "voice", "missing_required_parameter"),
        ({"model": "tts-fake", "input": "", "voice": "alloy"}, "input", "empty_string"),
        ({"model": "tts-fake", "input": "x" * 4097, "voice": "alloy"}, "input", "string_above_max_length"),
        ({"model": "tts-fake", "input": "hi", "voice": "nobody"}, "voice", "invalid_value"),
        ({"model": "tts-fake", "input": "hi", "voice": 3}, "voice", "invalid_type"),
        ({"model": "tts-fake", "input": "hi", "voice": "alloy", "response_format": "ogg"}, "response_format",
         "invalid_value"),
        ({"model": "tts-fake", "input": "hi", "voice": "alloy", "speed": 9}, "speed", "invalid_value"),
        ({"model": "tts-fake", "input": "hi", "voice": "alloy", "speed": "1"}, "speed", "invalid_type"),
        ({"model": "tts-fake", "input": "hi", "voice": "alloy", "stream_format": "x"}, "stream_format",
         "invalid_value"),
        ({"model": "tts-fake", "input": "hi", "voice": "alloy", "instructions": 1}, "instructions",
         "invalid_type"),
        ({"model": "tts-fake", "input": "hi", "voice": "alloy", "temperature": 1}, "temperature", None),
    ],
)  # fmt: skip
def test_speech_rejects_what_openai_rejects(
    upstream: FakeUpstream, body: dict[str, Any], param: str, code: str | None
) -> None:
    response = httpx.post(
        upstream.base_url + "/audio/speech",
        json=body,
        headers={"Authorization": "Bearer fake-key"},
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", param, code)


def test_speech_accepts_a_custom_voice_object(upstream: FakeUpstream) -> None:
    response = httpx.post(
        upstream.base_url + "/audio/speech",
        json={"model": "tts-fake", "input": "hi", "voice": {"id": "voice_123"}, "response_format": "pcm"},
        headers={"Authorization": "Bearer fake-key"},
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/pcm"


def test_speech_unknown_model_is_404_and_auth_is_enforced(
    client: openai.OpenAI, upstream: FakeUpstream
) -> None:
    with pytest.raises(openai.NotFoundError) as missing:
        client.audio.speech.create(model="tts-nope", voice="alloy", input="hi")
    assert missing.value.code == "model_not_found"

    stranger = openai.OpenAI(api_key="wrong-key", base_url=upstream.base_url, max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        stranger.audio.speech.create(model="tts-fake", voice="alloy", input="hi")


def test_speech_fault_models_answer_their_error(upstream: FakeUpstream, client: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as limited:
        client.audio.speech.create(model="fault-429", voice="alloy", input="hi")

    assert limited.value.response.headers["retry-after"] == str(wire.RETRY_AFTER_SECONDS)


# --- FakeUpstream: /audio/transcriptions ---------------------------------------------------


def test_transcription_json_names_the_received_bytes(client: openai.OpenAI, upstream: FakeUpstream) -> None:
    result = client.audio.transcriptions.create(
        model="whisper-fake",
        file=("clip.mp3", CLIP, "audio/mpeg"),
        language="en",
        prompt="names",
        temperature=0.2,
    )

    assert result.text == wire.transcript_for(CLIP, "en")
    sent = upstream.requests[-1]
    parts = wire.parse_multipart(sent.body, sent.headers["Content-Type"])
    assert {p.name: p.value for p in parts}["file"] == CLIP
    assert sent.json is None


@pytest.mark.parametrize(
    ("response_format", "content_type", "starts"),
    [
        ("text", "text/plain; charset=utf-8", b"Fake transcript"),
        ("srt", "text/plain; charset=utf-8", b"1\n00:00:00,000 --> "),
        ("vtt", "text/vtt; charset=utf-8", b"WEBVTT\n\n00:00:00.000 --> "),
    ],
)  # fmt: skip
def test_transcription_text_formats(
    upstream: FakeUpstream, response_format: str, content_type: str, starts: bytes
) -> None:
    body, form_type = _form(
        {"file": ("a.wav", CLIP, "audio/wav")}, {"model": "whisper-fake", "response_format": response_format}
    )
    response = httpx.post(
        upstream.base_url + "/audio/transcriptions",
        content=body,
        headers={"Authorization": "Bearer fake-key", "Content-Type": form_type},
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.content.startswith(starts)
    assert wire.transcript_for(CLIP).encode() in response.content


def test_transcription_verbose_json_with_word_timestamps(client: openai.OpenAI) -> None:
    result = client.audio.transcriptions.create(
        model="whisper-fake",
        file=("a.flac", CLIP, "audio/flac"),
        response_format="verbose_json",
        timestamp_granularities=["word"],
    )

    assert result.text == wire.transcript_for(CLIP)
    assert result.words is not None
    assert [w.word for w in result.words] == result.text.split()
    assert result.segments is None


MP3 = ("a.mp3", CLIP, "audio/mpeg")


@pytest.mark.parametrize(
    ("fields", "param", "code"),
    [
        ({"file": MP3}, "model", "missing_required_parameter"),
        ({"model": "whisper-fake"}, "file", "missing_required_parameter"),
        ({"model": "whisper-fake", "file": "not a file"}, "file", "invalid_type"),
        ({"model": "whisper-fake", "file": ("a.txt", CLIP, "text/plain")}, "file", "invalid_value"),
        ({"model": "whisper-fake", "file": ("a.mp3", b"", "audio/mpeg")}, "file", "audio_too_short"),
        ({"model": "whisper-fake", "file": MP3, "response_format": "xml"}, "response_format",
         "invalid_value"),
        ({"model": "whisper-fake", "file": MP3, "language": "english"}, "language",
         "invalid_language_format"),
        ({"model": "whisper-fake", "file": MP3, "temperature": "2"}, "temperature", "invalid_value"),
        ({"model": "whisper-fake", "file": MP3, "temperature": "hot"}, "temperature", "invalid_type"),
        ({"model": "whisper-fake", "file": MP3, "voice": "x"}, "voice", None),
        ({"model": "whisper-fake", "file": MP3, "timestamp_granularities[]": "word"},
         "timestamp_granularities", None),
        ({"model": "whisper-fake", "file": MP3, "include[]": "everything"}, "include[]", "invalid_value"),
    ],
)  # fmt: skip
def test_transcription_rejects_what_openai_rejects(
    upstream: FakeUpstream, fields: dict[str, Any], param: str, code: str | None
) -> None:
    files = {k: (None, v.encode()) if isinstance(v, str) else v for k, v in fields.items()}
    body, form_type = _form(files)
    response = httpx.post(
        upstream.base_url + "/audio/transcriptions",
        content=body,
        headers={"Authorization": "Bearer fake-key", "Content-Type": form_type},
    )

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["param"], error["code"]) == (param, code)


def test_transcription_rejects_repeated_scalar_fields(upstream: FakeUpstream) -> None:
    body, form_type = _form(
        [("model", (None, b"whisper-fake")), ("model", (None, b"whisper-fake")), ("file", MP3)]
    )
    response = httpx.post(
        upstream.base_url + "/audio/transcriptions",
        content=body,
        headers={"Authorization": "Bearer fake-key", "Content-Type": form_type},
    )

    assert response.status_code == 400
    assert response.json()["error"]["param"] == "model"


def test_transcription_requires_multipart(upstream: FakeUpstream) -> None:
    response = httpx.post(
        upstream.base_url + "/audio/transcriptions",
        json={"model": "whisper-fake", "file": "abc"},
        headers={"Authorization": "Bearer fake-key"},
    )

    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("Invalid Content-Type header (application/json)")


@pytest.mark.parametrize(
    "body",
    [
        # no closing delimiter
        b'--B\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-fake\r\n',
        b"--B\r\nContent-Type: text/plain\r\n\r\nwhisper-fake\r\n--B--\r\n",  # no Content-Disposition
        b'--B\r\nContent-Disposition: form-data; name="model"whisper-fake\r\n--B--\r\n',  # no blank line
    ],
)
def test_transcription_rejects_malformed_multipart(upstream: FakeUpstream, body: bytes) -> None:
    response = httpx.post(
        upstream.base_url + "/audio/transcriptions",
        content=body,
        headers={"Authorization": "Bearer fake-key", "Content-Type": "multipart/form-data; boundary=B"},
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_multipart_form"


def test_transcription_unknown_model_auth_and_faults(client: openai.OpenAI, upstream: FakeUpstream) -> None:
    with pytest.raises(openai.NotFoundError):
        client.audio.transcriptions.create(model="whisper-nope", file=("a.mp3", CLIP, "audio/mpeg"))
    with pytest.raises(openai.RateLimitError):
        client.audio.transcriptions.create(model="fault-429", file=("a.mp3", CLIP, "audio/mpeg"))
    stranger = openai.OpenAI(api_key="wrong-key", base_url=upstream.base_url, max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        stranger.audio.transcriptions.create(model="whisper-fake", file=("a.mp3", CLIP, "audio/mpeg"))


def test_multipart_reader_keeps_boundary_like_bytes_and_quoted_names() -> None:
    content = b"\r\n--B\x00\r\n--BX\r\n--B-\r\n\r\n"
    body = (
        b"preamble\r\n--B\r\n"
        b'Content-Disposition: form-data; name="a \\"q\\" \\\\ b"; filename="x.mp3"\r\n'
        b"Content-Type: audio/mpeg\r\n\r\n" + content + b"\r\n--B \t\r\n"
        b'Content-Disposition: form-data; name="model"\r\n\r\nm\r\n--B--\r\nepilogue'
    )

    parts = wire.parse_multipart(body, 'multipart/form-data; boundary="B"')

    assert parts == [
        wire.FormPart('a "q" \\ b', content, "x.mp3", "audio/mpeg"),
        wire.FormPart("model", b"m"),
    ]


# --- FakeMiMo --------------------------------------------------------------------------


def test_mimo_public_surface() -> None:
    assert set(fake_mimo.__all__) == {
        "ASR_PREFIX", "DEFAULT_MODELS", "TTS_FORMATS", "TTS_PREFIX", "FakeMiMo", "speech_audio",
    }  # fmt: skip


def test_mimo_lists_models_and_requires_its_key(mimo: FakeMiMo) -> None:
    client = openai.OpenAI(api_key="mimo-key", base_url=mimo.base_url, max_retries=0)
    assert "mimo-v2.5-tts" in [m.id for m in client.models.list()]

    stranger = openai.OpenAI(api_key="other", base_url=mimo.base_url, max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        stranger.models.list()
    headers = {k.lower(): v for k, v in mimo.requests[-1].headers.items()}
    assert headers["authorization"] == "Bearer other"


def test_mimo_tts_answers_base64_audio_with_usage(mimo: FakeMiMo) -> None:
    body = {
        "model": "mimo-v2.5-tts",
        "messages": [{"role": "user", "content": "cheerful"}, {"role": "assistant", "content": "Hi there"}],
        "audio": {"format": "pcm16", "voice": "default_en"},
    }

    reply = _mimo_post(mimo, body).json()

    message = reply["choices"][0]["message"]
    audio = base64.b64decode(message["audio"]["data"])
    assert audio == speech_audio("Hi there", "default_en", "pcm16", "cheerful")
    assert reply["usage"]["prompt_tokens"] == 3
    assert reply["usage"]["completion_tokens"] == len(audio) // 100
    assert speech_audio("Hi there", None, "wav").startswith(b"RIFF")


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"audio": None}, "audio"),
        ({"audio": {"format": "mp3"}}, "audio.format"),
        ({"audio": {"format": "wav", "speed": 2}}, "audio.speed"),
        ({"audio": {"format": "wav", "voice": ""}}, "audio.voice"),
        ({"messages": [{"role": "user", "content": "Hi"}]}, "messages[0].role"),
        ({"messages": [{"role": "assistant", "content": ""}]}, "messages[0].content"),
        ({"messages": [{"role": "system", "content": "x"}, {"role": "assistant", "content": "Hi"}]},
         "messages[0].role"),
        ({"messages": [{"role": "assistant", "content": "a"}] * 3}, "messages"),
        ({"messages": []}, "messages"),
        ({"stream": True}, "stream"),
        ({"modalities": ["audio"]}, "modalities"),
    ],
)  # fmt: skip
def test_mimo_tts_rejects_malformed_requests(mimo: FakeMiMo, change: dict[str, Any], param: str) -> None:
    body: dict[str, Any] = {
        "model": "mimo-v2.5-tts",
        "messages": [{"role": "assistant", "content": "Hi"}],
        "audio": {"format": "wav"},
    }
    body.update(change)
    if body["audio"] is None:
        del body["audio"]

    response = _mimo_post(mimo, body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["type"], error["param"]) == ("invalid_request_error", param)


def _asr_body(data: Any, **extra: Any) -> dict[str, Any]:
    part = {"type": "input_audio", "input_audio": {"data": data}}
    return {"model": "mimo-v2.5-asr", "messages": [{"role": "user", "content": [part]}], **extra}


def test_mimo_asr_answers_the_transcript(mimo: FakeMiMo) -> None:
    uri = "data:audio/mpeg;base64," + base64.b64encode(CLIP).decode()

    reply = _mimo_post(mimo, _asr_body(uri, asr_options={"language": "zh"})).json()

    assert reply["choices"][0]["message"]["content"] == wire.transcript_for(CLIP, "zh")
    assert reply["usage"]["total_tokens"] > 0


@pytest.mark.parametrize(
    "body",
    [
        _asr_body("https://example.com/a.mp3"),
        _asr_body("data:audio/mpeg;base64,"),
        _asr_body("data:audio/mpeg;base64,@@@"),
        _asr_body("data:text/plain;base64,aGk="),
        _asr_body("data:audio/wav;base64,aGk=", asr_options={"lang": "en"}),
        _asr_body("data:audio/wav;base64,aGk=", asr_options={"language": ""}),
        _asr_body({"nested": True}),
        {"model": "mimo-v2.5-asr", "messages": [{"role": "user", "content": "transcribe"}]},
        {"model": "mimo-v2.5-asr", "messages": _asr_body("data:audio/wav;base64,aGk=")["messages"] * 2},
        {
            "model": "mimo-v2.5-asr",
            "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
        },
    ],
)
def test_mimo_asr_rejects_malformed_requests(mimo: FakeMiMo, body: dict[str, Any]) -> None:
    response = _mimo_post(mimo, body)

    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_mimo_plain_chat_models_behave_like_openai(mimo: FakeMiMo) -> None:
    client = openai.OpenAI(api_key="mimo-key", base_url=mimo.base_url, max_retries=0)
    messages: Any = [{"role": "user", "content": "hello"}]

    completion = client.chat.completions.create(
        model="mimo-v2.5-pro", messages=messages, extra_body={"thinking": {}}
    )
    chunks = list(client.chat.completions.create(model="mimo-v2.5-pro", messages=messages, stream=True))

    assert completion.choices[0].message.content == "tok0 tok1 tok2 tok3 tok4 "
    assert (
        "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "tok0 tok1 tok2 tok3 tok4 "
    )
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="mimo-v2.5-pro[1m]", messages=messages)
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="mimo-v2.5-pro", messages=messages, extra_body={"audio_x": 1})
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="fault-429", messages=messages)
    assert [r.json["model"] for r in mimo.chat_requests][:2] == ["mimo-v2.5-pro", "mimo-v2.5-pro"]


def test_mimo_unknown_audio_model_and_route(mimo: FakeMiMo) -> None:
    missing = _mimo_post(mimo, {**_asr_body("data:audio/wav;base64,aGk="), "model": "mimo-v2.5-asr-x"})
    route = httpx.post(mimo.base_url + "/audio/speech", headers={"Authorization": "Bearer mimo-key"})

    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "model_not_found")
    assert (route.status_code, route.json()["error"]["message"]) == (
        404,
        "Invalid URL (POST /v1/audio/speech)",
    )
