"""ChatRequest -> generateContent body, against a hand-written golden body and rule by rule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest

from gomodel.core.chat import (
    ChatRequest,
    DocumentPart,
    ImagePart,
    Message,
    ResponseFormat,
    TextPart,
    ToolCall,
)
from gomodel.core.errors import InvalidRequestError
from gomodel.dialects.gemini.request_encode import encode_generate_request
from gomodel.dialects.gemini.tool_ids import split_tool_call_id, tool_call_id
from gomodel.dialects.openai_chat_request import decode_chat_request

FIXTURES = Path(__file__).parent / "fixtures"


def _user(text: str = "hi") -> Message:
    return Message(role="user", content=(TextPart(text),))


def _request(*messages: Message, **fields: Any) -> ChatRequest:
    return ChatRequest(model="gemini-2.5-flash", messages=messages or (_user(),), **fields)


def test_golden_conversation() -> None:
    case = json.loads((FIXTURES / "request_conversation.json").read_text())
    assert encode_generate_request(decode_chat_request(case["openai"])) == case["gemini"]


def test_minimal_request_has_no_optional_sections() -> None:
    assert encode_generate_request(_request()) == {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}


def test_empty_messages_are_dropped_and_a_request_without_content_fails() -> None:
    body = encode_generate_request(_request(Message(role="user", content=(TextPart(""),)), _user("x")))
    assert body["contents"] == [{"role": "user", "parts": [{"text": "x"}]}]
    with pytest.raises(InvalidRequestError) as caught:
        encode_generate_request(_request(Message(role="system", content=(TextPart("only rules"),))))
    assert caught.value.param == "messages"


def test_tool_result_without_a_matching_call_is_a_400() -> None:
    orphan = Message(role="tool", content=(TextPart("42"),), tool_call_id="call_9")
    with pytest.raises(InvalidRequestError) as caught:
        encode_generate_request(_request(_user(), orphan))
    assert caught.value.param == "messages[1].tool_call_id"


def test_tool_result_name_comes_from_the_latest_call_with_that_id() -> None:
    # Synthesized ids restart at call_0 in every answer, so the nearest earlier call must win.
    first = Message(role="assistant", tool_calls=(ToolCall(id="call_0", name="old", arguments="{}"),))
    second = Message(role="assistant", tool_calls=(ToolCall(id="call_0", name="new", arguments="{}"),))
    result = Message(role="tool", content=(TextPart("ok"),), tool_call_id="call_0")
    body = encode_generate_request(_request(_user(), first, result, _user("again"), second, result))
    responses = [
        part["functionResponse"]["name"]
        for content in body["contents"]
        for part in content["parts"]
        if "functionResponse" in part
    ]
    assert responses == ["old", "new"]


def test_failed_tool_result_is_sent_as_error() -> None:
    call = Message(role="assistant", tool_calls=(ToolCall(id="c", name="f", arguments="{}"),))
    failed = Message(role="tool", content=(TextPart("boom"),), tool_call_id="c", is_error=True)
    body = encode_generate_request(_request(_user(), call, failed))
    assert body["contents"][-1]["parts"] == [
        {"functionResponse": {"name": "f", "response": {"error": "boom"}}}
    ]


@pytest.mark.parametrize("arguments", ["[1, 2]", "{not json", "42"])
def test_tool_call_arguments_must_be_a_json_object(arguments: str) -> None:
    call = Message(role="assistant", tool_calls=(ToolCall(id="c", name="f", arguments=arguments),))
    with pytest.raises(InvalidRequestError) as caught:
        encode_generate_request(_request(_user(), call))
    assert caught.value.param == "messages[1].tool_calls"


@pytest.mark.parametrize(
    ("choice", "config"),
    [
        ("auto", {"mode": "AUTO"}),
        ("none", {"mode": "NONE"}),
        ("required", {"mode": "ANY"}),
    ],
)
def test_tool_choice_modes(choice: str, config: dict[str, Any]) -> None:
    payload = {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [{"type": "function", "function": {"name": "f"}}],
        "tool_choice": choice,
    }
    body = encode_generate_request(decode_chat_request(payload))
    assert body["toolConfig"] == {"functionCallingConfig": config}


def test_tool_choice_without_tools_is_left_out() -> None:
    payload = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "tool_choice": "required"}
    assert "toolConfig" not in encode_generate_request(decode_chat_request(payload))


@pytest.mark.parametrize(
    ("effort", "thinking"),
    [
        ("none", {"thinkingBudget": 0}),
        ("minimal", {"thinkingBudget": 512, "includeThoughts": True}),
        ("medium", {"thinkingBudget": 8192, "includeThoughts": True}),
        ("high", {"thinkingBudget": 24576, "includeThoughts": True}),
    ],
)
def test_reasoning_effort_becomes_a_thinking_budget(effort: str, thinking: dict[str, Any]) -> None:
    body = encode_generate_request(_request(reasoning_effort=effort))
    assert body["generationConfig"] == {"thinkingConfig": thinking}


def test_explicit_budget_wins_and_unknown_effort_is_a_400() -> None:
    body = encode_generate_request(_request(reasoning_effort="high", reasoning_budget=2000))
    assert body["generationConfig"]["thinkingConfig"] == {"thinkingBudget": 2000, "includeThoughts": True}
    with pytest.raises(InvalidRequestError) as caught:
        encode_generate_request(_request(reasoning_effort="ludicrous"))
    assert caught.value.param == "reasoning_effort"


def test_json_object_asks_for_json_without_a_schema() -> None:
    body = encode_generate_request(_request(response_format=ResponseFormat(type="json_object")))
    assert body["generationConfig"] == {"responseMimeType": "application/json"}
    assert "generationConfig" not in encode_generate_request(
        _request(response_format=ResponseFormat(type="text"))
    )


def test_media_parts() -> None:
    parts = (
        ImagePart(url="gs://bucket/photo.jpg"),
        ImagePart(url="https://example.com/no-extension"),
        DocumentPart(media_type="application/pdf", url="gs://bucket/report.pdf"),
    )
    body = encode_generate_request(_request(Message(role="user", content=parts)))
    assert body["contents"][0]["parts"] == [
        {"fileData": {"mimeType": "image/jpeg", "fileUri": "gs://bucket/photo.jpg"}},
        {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://example.com/no-extension"}},
        {"fileData": {"mimeType": "application/pdf", "fileUri": "gs://bucket/report.pdf"}},
    ]
    with pytest.raises(InvalidRequestError):
        encode_generate_request(
            _request(Message(role="user", content=(ImagePart(url="data:image/png,raw"),)))
        )


def test_decoded_openai_audio_is_inline_data() -> None:
    payload = {
        "model": "m",
        "messages": [
            {
                "role": "user",
                "content": [{"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}],
            }
        ],
    }
    body = encode_generate_request(decode_chat_request(payload))
    assert body["contents"][0]["parts"] == [{"inlineData": {"mimeType": "audio/wav", "data": "UklGRg=="}}]


def test_tool_call_ids_carry_thought_signatures_both_ways() -> None:
    assert tool_call_id(2, None, None) == "call_2"
    assert tool_call_id(0, "fc-7", None) == "fc-7"
    made = tool_call_id(0, None, "CiQB+/=")
    assert made == "call_0__thought__CiQB+/="
    assert split_tool_call_id(made) == ("call_0", "CiQB+/=")
    assert split_tool_call_id("toolu_01") == ("toolu_01", None)


def test_stream_flag_does_not_change_the_body() -> None:
    request = _request()
    assert encode_generate_request(attrs.evolve(request, stream=True)) == encode_generate_request(request)
