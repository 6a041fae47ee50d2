"""Google error bodies -> gateway errors with the right status, type, code and retry-after."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from gomodel.core.errors import UpstreamError, UpstreamRateLimitError, UpstreamStatusError
from gomodel.dialects.gemini.errors import error_from_google, error_from_payload, prompt_blocked_error

FIXTURES = Path(__file__).parent / "fixtures"


def _body(status: int, google_status: str, message: str = "m", **extra: object) -> bytes:
    return orjson.dumps({"error": {"code": status, "message": message, "status": google_status, **extra}})


def test_rate_limit_takes_retry_info_when_there_is_no_header() -> None:
    error = error_from_google("gemini", 429, (FIXTURES / "error_429.json").read_bytes(), {})
    assert isinstance(error, UpstreamRateLimitError)
    assert error.status == 429
    assert error.headers == {"retry-after": "37"}
    assert error.message.startswith("You exceeded your current quota")
    assert error.code == "rate_limit_exceeded"


def test_rate_limit_prefers_the_retry_after_header() -> None:
    body = (FIXTURES / "error_429.json").read_bytes()
    assert error_from_google("gemini", 429, body, {"retry-after": "3"}).headers == {"retry-after": "3"}


@pytest.mark.parametrize(("delay", "seconds"), [("0.25s", "1"), ("7s", "7"), ("7.2s", "8"), ("soon", None)])
def test_retry_delays_round_up_to_whole_seconds(delay: str, seconds: str | None) -> None:
    detail = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}
    error = error_from_google("g", 429, _body(429, "RESOURCE_EXHAUSTED", details=[detail]), {})
    assert error.headers == ({"retry-after": seconds} if seconds else {})


def test_bad_api_key_keeps_status_and_reason() -> None:
    error = error_from_google("gemini", 400, (FIXTURES / "error_400_api_key.json").read_bytes(), {})
    assert isinstance(error, UpstreamStatusError)
    assert (error.status, error.error_type, error.code) == (400, "invalid_request_error", "api_key_invalid")
    assert error.message == "API key not valid. Please pass a valid API key."


def test_list_wrapped_error() -> None:
    error = error_from_google("vertex", 404, (FIXTURES / "error_list.json").read_bytes(), {})
    assert (error.status, error.error_type, error.code) == (404, "not_found_error", "not_found")
    assert "gemini-9" in error.message


@pytest.mark.parametrize(
    ("status", "google_status", "error_type"),
    [
        (400, "FAILED_PRECONDITION", "invalid_request_error"),
        (401, "UNAUTHENTICATED", "authentication_error"),
        (403, "PERMISSION_DENIED", "permission_error"),
        (404, "NOT_FOUND", "not_found_error"),
        (409, "ABORTED", "invalid_request_error"),
    ],
)
def test_client_errors_pass_their_status_on(status: int, google_status: str, error_type: str) -> None:
    error = error_from_google("gemini", status, _body(status, google_status, "nope"), {})
    assert isinstance(error, UpstreamStatusError)
    assert (error.status, error.error_type, error.code, error.message) == (
        status,
        error_type,
        google_status.lower(),
        "nope",
    )


@pytest.mark.parametrize("status", [500, 503, 504])
def test_server_errors_are_502(status: int) -> None:
    error = error_from_google("gemini", status, _body(status, "UNAVAILABLE", "The model is overloaded."), {})
    assert type(error) is UpstreamError
    assert error.status == 502
    assert error.message == f"provider gemini failed with HTTP {status}: The model is overloaded."


def test_non_json_and_empty_bodies() -> None:
    html = b"<html><body>Error 404 (Not Found)!!1</body></html>"
    assert error_from_google("gemini", 404, html, {}).message == html.decode()
    empty = error_from_google("gemini", 400, b"", {})
    assert (empty.status, empty.message) == (400, "provider gemini rejected the request (HTTP 400)")
    assert error_from_google("gemini", 502, b"", {}).message == "provider gemini failed with HTTP 502"


def test_long_messages_are_cut() -> None:
    error = error_from_google("gemini", 400, _body(400, "INVALID_ARGUMENT", "x" * 5000), {})
    assert len(error.message) == 2000


def test_stream_error_objects_use_their_code() -> None:
    assert (
        error_from_payload("g", {"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED"}).status
        == 429
    )
    assert (
        error_from_payload("g", {"code": 400, "message": "bad", "status": "INVALID_ARGUMENT"}).status == 400
    )
    assert error_from_payload("g", {"message": "no code"}).status == 502
    assert error_from_payload("g", "not an object").status == 502


def test_prompt_feedback() -> None:
    assert prompt_blocked_error("g", None) is None
    assert prompt_blocked_error("g", {"safetyRatings": []}) is None
    error = prompt_blocked_error("g", {"blockReason": "OTHER", "blockReasonMessage": "The prompt is unsafe."})
    assert error is not None
    assert (error.status, error.code) == (400, "content_filter")
    assert error.message == "provider g blocked the prompt (blockReason OTHER): The prompt is unsafe."
