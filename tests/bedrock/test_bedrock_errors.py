"""AWS error answers and stream exception frames -> gateway errors with the right status."""

from __future__ import annotations

import orjson
import pytest

from gomodel.core.errors import (
    UpstreamError,
    UpstreamRateLimitError,
    UpstreamStatusError,
    UpstreamTimeoutError,
)
from gomodel.dialects.bedrock.errors import error_from_exception_frame, error_from_response

NAMESPACE = ":http://internal.amazon.com/coral/com.amazon.bedrock/"


def _answer(status: int, kind: str, message: str, **headers: str) -> tuple[int, bytes, dict[str, str]]:
    return status, orjson.dumps({"message": message}), {"x-amzn-errortype": kind + NAMESPACE, **headers}


@pytest.mark.parametrize(
    ("answer", "cls", "status", "code"),
    [
        (_answer(400, "ValidationException", "bad"), UpstreamStatusError, 400, "ValidationException"),
        (_answer(403, "AccessDeniedException", "no"), UpstreamStatusError, 403, "AccessDeniedException"),
        (
            _answer(404, "ResourceNotFoundException", "gone"),
            UpstreamStatusError,
            404,
            "ResourceNotFoundException",
        ),
        (_answer(429, "ThrottlingException", "slow"), UpstreamRateLimitError, 429, "rate_limit_exceeded"),
        (_answer(429, "ModelNotReadyException", "warming"), UpstreamError, 503, "ModelNotReadyException"),
        (
            _answer(408, "ModelTimeoutException", "slow model"),
            UpstreamTimeoutError,
            504,
            "ModelTimeoutException",
        ),
        (_answer(424, "ModelErrorException", "model broke"), UpstreamError, 502, "ModelErrorException"),
        (_answer(500, "InternalServerException", "oops"), UpstreamError, 502, "InternalServerException"),
        (
            _answer(503, "ServiceUnavailableException", "busy"),
            UpstreamError,
            503,
            "ServiceUnavailableException",
        ),
        (
            _answer(400, "ServiceQuotaExceededException", "quota"),
            UpstreamStatusError,
            400,
            "ServiceQuotaExceededException",
        ),
    ],
)
def test_error_kinds_map_to_gateway_errors(
    answer: tuple[int, bytes, dict[str, str]], cls: type[Exception], status: int, code: str
) -> None:
    error = error_from_response("bedrock", *answer)
    assert type(error) is cls
    assert (error.status, error.code) == (status, code)


def test_the_provider_message_is_passed_on_for_client_errors() -> None:
    error = error_from_response("bedrock", *_answer(400, "ValidationException", "maxTokens must be positive"))
    assert error.message == "maxTokens must be positive"
    assert error.error_type == "invalid_request_error"
    assert error_from_response("bedrock", *_answer(403, "AccessDeniedException", "x")).error_type == (
        "permission_error"
    )


def test_retry_after_is_passed_on_when_aws_sends_it() -> None:
    error = error_from_response(
        "bedrock", *_answer(429, "ThrottlingException", "slow", **{"retry-after": "7"})
    )
    assert error.headers == {"retry-after": "7"}
    assert error_from_response("bedrock", *_answer(429, "ThrottlingException", "slow")).headers == {}


def test_the_kind_may_come_from_the_body_type() -> None:
    body = orjson.dumps({"__type": "com.amazon.coral.validate#ValidationException", "Message": "nope"})
    error = error_from_response("bedrock", 400, body, {})
    assert (error.code, error.message) == ("ValidationException", "nope")


def test_diagnostics_after_a_blank_line_never_reach_the_client() -> None:
    message = (
        "The request signature we calculated does not match the signature you provided.\n\n"
        "The Canonical String for this request should have been\n'POST\n/model/x/converse\n\n"
        "x-amz-security-token:SESSIONTOKEN\n'"
    )
    error = error_from_response("bedrock", *_answer(403, "InvalidSignatureException", message))
    assert error.message == "The request signature we calculated does not match the signature you provided."
    assert "SESSIONTOKEN" not in str(error)


def test_a_body_that_is_not_json_becomes_the_message() -> None:
    error = error_from_response("bedrock", 502, b"<html>Bad Gateway</html>", {})
    assert error.status == 502
    assert "Bad Gateway" in error.message
    assert error_from_response("bedrock", 500, b"", {}).message == "provider bedrock failed with HTTP 500"


@pytest.mark.parametrize(
    ("frame", "cls", "status"),
    [
        ("throttlingException", UpstreamRateLimitError, 429),
        ("validationException", UpstreamStatusError, 400),
        ("modelStreamErrorException", UpstreamError, 502),
        ("internalServerException", UpstreamError, 502),
        ("serviceUnavailableException", UpstreamError, 503),
        ("somethingElseException", UpstreamError, 502),
    ],
)
def test_stream_exception_frames_map_by_their_type(frame: str, cls: type[Exception], status: int) -> None:
    error = error_from_exception_frame("bedrock", frame, orjson.dumps({"message": "m"}))
    assert type(error) is cls
    assert error.status == status
