"""``POST /v1/responses`` with the official ``openai`` SDK: the Responses object, and what the upstream got.

Translated upstreams (an OpenAI-compatible chat API registered as Groq, Anthropic, Gemini) must receive
the conversation, tools, tool results and options in their own dialect; OpenAI's native Responses API
must receive the client's bytes and give back its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import orjson
import pytest

from gomodel.testing.fake_gemini_wire import TOOL_ARGUMENTS
from tests.harness import MASTER_KEY, Gateway
from tests.ingress.fixtures.upstreams import OPENAI_KEY, Target, fixture_bytes, open_target, openai_sdk

WEATHER: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
}
ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"answer": {"type": "string"}},
    "required": ["answer"],
    "additionalProperties": False,
}
PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


@pytest.fixture(params=["openai", "anthropic", "gemini"])
def translated(request: pytest.FixtureRequest, make_gateway: Callable[..., Gateway]) -> Iterator[Target]:
    with open_target(request.param, make_gateway) as running:
        yield running


@pytest.fixture
def chat(make_gateway: Callable[..., Gateway]) -> Iterator[Target]:
    """The OpenAI-compatible fake behind a provider type without a Responses API (Groq)."""
    with open_target("openai", make_gateway) as running:
        yield running


@pytest.fixture
def native(make_gateway: Callable[..., Gateway]) -> Iterator[Target]:
    with open_target("openai-native", make_gateway) as running:
        yield running


# --- translated -----------------------------------------------------------------------------------------


def test_create_builds_a_responses_object(translated: Target) -> None:
    response = openai_sdk(translated.gateway).responses.create(
        model=translated.model,
        input="hello there",
        instructions="Be brief.",
        max_output_tokens=50,
        temperature=0.3,
        metadata={"ticket": "T-1"},
    )

    expected = {
        "openai": "tok0 tok1 tok2 ",
        "anthropic": "tok0 tok1 tok2 tok3 tok4 ",
        "gemini": "tok0 tok1 tok2 naïve ☃",
    }
    assert response.object == "response"
    assert response.id.startswith("resp_")
    assert response.status == "completed"
    assert response.model == translated.model
    assert response.output_text == expected[translated.kind]
    assert [item.type for item in response.output] == ["message"]
    assert (response.instructions, response.max_output_tokens, response.temperature) == ("Be brief.", 50, 0.3)
    assert response.metadata == {"ticket": "T-1"}
    assert response.store is False
    assert response.usage is not None
    assert response.usage.input_tokens > 0
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens

    (sent,) = translated.calls()
    if translated.kind == "openai":
        assert sent.path == "/v1/chat/completions"
        assert sent.json == {
            "model": "gpt-fake",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "hello there"},
            ],
            "max_tokens": 50,
            "temperature": 0.3,
            "metadata": {"ticket": "T-1"},
        }
    elif translated.kind == "anthropic":
        assert sent.json == {
            "model": "claude-fake",
            "system": "Be brief.",
            "messages": [{"role": "user", "content": [{"type": "text", "text": "hello there"}]}],
            "max_tokens": 50,
            "temperature": 0.3,
        }
    else:
        assert sent.json == {
            "contents": [{"role": "user", "parts": [{"text": "hello there"}]}],
            "systemInstruction": {"parts": [{"text": "Be brief."}]},
            "generationConfig": {"temperature": 0.3, "maxOutputTokens": 50},
        }


def test_function_call_output_round_trip(translated: Target) -> None:
    client = openai_sdk(translated.gateway)
    first = client.responses.create(model=translated.model, input="weather in Paris?", tools=[WEATHER])
    calls = [item for item in first.output if item.type == "function_call"]
    assert [call.name for call in calls] == ["get_weather"]
    call = calls[0]
    assert call.call_id
    assert call.id.startswith("fc_")

    history: list[Any] = [
        {"role": "user", "content": "weather in Paris?"},
        *[item.to_dict() for item in first.output],
        {"type": "function_call_output", "call_id": call.call_id, "output": "Sunny, 21 C"},
    ]
    second = client.responses.create(model=translated.model, input=history, tools=[WEATHER])

    assert second.status == "completed"
    assert [item.type for item in second.output] == ["message"]
    sent = translated.calls()[-1].json
    if translated.kind == "openai":
        assert second.output_text == "results: Sunny, 21 C"
        assert sent["messages"] == [
            {"role": "user", "content": "weather in Paris?"},
            {
                "role": "assistant",
                "content": "Let me check.",
                "tool_calls": [
                    {
                        "id": call.call_id,
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": call.arguments},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": call.call_id, "content": "Sunny, 21 C"},
        ]
        assert sent["tools"] == [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "parameters": WEATHER["parameters"],
                    "description": "Weather for a city",
                },
            }
        ]
    elif translated.kind == "anthropic":
        assert second.output_text == "tok0 tok1 tok2 tok3 tok4 "
        assert sent["messages"] == [
            {"role": "user", "content": [{"type": "text", "text": "weather in Paris?"}]},
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Let me check."},
                    {
                        "type": "tool_use",
                        "id": call.call_id,
                        "name": "get_weather",
                        "input": orjson.loads(call.arguments),
                    },
                ],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": call.call_id, "content": "Sunny, 21 C"}],
            },
        ]
    else:
        assert second.output_text == "results: get_weather"
        model_turn, answer_turn = sent["contents"][1:]
        assert model_turn["parts"][0]["functionCall"] == {
            "name": "get_weather",
            "args": {**TOOL_ARGUMENTS, "n": 0},
        }
        assert model_turn["parts"][0]["thoughtSignature"]
        assert answer_turn["parts"][0]["functionResponse"]["name"] == "get_weather"
        assert "Sunny, 21 C" in orjson.dumps(answer_turn["parts"][0]["functionResponse"]["response"]).decode()


def test_reasoning_items_can_be_sent_back(translated: Target) -> None:
    """Clients replay the whole output, reasoning items included; no upstream may choke on them."""
    client = openai_sdk(translated.gateway)
    first = client.responses.create(
        model=translated.reasoner, input="hello there", reasoning={"effort": "low"}, max_output_tokens=4000
    )
    assert [item.type for item in first.output] == ["reasoning", "message"]

    history = [{"role": "user", "content": "hello there"}, *[item.to_dict() for item in first.output]]
    second = client.responses.create(
        model=translated.reasoner,
        input=[*history, {"role": "user", "content": "and now?"}],
        reasoning={"effort": "low"},
        max_output_tokens=4000,
    )

    assert second.status == "completed"
    assert second.output_text


def test_options_reach_a_chat_upstream(chat: Target) -> None:
    openai_sdk(chat.gateway).responses.create(
        model="gpt-fake",
        input=[
            {"role": "developer", "content": "Answer in JSON."},
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "what is this?"},
                    {"type": "input_image", "image_url": f"data:image/png;base64,{PIXEL}", "detail": "low"},
                ],
            },
        ],
        tools=[WEATHER],
        tool_choice={"type": "function", "name": "get_weather"},
        parallel_tool_calls=False,
        text={"format": {"type": "json_schema", "name": "answer", "schema": ANSWER_SCHEMA, "strict": True}},
        reasoning={"effort": "high"},
        top_p=0.9,
        user="alice",
    )

    (sent,) = chat.calls()
    assert sent.json == {
        "model": "gpt-fake",
        "messages": [
            {"role": "system", "content": "Answer in JSON."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is this?"},
                    {
                        "type": "image_url",
                        "image_url": {"url": f"data:image/png;base64,{PIXEL}", "detail": "low"},
                    },
                ],
            },
        ],
        "top_p": 0.9,
        "parallel_tool_calls": False,
        "reasoning_effort": "high",
        "user": "alice",
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "parameters": WEATHER["parameters"],
                    "description": "Weather for a city",
                },
            }
        ],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": ANSWER_SCHEMA, "strict": True},
        },
    }


def test_structured_output_and_forced_tool_reach_anthropic_and_gemini(
    make_gateway: Callable[..., Gateway],
) -> None:
    fmt = {"format": {"type": "json_schema", "name": "answer", "schema": ANSWER_SCHEMA, "strict": True}}
    for kind in ("anthropic", "gemini"):
        with open_target(kind, make_gateway) as target:
            client = openai_sdk(target.gateway)
            structured = client.responses.create(model=target.model, input="hello there", text=fmt)
            forced = client.responses.create(
                model=target.model,
                input="hello there",
                tools=[WEATHER],
                tool_choice={"type": "function", "name": "get_weather"},
            )

            assert orjson.loads(structured.output_text)["answer"]
            assert [item.type for item in forced.output if item.type == "function_call"] == ["function_call"]
            first, second = (call.json for call in target.calls())
            if kind == "anthropic":
                assert first["output_config"] == {"format": {"type": "json_schema", "schema": ANSWER_SCHEMA}}
                assert second["tool_choice"] == {"type": "tool", "name": "get_weather"}
            else:
                assert first["generationConfig"]["responseMimeType"] == "application/json"
                assert first["generationConfig"]["responseJsonSchema"] == ANSWER_SCHEMA
                assert second["toolConfig"] == {
                    "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}
                }


def test_parallel_function_call_outputs_go_back_together(translated: Target) -> None:
    clock = {"type": "function", "name": "get_time", "parameters": {"type": "object", "properties": {}}}
    client = openai_sdk(translated.gateway)
    first = client.responses.create(model=translated.model, input="hi", tools=[WEATHER, clock])
    calls = [item for item in first.output if item.type == "function_call"]
    assert [call.name for call in calls] == ["get_weather", "get_time"]

    outputs = [
        {"type": "function_call_output", "call_id": call.call_id, "output": f"{call.name} done"}
        for call in calls
    ]
    history = [{"role": "user", "content": "hi"}, *[item.to_dict() for item in first.output], *outputs]
    second = client.responses.create(model=translated.model, input=history, tools=[WEATHER, clock])

    assert second.status == "completed"
    sent = translated.calls()[-1].json
    if translated.kind == "openai":
        assert second.output_text == "results: get_weather done, get_time done"
        assistant, *tool_turns = sent["messages"][1:]
        assert [call["id"] for call in assistant["tool_calls"]] == [call.call_id for call in calls]
        assert [turn["tool_call_id"] for turn in tool_turns] == [call.call_id for call in calls]
    elif translated.kind == "anthropic":
        # Both results in the one user turn that follows the calls, as Anthropic requires.
        assistant, results = sent["messages"][1:]
        assert [b["id"] for b in assistant["content"] if b["type"] == "tool_use"] == [
            c.call_id for c in calls
        ]
        assert [b["tool_use_id"] for b in results["content"]] == [call.call_id for call in calls]
    else:
        assert second.output_text == "results: get_weather, get_time"
        model_turn, answers = sent["contents"][1:]
        assert [part["functionCall"]["name"] for part in model_turn["parts"]] == ["get_weather", "get_time"]
        assert [part["functionResponse"]["name"] for part in answers["parts"]] == ["get_weather", "get_time"]


def test_images_and_files_reach_each_upstream_in_its_own_shape(translated: Target) -> None:
    openai_sdk(translated.gateway).responses.create(
        model=translated.model,
        input=[
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "what are these?"},
                    {"type": "input_image", "image_url": f"data:image/png;base64,{PIXEL}"},
                    {
                        "type": "input_file",
                        "filename": "a.pdf",
                        "file_data": "data:application/pdf;base64,JVBERi0K",
                    },
                ],
            }
        ],
    )

    (sent,) = translated.calls()
    if translated.kind == "openai":
        assert sent.json["messages"][0]["content"] == [
            {"type": "text", "text": "what are these?"},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PIXEL}"}},
            {
                "type": "file",
                "file": {"file_data": "data:application/pdf;base64,JVBERi0K", "filename": "a.pdf"},
            },
        ]
    elif translated.kind == "anthropic":
        assert sent.json["messages"][0]["content"] == [
            {"type": "text", "text": "what are these?"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PIXEL}},
            {
                "type": "document",
                "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0K"},
                "title": "a.pdf",
            },
        ]
    else:
        assert sent.json["contents"][0]["parts"] == [
            {"text": "what are these?"},
            {"inlineData": {"mimeType": "image/png", "data": PIXEL}},
            {"inlineData": {"mimeType": "application/pdf", "data": "JVBERi0K"}},
        ]


# --- native relay ---------------------------------------------------------------------------------------


def test_native_relay_passes_request_and_answer_bytes_untouched(native: Target) -> None:
    sent_by_client: list[httpx2.Request] = []

    def capture(request: httpx2.Request) -> None:
        request.read()
        sent_by_client.append(request)

    client = openai_sdk(
        native.gateway, http_client=httpx2.Client(timeout=20, event_hooks={"request": [capture]})
    )
    # Built-in tools and fields the translator would refuse are OpenAI's to judge on this path.
    raw = client.responses.with_raw_response.create(
        model="gpt-fake",
        input="hello there",
        tools=[{"type": "web_search"}],
        include=["reasoning.encrypted_content"],
        store=False,
    )

    assert raw.http_response.content == fixture_bytes("responses_text.json")
    assert raw.parse().output_text == "Hi there! How can I assist you today?"
    (received,) = native.calls()
    assert received.path == "/v1/responses"
    assert received.body == sent_by_client[0].content
    assert received.headers["Authorization"] == f"Bearer {OPENAI_KEY}"
    assert all(MASTER_KEY not in value for value in received.headers.values())


def test_native_relay_with_a_provider_prefix_rewrites_only_the_model(native: Target) -> None:
    openai_sdk(native.gateway).responses.create(model="openai/gpt-fake", input="hello there", temperature=0.2)

    (received,) = native.calls()
    assert received.json == {"model": "gpt-fake", "input": "hello there", "temperature": 0.2}


def test_native_relay_is_not_used_for_a_provider_type_without_responses(chat: Target) -> None:
    openai_sdk(chat.gateway).responses.create(model="gpt-fake", input="hello there")

    assert [call.path for call in chat.calls()] == ["/v1/chat/completions"]


@pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
def test_reasoning_with_tool_calls_round_trips_to_anthropic_with_its_signature(
    make_gateway: Callable[..., Gateway], stream: bool
) -> None:
    """With thinking on, Anthropic rejects an assistant turn that called a tool without its signed
    thinking block ('Expected `thinking` or `redacted_thinking`, but found `tool_use`'): the signature
    goes out in the reasoning item's encrypted_content and must come back from it."""
    with open_target("anthropic", make_gateway) as target:
        client = openai_sdk(target.gateway)
        ask: dict[str, Any] = {
            "model": "claude-fake",
            "tools": [WEATHER],
            "reasoning": {"effort": "low"},
            "include": ["reasoning.encrypted_content"],
        }
        if stream:
            with client.responses.stream(input="weather in Paris?", **ask) as events:
                first = events.get_final_response()
        else:
            first = client.responses.create(input="weather in Paris?", **ask)
        assert [item.type for item in first.output] == ["reasoning", "message", "function_call"]
        call = first.output[2]
        history = [
            {"role": "user", "content": "weather in Paris?"},
            *[item.to_dict() for item in first.output],
            {"type": "function_call_output", "call_id": call.call_id, "output": "Sunny"},  # type: ignore[union-attr]
        ]
        client.responses.create(input=history, **ask)

        assistant = target.calls()[-1].json["messages"][1]
        assert assistant["role"] == "assistant"
        assert assistant["content"][0] == {
            "type": "thinking",
            "thinking": "Thinking it over.",
            "signature": "sig-msg_fake_1",
        }
