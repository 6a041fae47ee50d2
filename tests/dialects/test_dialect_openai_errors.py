"""`gomodel.dialects.openai_errors`: provider error bodies in, OpenAI error envelopes out."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from multidict import CIMultiDict

from gomodel.core.errors import (
    GatewayError,
    InvalidRequestError,
    UpstreamError,
    UpstreamRateLimitError,
    UpstreamStatusError,
)
from gomodel.dialects.openai_errors import error_envelope, error_from_upstream, stream_error_event
from gomodel.dialects.sse import SSEFramer, event_data

FIXTURES = Path(__file__).parent / "fixtures"
NO_HEADERS: CIMultiDict[str] = CIMultiDict()


def recorded(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def upstream(status: int, body: bytes, headers: CIMultiDict[str] = NO_HEADERS) -> GatewayError:
    return error_from_upstream("acme", status, body, headers)


# --- 4xx: the provider's verdict reaches the client -----------------------------------------------


def test_openai_400_keeps_status_message_type_code_and_param() -> None:
    error = upstream(400, recorded("error_400_invalid_type.json"))

    assert isinstance(error, UpstreamStatusError)
    assert (error.status, error.error_type, error.code, error.param) == (
        400,
        "invalid_request_error",
        "invalid_type",
        "temperature",
    )
    assert error.message == "Invalid type for 'temperature': expected a decimal, but got a string instead."


def test_openai_400_with_a_null_code_keeps_it_null() -> None:
    error = upstream(400, recorded("error_400_code_null.json"))

    assert (error.param, error.code) == ("messages", None)


@pytest.mark.parametrize(
    ("status", "fixture", "code"),
    [
        (401, "error_401_invalid_api_key.json", "invalid_api_key"),
        (404, "error_404_model_not_found.json", "model_not_found"),
    ],
)
def test_other_4xx_keep_their_status_and_code(status: int, fixture: str, code: str) -> None:
    error = upstream(status, recorded(fixture))

    assert isinstance(error, UpstreamStatusError)
    assert (error.status, error.code) == (status, code)


def test_4xx_without_a_body_gets_a_message_naming_the_provider() -> None:
    error = upstream(422, b"")

    assert isinstance(error, UpstreamStatusError)
    assert (error.status, error.error_type) == (422, "invalid_request_error")
    assert error.message == "provider acme rejected the request (HTTP 422)"


# --- 429 ------------------------------------------------------------------------------------------


def test_429_is_a_rate_limit_error_that_keeps_retry_after() -> None:
    headers = CIMultiDict({"Retry-After": "2", "Content-Type": "application/json"})

    error = upstream(429, recorded("error_429_rate_limit.json"), headers)

    assert isinstance(error, UpstreamRateLimitError)
    assert (error.status, error.error_type, error.code) == (429, "rate_limit_error", "rate_limit_exceeded")
    assert error.headers == {"retry-after": "2"}
    assert error.message.startswith("Rate limit reached for gpt-4o")


def test_429_without_retry_after_has_no_headers() -> None:
    error = upstream(429, recorded("error_429_rate_limit.json"))

    assert error.headers == {}


def test_429_without_a_body_names_the_provider() -> None:
    error = upstream(429, b"")

    assert isinstance(error, UpstreamRateLimitError)
    assert error.message == "provider acme is rate limiting requests"


# --- 5xx and other failures become a 502 ----------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504, 529])
def test_5xx_is_a_502_upstream_error_mentioning_the_provider(status: int) -> None:
    body = b'{"error": {"message": "The server is overloaded", "type": "server_error"}}'

    error = upstream(status, body)

    assert type(error) is UpstreamError
    assert (error.status, error.code) == (502, "upstream_error")
    assert error.message == f"provider acme failed with HTTP {status}: The server is overloaded"


def test_5xx_without_a_body() -> None:
    assert upstream(503, b"").message == "provider acme failed with HTTP 503"


def test_non_json_body_text_becomes_the_message() -> None:
    html = b"<html><body><h1>502 Bad Gateway</h1></body></html>\n"

    error = upstream(502, html)

    assert (
        error.message
        == "provider acme failed with HTTP 502: <html><body><h1>502 Bad Gateway</h1></body></html>"
    )


def test_non_json_4xx_text_is_passed_on() -> None:
    assert (
        upstream(400, b"Bad Request: missing field `messages`").message
        == "Bad Request: missing field `messages`"
    )


def test_very_long_text_is_truncated() -> None:
    error = upstream(400, b"x" * 10_000)

    assert error.message == "x" * 2000


# --- the shapes providers actually send -----------------------------------------------------------


def test_error_as_a_plain_string() -> None:
    error = upstream(400, b'{"error": "model is required"}')

    assert (error.message, error.param) == ("model is required", None)


def test_list_wrapped_gemini_error() -> None:
    error = upstream(400, recorded("error_gemini_list.json"))

    assert error.message == "API key not valid. Please pass a valid API key."
    assert error.code == "400"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"detail": "Not Found"}', "Not Found"),
        (b'{"message": "Invalid model", "type": "BadRequestError", "code": 400}', "Invalid model"),
        (
            b'{"object": "error", "message": "max_tokens too large", "type": "BadRequestError"}',
            "max_tokens too large",
        ),
        (b'{"error": {"msg": "quota exceeded"}}', "quota exceeded"),
    ],
)
def test_top_level_message_shapes(body: bytes, message: str) -> None:
    assert upstream(400, body).message == message


def test_structured_code_and_param_are_dropped() -> None:
    error = upstream(400, b'{"error": {"message": "m", "code": {"x": 1}, "param": ["a"], "type": null}}')

    assert (error.param, error.error_type) == (None, "invalid_request_error")
    assert error.code is None


@pytest.mark.parametrize("body", [b"[]", b"null", b"42", b'{"error": null}', b'{"error": 7}'])
def test_body_without_a_message_falls_back_to_the_default(body: bytes) -> None:
    assert upstream(400, body).message == "provider acme rejected the request (HTTP 400)"


# --- rendering ------------------------------------------------------------------------------------


def test_error_envelope_shape() -> None:
    error = InvalidRequestError("bad temperature", param="temperature", code="invalid_value")

    assert error_envelope(error) == {
        "error": {
            "message": "bad temperature",
            "type": "invalid_request_error",
            "param": "temperature",
            "code": "invalid_value",
        }
    }


def test_error_envelope_message_override() -> None:
    envelope = error_envelope(UpstreamError("secret detail"), message="upstream failed")

    assert envelope["error"]["message"] == "upstream failed"
    assert envelope["error"]["type"] == "upstream_error"


def test_stream_error_event_is_one_sse_event_carrying_the_envelope() -> None:
    error = upstream(503, b'{"error": {"message": "overloaded"}}')

    raw = stream_error_event(error)

    assert raw.startswith(b"data: ")
    assert raw.endswith(b"\n\n")
    assert raw.count(b"\n") == 2
    (framed,) = SSEFramer().feed(raw)
    assert framed == raw
    data = event_data(framed)
    assert data is not None
    assert orjson.loads(data) == error_envelope(error)


def test_stream_error_event_message_override() -> None:
    raw = stream_error_event(UpstreamError("x"), message="stream interrupted")

    assert orjson.loads(raw[6:])["error"]["message"] == "stream interrupted"
