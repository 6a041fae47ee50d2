"""`encode_messages_request`: OpenAI-shaped requests -> the Messages body Anthropic accepts."""

from __future__ import annotations

import base64
import copy
from pathlib import Path
from typing import Any

import orjson
import pytest

from gomodel.core.chat import (
    AudioPart,
    ChatRequest,
    DocumentPart,
    ImagePart,
    Message,
    ResponseFormat,
    TextPart,
    Tool,
    ToolCall,
    ToolChoice,
)
from gomodel.core.errors import InvalidRequestError
from gomodel.dialects.anthropic import THINKING_BUDGETS, encode_messages_request
from gomodel.dialects.anthropic.request_encode import JSON_OBJECT_INSTRUCTION
from gomodel.dialects.anthropic.schema import strict_schema
from gomodel.dialects.openai_chat_request import decode_chat_request

FIXTURES = Path(__file__).parent / "fixtures"
HELLO = Message(role="user", content=(TextPart("Hello"),))
WEATHER = Tool(
    name="get_weather",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


def request(*messages: Message, **fields: Any) -> ChatRequest:
    return ChatRequest(model="claude-sonnet-4-5", messages=messages or (HELLO,), **fields)


def encode(req: ChatRequest, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("stream", False)
    return encode_messages_request(req, **kwargs)


def user(text: str) -> Message:
    return Message(role="user", content=(TextPart(text),))


def assistant(text: str = "", *calls: ToolCall, **fields: Any) -> Message:
    return Message(role="assistant", content=(TextPart(text),) if text else (), tool_calls=calls, **fields)


def tool_result(call_id: str, text: str, **fields: Any) -> Message:
    return Message(role="tool", tool_call_id=call_id, content=(TextPart(text),), **fields)


# --- golden ---------------------------------------------------------------------------------------


def test_openai_agent_turn_matches_the_golden_messages_body() -> None:
    openai_body = orjson.loads((FIXTURES / "request_openai_agent_turn.json").read_bytes())
    expected = orjson.loads((FIXTURES / "request_anthropic_agent_turn.json").read_bytes())

    assert encode(decode_chat_request(openai_body)) == expected


def test_minimal_request_and_stream_flag() -> None:
    assert encode(request()) == {
        "model": "claude-sonnet-4-5",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hello"}]}],
        "max_tokens": 4096,
    }
    assert encode(request(), stream=True)["stream"] is True


# --- max_tokens and thinking ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("max_tokens", "default", "expected"),
    [(None, 4096, 4096), (None, 1000, 1000), (300, 4096, 300), (0, 4096, 0)],
)
def test_max_tokens_defaults_only_when_absent(max_tokens: int | None, default: int, expected: int) -> None:
    assert encode(request(max_tokens=max_tokens), default_max_tokens=default)["max_tokens"] == expected


@pytest.mark.parametrize("effort", sorted(THINKING_BUDGETS))
def test_reasoning_effort_becomes_a_thinking_budget(effort: str) -> None:
    body = encode(request(reasoning_effort=effort, max_tokens=64000))

    assert body["thinking"] == {"type": "enabled", "budget_tokens": THINKING_BUDGETS[effort]}
    assert body["max_tokens"] == 64000


def test_effort_words_map_to_growing_budgets() -> None:
    budgets = [THINKING_BUDGETS[e] for e in ("minimal", "low", "medium", "high")]
    assert budgets == sorted(budgets)
    assert budgets[0] == 1024  # Anthropic's minimum


def test_explicit_reasoning_budget_wins_over_effort() -> None:
    body = encode(request(reasoning_effort="high", reasoning_budget=3000, max_tokens=10000))

    assert body["thinking"] == {"type": "enabled", "budget_tokens": 3000}


@pytest.mark.parametrize(
    ("max_tokens", "expected"), [(None, 16384 + 4096), (500, 16384 + 500), (16384, 32768)]
)
def test_max_tokens_is_raised_above_the_thinking_budget(max_tokens: int | None, expected: int) -> None:
    body = encode(request(reasoning_effort="high", max_tokens=max_tokens))

    assert body["max_tokens"] == expected
    assert body["max_tokens"] > body["thinking"]["budget_tokens"]


@pytest.mark.parametrize("effort", ["none", None])
def test_no_thinking_without_effort(effort: str | None) -> None:
    assert "thinking" not in encode(request(reasoning_effort=effort))


def test_zero_budget_means_no_thinking() -> None:
    assert "thinking" not in encode(request(reasoning_budget=0))


def test_unknown_effort_is_a_400_naming_the_parameter() -> None:
    with pytest.raises(InvalidRequestError) as info:
        encode(request(reasoning_effort="extreme"))

    assert info.value.param == "reasoning_effort"
    assert info.value.status == 400


def test_thinking_drops_sampling_values_anthropic_refuses_with_it() -> None:
    body = encode(request(reasoning_effort="low", temperature=0.3, top_p=0.5))
    assert "temperature" not in body
    assert "top_p" not in body

    kept = encode(request(reasoning_effort="low", temperature=1.0, top_p=0.97))
    assert (kept["temperature"], kept["top_p"]) == (1.0, 0.97)


def test_temperature_is_clamped_to_anthropics_range() -> None:
    assert encode(request(temperature=1.7))["temperature"] == 1.0
    assert encode(request(temperature=0.0))["temperature"] == 0.0


# --- conversation shape -----------------------------------------------------------------------------


def test_system_and_developer_messages_move_to_the_top_level() -> None:
    body = encode(request(Message(role="system", content=(TextPart("Be brief."),)), HELLO))

    assert body["system"] == "Be brief."
    assert [m["role"] for m in body["messages"]] == ["user"]


def test_consecutive_same_role_messages_are_merged() -> None:
    body = encode(request(user("one"), user("two"), assistant("three"), assistant("four"), user("five")))

    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert [b["text"] for b in body["messages"][0]["content"]] == ["one", "two"]
    assert [b["text"] for b in body["messages"][1]["content"]] == ["three", "four"]


def test_messages_without_content_are_dropped_and_neighbours_merged() -> None:
    body = encode(request(user("one"), assistant(""), user("   "), user("two")))

    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]}
    ]


def test_conversation_must_open_with_a_user_turn() -> None:
    with pytest.raises(InvalidRequestError) as info:
        encode(request(Message(role="system", content=(TextPart("sys"),)), assistant("Hi!"), user("hello")))

    assert info.value.param == "messages"


def test_system_only_conversation_is_a_400() -> None:
    with pytest.raises(InvalidRequestError):
        encode(request(Message(role="system", content=(TextPart("sys"),))))


# --- tools ---------------------------------------------------------------------------------------


def tool_turn(*calls: ToolCall) -> tuple[Message, ...]:
    return (user("weather?"), assistant("", *calls))


def test_tool_results_merge_into_one_user_turn_before_text() -> None:
    calls = (ToolCall(id="a", name="f", arguments="{}"), ToolCall(id="b", name="f", arguments="{}"))
    body = encode(request(*tool_turn(*calls), user("first"), tool_result("a", "A"), tool_result("b", "B")))

    last = body["messages"][-1]
    assert last["role"] == "user"
    assert [b["type"] for b in last["content"]] == ["tool_result", "tool_result", "text"]
    assert [b.get("tool_use_id") for b in last["content"][:2]] == ["a", "b"]


def test_tool_call_arguments_become_input_and_empty_arguments_an_empty_object() -> None:
    calls = (
        ToolCall(id="a", name="f", arguments='{"x": [1, "é"]}'),
        ToolCall(id="b", name="g", arguments=""),
    )
    body = encode(request(*tool_turn(*calls), tool_result("a", "1"), tool_result("b", "2")))

    blocks = body["messages"][1]["content"]
    assert blocks == [
        {"type": "tool_use", "id": "a", "name": "f", "input": {"x": [1, "é"]}},
        {"type": "tool_use", "id": "b", "name": "g", "input": {}},
    ]


@pytest.mark.parametrize("arguments", ['{"x": ', "[1, 2]", '"text"'])
def test_tool_arguments_that_are_not_a_json_object_are_a_400(arguments: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        encode(request(*tool_turn(ToolCall(id="a", name="f", arguments=arguments))))

    assert info.value.param == "messages[1].tool_calls[0].function.arguments"


def test_tool_ids_are_rewritten_into_anthropics_alphabet_consistently() -> None:
    body = encode(
        request(*tool_turn(ToolCall(id="call:1/x", name="f", arguments="{}")), tool_result("call:1/x", "ok"))
    )

    assert body["messages"][1]["content"][0]["id"] == "call_1_x"
    assert body["messages"][2]["content"][0]["tool_use_id"] == "call_1_x"


def test_tool_result_flags_errors_and_keeps_images_as_blocks() -> None:
    image = ImagePart(url="data:image/jpeg;base64,/9j/4AAQ")
    result = Message(role="tool", tool_call_id="a", content=(TextPart("chart:"), image), is_error=True)
    body = encode(request(*tool_turn(ToolCall(id="a", name="f", arguments="{}")), result))

    assert body["messages"][2]["content"] == [
        {
            "type": "tool_result",
            "tool_use_id": "a",
            "content": [
                {"type": "text", "text": "chart:"},
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQ"},
                },
            ],
            "is_error": True,
        }
    ]


def test_empty_tool_result_has_no_content_field() -> None:
    body = encode(request(*tool_turn(ToolCall(id="a", name="f", arguments="{}")), tool_result("a", "")))

    assert body["messages"][2]["content"] == [{"type": "tool_result", "tool_use_id": "a"}]


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (ToolChoice(mode="auto"), {"type": "auto"}),
        (ToolChoice(mode="required"), {"type": "any"}),
        (ToolChoice(mode="none"), {"type": "none"}),
        (ToolChoice(mode="tool", name="get_weather"), {"type": "tool", "name": "get_weather"}),
        (None, None),
    ],
)
def test_tool_choice_mapping(choice: ToolChoice | None, expected: dict[str, Any] | None) -> None:
    body = encode(request(tools=(WEATHER,), tool_choice=choice))

    assert body.get("tool_choice") == expected
    assert body["tools"] == [{"name": "get_weather", "input_schema": WEATHER.parameters}]


def test_parallel_tool_calls_false_disables_parallel_use() -> None:
    body = encode(
        request(tools=(WEATHER,), tool_choice=ToolChoice(mode="required"), parallel_tool_calls=False)
    )

    assert body["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}


def test_tool_choice_without_tools_is_not_sent() -> None:
    assert "tool_choice" not in encode(request(tool_choice=ToolChoice(mode="required")))


def test_tool_schema_gets_an_object_type_and_strict_tools_a_closed_schema() -> None:
    loose = Tool(name="f", description="does f", parameters={"properties": {"a": {"type": "string"}}})
    strict = Tool(name="g", parameters={"type": "object", "properties": {}}, strict=True)
    body = encode(request(tools=(loose, strict)))

    assert body["tools"] == [
        {
            "name": "f",
            "description": "does f",
            "input_schema": {"type": "object", "properties": {"a": {"type": "string"}}},
        },
        {
            "name": "g",
            "input_schema": {"type": "object", "properties": {}, "additionalProperties": False},
            "strict": True,
        },
    ]


# --- reasoning replay -----------------------------------------------------------------------------


def test_signed_reasoning_is_replayed_as_a_leading_thinking_block() -> None:
    turn = assistant("The answer is 21.", reasoning="GCD steps...", reasoning_signature="EqQBCgIY")
    body = encode(request(user("gcd?"), turn, user("sure?")))

    assert body["messages"][1]["content"] == [
        {"type": "thinking", "thinking": "GCD steps...", "signature": "EqQBCgIY"},
        {"type": "text", "text": "The answer is 21."},
    ]


def test_unsigned_reasoning_is_not_replayed() -> None:
    body = encode(request(user("gcd?"), assistant("21", reasoning="steps"), user("sure?")))

    assert body["messages"][1]["content"] == [{"type": "text", "text": "21"}]


# --- content parts --------------------------------------------------------------------------------


def test_documents_pdf_text_and_url() -> None:
    text = base64.b64encode("Grüße".encode()).decode()
    parts = (
        DocumentPart(media_type="application/pdf", data="JVBERi0x", name="report.pdf"),
        DocumentPart(media_type="text/plain", data=text),
        DocumentPart(media_type="application/pdf", url="https://example.com/a.pdf"),
    )
    body = encode(request(Message(role="user", content=parts)))

    assert body["messages"][0]["content"] == [
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0x"},
            "title": "report.pdf",
        },
        {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "Grüße"}},
        {"type": "document", "source": {"type": "url", "url": "https://example.com/a.pdf"}},
    ]


@pytest.mark.parametrize(
    "part",
    [
        AudioPart(data="UklGRg==", format="wav"),
        ImagePart(url="ftp://example.com/cat.png"),
        DocumentPart(media_type="application/msword", data="AAAA"),
        DocumentPart(media_type="text/plain", data="not base64!"),
        DocumentPart(media_type="application/pdf"),
    ],
)
def test_parts_anthropic_cannot_take_are_a_400(part: Any) -> None:
    with pytest.raises(InvalidRequestError) as info:
        encode(request(Message(role="user", content=(TextPart("see"), part))))

    assert info.value.param == "messages[0].content[1]"


# --- structured output and the rest ---------------------------------------------------------------


def test_json_schema_becomes_output_config_with_closed_objects() -> None:
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "where": {"type": "object", "properties": {"lat": {"type": "number"}}},
            "tags": {"type": "array", "items": {"type": "object", "properties": {"k": {"type": "string"}}}},
            "kind": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        },
        "required": ["city"],
    }
    original = copy.deepcopy(schema)
    body = encode(request(response_format=ResponseFormat(type="json_schema", schema=schema, name="city")))

    out = body["output_config"]["format"]
    assert out["type"] == "json_schema"
    assert set(out) == {"type", "schema"}  # Anthropic rejects OpenAI's name/strict here
    assert out["schema"]["additionalProperties"] is False
    assert out["schema"]["properties"]["where"]["additionalProperties"] is False
    assert out["schema"]["properties"]["tags"]["items"]["additionalProperties"] is False
    assert out["schema"]["properties"]["kind"] == {"anyOf": [{"type": "string"}, {"type": "integer"}]}
    assert schema == original


def test_json_object_becomes_a_system_instruction() -> None:
    alone = encode(request(response_format=ResponseFormat(type="json_object")))
    assert alone["system"] == JSON_OBJECT_INSTRUCTION
    assert "output_config" not in alone

    system = Message(role="system", content=(TextPart("Be brief."),))
    joined = encode(request(system, HELLO, response_format=ResponseFormat(type="json_object")))
    assert joined["system"] == f"Be brief.\n\n{JSON_OBJECT_INSTRUCTION}"


def test_user_becomes_metadata_and_unexpressible_fields_are_dropped() -> None:
    body = encode(
        request(user="u-42", metadata={"trace": "x"}, seed=3, presence_penalty=0.5, frequency_penalty=0.1)
    )

    assert body["metadata"] == {"user_id": "u-42"}
    assert not {"seed", "presence_penalty", "frequency_penalty", "trace"} & set(body)


def test_strict_schema_leaves_explicit_nested_values_and_non_objects() -> None:
    schema = {
        "type": ["object", "null"],
        "properties": {"n": {"type": "integer"}},
        "$defs": {"p": {"properties": {}}},
    }

    assert strict_schema(schema) == {
        "type": ["object", "null"],
        "properties": {"n": {"type": "integer"}},
        "$defs": {"p": {"properties": {}, "additionalProperties": False}},
        "additionalProperties": False,
    }
