"""`gomodel.dialects.openai_chat_response`: chat-completion objects <-> wire-neutral `ChatResponse`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from openai.types.chat import ChatCompletion

from gomodel.core.chat import ChatResponse, ToolCall
from gomodel.core.errors import UpstreamError
from gomodel.core.records import Usage
from gomodel.dialects.openai_chat_response import decode_chat_response, encode_chat_response, finish_reason

FIXTURES = Path(__file__).parent / "fixtures"
TRANSLATE = FIXTURES / "openai_translate"


def read(path: Path) -> bytes:
    return path.read_bytes()


# --- finish_reason --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("stop", "stop"),
        ("length", "length"),
        ("tool_calls", "tool_calls"),
        ("function_call", "tool_calls"),
        ("content_filter", "content_filter"),
        ("error", "error"),
        ("eos", "stop"),
        ("", "stop"),
        (None, "stop"),
        (1, "stop"),
        (["stop"], "stop"),
    ],
)
def test_finish_reason(value: Any, expected: str) -> None:
    assert finish_reason(value) == expected


# --- decode ---------------------------------------------------------------------------------------


def test_decode_text_completion_with_cached_tokens() -> None:
    response = decode_chat_response(read(FIXTURES / "chat_completion.json"), "openai")

    assert response == ChatResponse(
        id="chatcmpl-C3kA1nY8uHq2WcZt5Jx0LmPe7RsVb",
        model="gpt-4o-2024-08-06",
        created=1754822641,
        content="Hello! How can I help you today?",
        finish_reason="stop",
        usage=Usage(
            prompt_tokens=1117,
            completion_tokens=46,
            total_tokens=1163,
            cached_tokens=1024,
            reasoning_tokens=0,
        ),
    )


def test_decode_parallel_tool_calls() -> None:
    response = decode_chat_response(read(TRANSLATE / "completion_tool_calls.json"), "openai")

    assert response.content is None
    assert response.finish_reason == "tool_calls"
    assert response.tool_calls == (
        ToolCall(
            id="call_9pLq2mXf8R1sT4vW6yZ0aB3c",
            name="get_current_weather",
            arguments='{"location":"Zürich, CH","unit":"celsius"}',
        ),
        ToolCall(
            id="call_Hk3nD7eQ2jM5pR8tV1wX4yZ6",
            name="get_current_weather",
            arguments='{"location":"東京, JP","unit":"celsius"}',
        ),
    )
    assert response.usage == Usage(
        prompt_tokens=82, completion_tokens=57, total_tokens=139, cached_tokens=0, reasoning_tokens=0
    )


def test_decode_reasoning_content_and_length() -> None:
    response = decode_chat_response(read(TRANSLATE / "completion_reasoning_content.json"), "deepseek")

    assert response.reasoning is not None
    assert response.reasoning.startswith("s-t-r-a-w")
    assert response.content == "There are **3** Rs in “strawberry”."
    assert response.finish_reason == "length"
    assert response.usage is not None
    assert response.usage.reasoning_tokens == 241


def test_decode_openrouter_style_reasoning_field() -> None:
    body = {
        "id": "gen-1",
        "model": "m",
        "created": 1,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok", "reasoning": "hmm"}}],
    }

    response = decode_chat_response(orjson.dumps(body), "openrouter")

    assert (response.reasoning, response.content, response.usage) == ("hmm", "ok", None)


def test_decode_tolerates_missing_metadata() -> None:
    body = {"choices": [{"message": {"content": "hi"}, "finish_reason": None}]}

    response = decode_chat_response(orjson.dumps(body), "p")

    assert response == ChatResponse(id="", model="", created=0, content="hi")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"<html>502 Bad Gateway</html>", id="not json"),
        pytest.param(b"[]", id="array"),
        pytest.param(b'{"object":"chat.completion"}', id="no choices"),
        pytest.param(b'{"choices":[]}', id="empty choices"),
        pytest.param(b'{"choices":["x"]}', id="choice not an object"),
    ],
)
def test_decode_garbage_is_an_upstream_error(body: bytes) -> None:
    with pytest.raises(UpstreamError) as caught:
        decode_chat_response(body, "acme")

    assert caught.value.status == 502
    assert "acme" in caught.value.message


def test_decode_object_arguments_become_json_text() -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": {"city": "Zürich"}}}
    body = {"choices": [{"message": {"content": None, "tool_calls": [call]}, "finish_reason": "tool_calls"}]}

    (decoded,) = decode_chat_response(orjson.dumps(body), "p").tool_calls

    assert orjson.loads(decoded.arguments) == {"city": "Zürich"}


# --- encode ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        FIXTURES / "chat_completion.json",
        FIXTURES / "reasoning_completion.json",
        TRANSLATE / "completion_tool_calls.json",
        TRANSLATE / "completion_reasoning_content.json",
    ],
    ids=lambda p: p.name,
)
def test_decode_then_encode_keeps_what_clients_read(name: Path) -> None:
    original = orjson.loads(read(name))

    encoded = orjson.loads(encode_chat_response(decode_chat_response(read(name), "p")))

    for key in ("id", "created", "model"):
        assert encoded[key] == original[key]
    assert encoded["object"] == "chat.completion"
    (choice,) = encoded["choices"]
    message, source = choice["message"], original["choices"][0]["message"]
    assert choice["finish_reason"] == original["choices"][0]["finish_reason"]
    assert message["role"] == "assistant"
    assert message["content"] == source.get("content")
    assert message.get("reasoning_content") == (source.get("reasoning_content") or source.get("reasoning"))
    assert message.get("tool_calls") == source.get("tool_calls")
    for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
        assert encoded["usage"][key] == original["usage"][key]
    for group, detail in (
        ("prompt_tokens_details", "cached_tokens"),
        ("completion_tokens_details", "reasoning_tokens"),
    ):
        if detail in original["usage"].get(group, {}):
            assert encoded["usage"][group][detail] == original["usage"][group][detail]


def test_encode_is_a_valid_sdk_chat_completion() -> None:
    response = ChatResponse(
        id="chatcmpl-x",
        model="claude-sonnet-4",
        created=1755000000,
        content="Let me check.",
        reasoning="The user wants weather.",
        tool_calls=(ToolCall(id="toolu_01A", name="get_weather", arguments='{"city":"Zürich"}'),),
        finish_reason="tool_calls",
        usage=Usage(prompt_tokens=10, completion_tokens=5, total_tokens=15, cached_tokens=3),
    )

    completion = ChatCompletion.model_validate(orjson.loads(encode_chat_response(response)))

    assert (completion.id, completion.model, completion.created) == (
        "chatcmpl-x",
        "claude-sonnet-4",
        1755000000,
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content == "Let me check."
    assert choice.message.refusal is None
    assert choice.message.tool_calls is not None
    (call,) = choice.message.tool_calls
    assert (call.id, call.type, call.function.name) == ("toolu_01A", "function", "get_weather")
    assert orjson.loads(call.function.arguments) == {"city": "Zürich"}
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.total_tokens) == (10, 15)
    assert completion.usage.prompt_tokens_details is not None
    assert completion.usage.prompt_tokens_details.cached_tokens == 3
    assert (choice.message.model_extra or {}).get("reasoning_content") == "The user wants weather."


def test_encode_without_usage_or_tools_has_no_such_keys() -> None:
    body = orjson.loads(encode_chat_response(ChatResponse(id="a", model="m", created=1, content="hi")))

    assert "usage" not in body
    assert body["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "hi", "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ]


def test_encode_total_tokens_falls_back_to_the_sum() -> None:
    response = ChatResponse(id="a", model="m", created=1, usage=Usage(prompt_tokens=4, completion_tokens=6))

    body = orjson.loads(encode_chat_response(response))

    assert body["usage"] == {"prompt_tokens": 4, "completion_tokens": 6, "total_tokens": 10}
    assert body["choices"][0]["message"]["content"] is None
