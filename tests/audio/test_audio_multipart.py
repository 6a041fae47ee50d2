"""`gomodel.dialects.multipart`: reading client forms and rebuilding them for relay."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gomodel.core.errors import InvalidRequestError
from gomodel.dialects.multipart import FormField, encode_form, fields_by_name, parse_form
from gomodel.testing import fake_upstream_wire as wire

#: Binary audio with every line ending, NULs, high bytes and delimiter look-alikes.
TRICKY = (
    b"\x00\xff\xfe\r\n--\r\n--gomodel-\r\n--gomodel-0123\r\n--BOUNDARYx\r\n--BOUNDARY-\r\n"
    b"\r\n\r\n\n\r\r\n--\r\n" + bytes(range(256)) + b"\r\n"
)


def _httpx_form(files: Any, data: dict[str, str] | None = None) -> tuple[bytes, str]:
    request = httpx.Request("POST", "http://form.invalid/", files=files, data=data)
    return request.read(), request.headers["Content-Type"]


def test_parse_form_reads_an_sdk_upload() -> None:
    body, content_type = _httpx_form(
        {"file": ("clip.mp3", TRICKY, "audio/mpeg")}, {"model": "whisper-1", "prompt": "café ☕"}
    )

    fields = fields_by_name(parse_form(body, content_type))

    assert fields["model"] == FormField(name="model", value=b"whisper-1")
    assert fields["prompt"].text == "café ☕"
    assert fields["file"] == FormField(
        name="file", value=TRICKY, filename="clip.mp3", content_type="audio/mpeg"
    )


def test_parse_form_ignores_boundary_lookalikes_in_content() -> None:
    content = b"\r\n--BOUNDARYx\r\n--BOUNDARY-x\r\nend--BOUNDARY\r\n"
    body = (
        b'--BOUNDARY\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n'
        b"Content-Type: audio/wav\r\n\r\n" + content + b"\r\n--BOUNDARY--\r\n"
    )

    assert fields_by_name(parse_form(body, "multipart/form-data; boundary=BOUNDARY"))["file"].value == content


def test_parse_form_accepts_a_quoted_boundary_and_keeps_the_last_duplicate() -> None:
    body = (
        b'--a:b\r\nContent-Disposition: form-data; name="model"\r\n\r\nfirst\r\n'
        b'--a:b\r\nContent-Disposition: form-data; name="model"\r\n\r\nsecond\r\n--a:b--\r\n'
    )

    assert fields_by_name(parse_form(body, 'multipart/form-data; boundary="a:b"'))["model"].text == "second"


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "multipart/form-data", "text/plain; boundary=x", ""],
)
def test_parse_form_rejects_bodies_that_are_not_multipart(content_type: str) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        parse_form(b'{"model": "whisper-1"}', content_type)

    assert (raised.value.status, raised.value.code) == (400, "invalid_form")


@pytest.mark.parametrize(
    "name",
    ["clip.mp3", 'say "hi".mp3', "back\\slash.wav", "naïve 日本.flac", "semi;colon=x.ogg", "a'b.webm"],
)
def test_encode_form_round_trips_names_and_binary_content(name: str) -> None:
    fields = {
        "model": FormField(name="model", value=b"whisper-1"),
        name: FormField(name=name, value=b"text value"),
        "file": FormField(name="file", value=TRICKY, filename=name, content_type="audio/mpeg"),
    }

    body, content_type = encode_form(list(fields.values()))

    assert content_type.startswith("multipart/form-data; boundary=gomodel-")
    assert parse_form(body, content_type) == list(fields.values())


def test_encode_form_drops_line_breaks_from_names() -> None:
    body, content_type = encode_form([FormField(name="a\r\nb", value=b"v", filename="x\ny.mp3")])

    (field,) = parse_form(body, content_type)
    assert (field.name, field.filename, field.value) == ("ab", "xy.mp3", b"v")


def test_encode_form_is_read_by_an_independent_strict_reader() -> None:
    fields = {
        "model": FormField(name="model", value=b"whisper-1"),
        "file": FormField(name="file", value=TRICKY, filename='q"uote.mp3', content_type="audio/mpeg"),
    }

    body, content_type = encode_form(list(fields.values()))

    assert wire.parse_multipart(body, content_type) == [
        wire.FormPart("model", b"whisper-1"),
        wire.FormPart("file", TRICKY, 'q"uote.mp3', "audio/mpeg"),
    ]


def test_encode_form_uses_a_fresh_boundary_each_time() -> None:
    fields = [FormField(name="model", value=b"m")]

    assert encode_form(fields)[1] != encode_form(fields)[1]


def test_a_parsed_sdk_form_survives_re_encoding_byte_for_byte_in_content() -> None:
    body, content_type = _httpx_form(
        {"file": ("clip.mp3", TRICKY, "audio/mpeg")}, {"model": "whisper-1", "language": "en"}
    )

    rebuilt, rebuilt_type = encode_form(parse_form(body, content_type))

    assert wire.parse_multipart(rebuilt, rebuilt_type) == wire.parse_multipart(body, content_type)


def test_re_encoding_keeps_repeated_array_fields() -> None:
    files = [
        ("model", (None, b"whisper-1")),
        ("timestamp_granularities[]", (None, b"word")),
        ("timestamp_granularities[]", (None, b"segment")),
        ("file", ("clip.mp3", b"abc", "audio/mpeg")),
    ]
    body, content_type = _httpx_form(files)

    rebuilt, rebuilt_type = encode_form(parse_form(body, content_type))

    assert wire.parse_multipart(rebuilt, rebuilt_type) == wire.parse_multipart(body, content_type)
