"""Anthropic answers, errors and model pages -> wire-neutral results and gateway errors."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

import gomodel.dialects.anthropic as dialect
from gomodel.core.chat import ToolCall
from gomodel.core.errors import (
    UpstreamError,
    UpstreamRateLimitError,
    UpstreamStatusError,
    UpstreamTimeoutError,
)
from gomodel.core.records import Usage
from gomodel.dialects.anthropic import (
    decode_messages_response,
    decode_models_page,
    error_from_anthropic,
    models_query,
    usage_from,
)

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# --- responses ------------------------------------------------------------------------------------


def test_text_response() -> None:
    response = decode_messages_response(fixture("response_text.json"), "anthropic")

    assert (response.id, response.model, response.content) == (
        "msg_013Zva2CMHLNnXjNJJKqJ2EF",
        "claude-opus-4-6",
        "Hi! My name is Claude.",
    )
    assert response.finish_reason == "stop"
    assert response.created == 0  # Anthropic has no timestamp; the gateway stamps it
    assert response.usage == Usage(prompt_tokens=2095, completion_tokens=503, total_tokens=2598)


def test_tool_use_response_keeps_text_and_serialises_input() -> None:
    response = decode_messages_response(fixture("response_tool_use.json"), "anthropic")

    assert response.content == "I'll check the current weather in San Francisco for you."
    assert response.tool_calls == (
        ToolCall(
            id="toolu_01A09q90qw90lq917835lq9",
            name="get_weather",
            arguments='{"location":"San Francisco, CA","unit":"celsius"}',
        ),
    )
    assert response.finish_reason == "tool_calls"


def test_thinking_response_with_cache_usage() -> None:
    response = decode_messages_response(fixture("response_thinking_cached.json"), "anthropic")

    assert response.content == "Based on my analysis..."
    assert response.reasoning == "Let me analyze this step by step..."
    assert response.reasoning_signature is not None
    assert response.reasoning_signature.startswith("WaUjzkypQ2mUEVM36O2TxuC06KN8")
    assert response.usage == Usage(
        prompt_tokens=50 + 248 + 1024,
        completion_tokens=503,
        total_tokens=50 + 248 + 1024 + 503,
        cached_tokens=1024,
        cache_creation_tokens=248,
        reasoning_tokens=380,
    )


def test_refusal_is_a_content_filter_finish() -> None:
    assert (
        decode_messages_response(fixture("response_refusal.json"), "anthropic").finish_reason
        == "content_filter"
    )


def test_tool_only_answer_has_no_content_and_empty_answer_an_empty_string() -> None:
    only_tool = {
        "id": "m",
        "model": "c",
        "content": [{"type": "tool_use", "id": "t", "name": "f", "input": {}}],
    }
    empty = {"id": "m", "model": "c", "content": []}

    assert decode_messages_response(orjson.dumps(only_tool), "anthropic").content is None
    assert decode_messages_response(orjson.dumps(only_tool), "anthropic").tool_calls[0].arguments == "{}"
    assert decode_messages_response(orjson.dumps(empty), "anthropic").content == ""


@pytest.mark.parametrize("body", [b"<html>bad gateway</html>", b'{"id": "m"}', b"[]"])
def test_unreadable_responses_are_upstream_errors(body: bytes) -> None:
    with pytest.raises(UpstreamError) as info:
        decode_messages_response(body, "anthropic")

    assert info.value.status == 502
    assert "anthropic" in info.value.message


def test_usage_from_ignores_non_objects_and_missing_fields() -> None:
    assert usage_from(None) is None
    assert usage_from({"output_tokens": 3}) == Usage(prompt_tokens=0, completion_tokens=3, total_tokens=3)


# --- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "status", "kind", "error_type"),
    [
        ("error_400_invalid_request_error.json", 400, UpstreamStatusError, "invalid_request_error"),
        ("error_401_authentication_error.json", 401, UpstreamStatusError, "authentication_error"),
        ("error_403_permission_error.json", 403, UpstreamStatusError, "permission_error"),
        ("error_404_not_found_error.json", 404, UpstreamStatusError, "not_found_error"),
        ("error_413_request_too_large.json", 413, UpstreamStatusError, "request_too_large"),
        ("error_429_rate_limit_error.json", 429, UpstreamRateLimitError, "rate_limit_error"),
    ],
)
def test_client_errors_keep_status_type_and_message(
    name: str, status: int, kind: type, error_type: str
) -> None:
    body = fixture(name)
    error = error_from_anthropic("anthropic", status, body, {})

    assert type(error) is kind
    assert error.status == status
    assert error.error_type == error_type
    assert error.message == orjson.loads(body)["error"]["message"]


def test_rate_limit_passes_retry_after_on() -> None:
    error = error_from_anthropic(
        "anthropic", 429, fixture("error_429_rate_limit_error.json"), {"retry-after": "13"}
    )

    assert error.headers == {"retry-after": "13"}
    assert error.code == "rate_limit_exceeded"


def test_overloaded_is_a_502_with_code_overloaded() -> None:
    error = error_from_anthropic("anthropic", 529, fixture("error_529_overloaded_error.json"), {})

    assert type(error) is UpstreamError
    assert (error.status, error.code) == (502, "overloaded")
    assert "Overloaded" in error.message


def test_api_error_is_a_502() -> None:
    error = error_from_anthropic("anthropic", 500, fixture("error_500_api_error.json"), {})

    assert (error.status, error.code) == (502, "upstream_error")
    assert "HTTP 500" in error.message


def test_timeout_error_is_a_gateway_timeout() -> None:
    body = orjson.dumps({"type": "error", "error": {"type": "timeout_error", "message": "Request timed out"}})

    assert type(error_from_anthropic("anthropic", 504, body, {})) is UpstreamTimeoutError


def test_non_json_error_body_is_read_as_text() -> None:
    error = error_from_anthropic("anthropic", 403, b"  Forbidden by proxy ", {})

    assert (error.status, error.message) == (403, "Forbidden by proxy")


def test_empty_error_body_gets_a_message_naming_the_provider() -> None:
    assert (
        error_from_anthropic("claude-eu", 418, b"", {}).message
        == "provider claude-eu rejected the request (HTTP 418)"
    )


# --- model pages ----------------------------------------------------------------------------------


def test_model_pages_and_the_query_for_the_next() -> None:
    first = decode_models_page(fixture("models_page_1.json"), "anthropic")
    last = decode_models_page(fixture("models_page_2.json"), "anthropic")

    assert first.ids == ("claude-opus-4-6", "claude-sonnet-4-5-20250929")
    assert first.next_after == "claude-sonnet-4-5-20250929"
    assert last.ids == ("claude-haiku-4-5-20251001",)
    assert last.next_after is None
    assert models_query(None) == "?limit=1000"
    assert models_query(first.next_after) == "?limit=1000&after_id=claude-sonnet-4-5-20250929"


@pytest.mark.parametrize("body", [b"nope", b'{"models": []}'])
def test_unreadable_model_pages_are_upstream_errors(body: bytes) -> None:
    with pytest.raises(UpstreamError):
        decode_models_page(body, "anthropic")


def test_public_surface_of_the_dialect_package() -> None:
    codec = {
        "encode_messages_request",
        "decode_messages_response",
        "MessagesStreamDecoder",
        "error_from_anthropic",
        "error_from_event",
        "decode_models_page",
        "models_query",
        "usage_from",
        "finish_reason",
    }
    assert codec <= set(dialect.__all__)
    assert all(hasattr(dialect, name) for name in dialect.__all__)
