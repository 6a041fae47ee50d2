"""generateContent answers -> ChatResponse: content, reasoning, tool calls, finish reasons, usage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gomodel.core.chat import ToolCall
from gomodel.core.errors import UpstreamError, UpstreamStatusError
from gomodel.core.records import Usage
from gomodel.dialects.gemini.response_decode import decode_generate_response, usage_from_metadata

FIXTURES = Path(__file__).parent / "fixtures"


def _load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def _answer(finish: str | None, parts: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    candidate: dict[str, Any] = {"index": 0}
    if parts is not None:
        candidate["content"] = {"role": "model", "parts": parts}
    if finish is not None:
        candidate["finishReason"] = finish
    return {"candidates": [candidate]}


def test_text_with_thoughts_and_cache() -> None:
    response = decode_generate_response(_load("generate_text.json"), "gemini", "requested")
    assert response.id == "chatcmpl-mK1kaLbWFISqz7IPv5_6gAk"
    assert response.model == "gemini-2.5-flash"
    assert response.content == "The capital of France is Paris. It is known as la Ville Lumière."
    assert response.reasoning == "**Recalling the capital**\nThe user asks for the capital of France."
    assert response.tool_calls == ()
    assert response.finish_reason == "stop"
    # OpenAI counts thinking inside completion tokens, and cached tokens inside the prompt.
    assert response.usage == Usage(
        prompt_tokens=2061,
        completion_tokens=16 + 127,
        total_tokens=2204,
        cached_tokens=2048,
        reasoning_tokens=127,
    )


def test_parallel_tool_calls_carry_the_signature_in_the_first_id() -> None:
    response = decode_generate_response(_load("generate_tools.json"), "gemini", "requested")
    assert response.finish_reason == "tool_calls"
    assert response.content is None
    assert response.tool_calls == (
        ToolCall(
            id="call_0__thought__CiQBcsjafJ0P0q7m1u5kHhxdXN0eW9tZW9jYWxsc2lnbmF0dXJl",
            name="get_weather",
            arguments='{"city":"Zürich","unit":"celsius"}',
        ),
        ToolCall(id="call_1", name="get_time", arguments='{"timezone":"Europe/Zurich"}'),
    )


def test_gemini_call_ids_are_kept() -> None:
    parts = [{"functionCall": {"id": "fc-abc", "name": "f", "args": {}}}]
    assert decode_generate_response(_answer("STOP", parts), "g", "m").tool_calls[0].id == "fc-abc"


@pytest.mark.parametrize(
    ("finish", "reason"),
    [
        ("STOP", "stop"),
        ("MAX_TOKENS", "length"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("BLOCKLIST", "content_filter"),
        ("PROHIBITED_CONTENT", "content_filter"),
        ("SPII", "content_filter"),
        ("OTHER", "stop"),
        ("LANGUAGE", "stop"),
        (None, "stop"),
    ],
)
def test_finish_reasons(finish: str | None, reason: str) -> None:
    response = decode_generate_response(_answer(finish, [{"text": "x"}]), "gemini", "m")
    assert response.finish_reason == reason
    assert response.model == "m"  # no modelVersion in the answer
    assert response.id == ""  # no responseId: the gateway names the completion


def test_length_wins_over_tool_calls() -> None:
    parts = [{"functionCall": {"name": "f", "args": {}}}]
    assert decode_generate_response(_answer("MAX_TOKENS", parts), "g", "m").finish_reason == "length"


def test_safety_stop_without_content() -> None:
    response = decode_generate_response(_answer("SAFETY"), "gemini", "m")
    assert (response.content, response.finish_reason) == (None, "content_filter")


@pytest.mark.parametrize("finish", ["MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL", "TOO_MANY_TOOL_CALLS"])
def test_botched_function_calls_are_upstream_errors(finish: str) -> None:
    answer = _answer(finish)
    answer["candidates"][0]["finishMessage"] = "Malformed function call: print(default_api.f("
    with pytest.raises(UpstreamError) as caught:
        decode_generate_response(answer, "gemini", "m")
    assert (caught.value.status, caught.value.code) == (502, "malformed_function_call")
    assert finish in caught.value.message
    assert "print(default_api.f(" in caught.value.message


def test_blocked_prompt_is_a_content_filter_400() -> None:
    payload = {"promptFeedback": {"blockReason": "SAFETY", "safetyRatings": []}, "usageMetadata": {}}
    with pytest.raises(UpstreamStatusError) as caught:
        decode_generate_response(payload, "gemini", "m")
    error = caught.value
    assert (error.status, error.code, error.error_type) == (400, "content_filter", "invalid_request_error")
    assert "SAFETY" in error.message


@pytest.mark.parametrize("payload", [{"candidates": []}, {}, [], "text"])
def test_answers_without_candidates_are_upstream_errors(payload: Any) -> None:
    with pytest.raises(UpstreamError) as caught:
        decode_generate_response(payload, "gemini", "m")
    assert caught.value.status == 502


def test_only_the_first_candidate_is_read() -> None:
    payload = {
        "candidates": [
            {"index": 1, "content": {"parts": [{"text": "second"}]}, "finishReason": "STOP"},
            {"index": 0, "content": {"parts": [{"text": "first"}]}, "finishReason": "STOP"},
        ]
    }
    assert decode_generate_response(payload, "g", "m").content == "first"


def test_usage_edge_cases() -> None:
    assert usage_from_metadata(None) is None
    assert usage_from_metadata({"promptTokenCount": 3}) == Usage(prompt_tokens=3, total_tokens=3)
    with_tools = usage_from_metadata(
        {
            "promptTokenCount": 10,
            "toolUsePromptTokenCount": 5,
            "candidatesTokenCount": 2,
            "totalTokenCount": 17,
        }
    )
    assert with_tools == Usage(prompt_tokens=15, completion_tokens=2, total_tokens=17)
