"""`gomodel.dialects.openai_chat_request`: OpenAI request JSON <-> wire-neutral `ChatRequest`.

Decoding must reject every shape translation cannot carry with a 400 naming the parameter; decoding a
realistic request and encoding it again must give an equivalent OpenAI request (the normalisation
below spells out what "equivalent" allows).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import attrs
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
from gomodel.dialects.openai_chat_request import decode_chat_request, encode_chat_request
from gomodel.testing import fake_upstream_wire as wire

FIXTURES = Path(__file__).parent / "fixtures" / "openai_translate"
REQUEST_FIXTURES = sorted(p.name for p in FIXTURES.glob("request_*.json"))
USER = {"role": "user", "content": "Hello!"}
PNG = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def load(name: str) -> dict[str, Any]:
    payload: dict[str, Any] = orjson.loads((FIXTURES / name).read_bytes())
    return payload


def request(**fields: Any) -> dict[str, Any]:
    """A valid request body with ``fields`` added or replaced."""
    return {"model": "gpt-4o", "messages": [USER], **fields}


def with_message(message: Any) -> dict[str, Any]:
    return request(messages=[USER, message])


# --- equivalence ----------------------------------------------------------------------------------


def _text_only(content: Any) -> bool:
    return isinstance(content, list) and all(p.get("type") == "text" for p in content)


def _normalise_message(message: dict[str, Any]) -> dict[str, Any]:
    out = dict(message)
    out.pop("reasoning_content", None)  # replayed reasoning has no OpenAI request field
    if out["role"] == "developer":
        out["role"] = "system"
    content = out.get("content")
    if isinstance(content, list) and (out["role"] in ("system", "assistant", "tool") or _text_only(content)):
        out["content"] = "".join(p["text"] for p in content if p.get("type") == "text")
    if isinstance(out.get("content"), list):
        out["content"] = [_normalise_part(p) for p in out["content"]]
    if out["role"] == "assistant":
        if "function_call" in out:  # legacy: one call, given the id the decoder makes up
            call = out.pop("function_call")
            out["tool_calls"] = [{"id": "call_0", "type": "function", "function": call}]
        if out.get("tool_calls"):
            out["content"] = out.get("content") or None
        else:
            out.pop("tool_calls", None)
            out["content"] = out.get("content") or ""
    if out["role"] == "function":  # legacy tool result answers the legacy call above it
        out = {"role": "tool", "tool_call_id": "call_0", "content": out["content"]}
    if out["role"] == "user" and out.get("content") is None:
        out["content"] = ""
    return out


def _normalise_part(part: dict[str, Any]) -> dict[str, Any]:
    if part["type"] == "file":
        file = dict(part["file"])
        if not file["file_data"].startswith("data:"):
            file["file_data"] = "data:application/pdf;base64," + file["file_data"]
        return {"type": "file", "file": file}
    return part


def _normalise_tool(tool: dict[str, Any]) -> dict[str, Any]:
    function = dict(tool["function"])
    function.setdefault("parameters", {"type": "object", "properties": {}})
    return {"type": "function", "function": function}


def equivalent(payload: dict[str, Any]) -> dict[str, Any]:
    """What the encoder should produce for ``payload``: the same request in the encoder's spelling."""
    out = copy.deepcopy(payload)
    out["messages"] = [_normalise_message(m) for m in out["messages"]]
    if "max_completion_tokens" in out or "max_tokens" in out:
        out["max_completion_tokens"] = out.pop("max_completion_tokens", out.pop("max_tokens", None))
        out.pop("max_tokens", None)
    if isinstance(out.get("stop"), str):
        out["stop"] = [out["stop"]]
    if out.get("stream"):
        out["stream_options"] = {"include_usage": True}  # the gateway always wants stream usage
    else:
        out.pop("stream", None)
        out.pop("stream_options", None)
    if "functions" in out:
        out["tools"] = [{"type": "function", "function": f} for f in out.pop("functions")]
    if "function_call" in out:
        legacy = out.pop("function_call")
        out["tool_choice"] = {"type": "function", "function": legacy} if isinstance(legacy, dict) else legacy
    if "tools" in out:
        out["tools"] = [_normalise_tool(t) for t in out["tools"]]
    return {k: v for k, v in out.items() if v is not None}


# --- round trips on realistic requests ------------------------------------------------------------


@pytest.mark.parametrize("name", REQUEST_FIXTURES)
def test_decode_then_encode_gives_an_equivalent_request(name: str) -> None:
    payload = load(name)

    encoded = encode_chat_request(decode_chat_request(payload), max_tokens_field="max_completion_tokens")

    assert encoded == equivalent(payload)


def _messages_view(request_: ChatRequest) -> list[tuple[Any, ...]]:
    """Messages as OpenAI can carry them: adjacent text parts merge, replayed reasoning is not sent,
    and tool results have no name (only the legacy role=function message had one)."""
    return [
        (
            m.role,
            m.text,
            [p for p in m.content if not isinstance(p, TextPart)],
            m.tool_calls,
            m.tool_call_id,
            None if m.role == "tool" else m.name,
        )
        for m in request_.messages
    ]


@pytest.mark.parametrize("name", REQUEST_FIXTURES)
def test_encode_then_decode_keeps_the_neutral_request(name: str) -> None:
    neutral = decode_chat_request(load(name))

    again = decode_chat_request(encode_chat_request(neutral))

    assert attrs.evolve(again, messages=()) == attrs.evolve(neutral, messages=())
    assert _messages_view(again) == _messages_view(neutral)
    assert encode_chat_request(again) == encode_chat_request(neutral), "encoding is idempotent"


@pytest.mark.parametrize("name", REQUEST_FIXTURES)
def test_encoded_request_passes_the_strict_fake_upstream_validator(name: str) -> None:
    encoded = orjson.loads(orjson.dumps(encode_chat_request(decode_chat_request(load(name)))))

    checked = wire.validate_chat(encoded)

    assert checked.model == load(name)["model"]
    assert checked.include_usage is bool(load(name).get("stream"))


def test_vision_fixture_decodes_to_parts() -> None:
    neutral = decode_chat_request(load("request_vision.json"))

    system, user = neutral.messages
    assert system == Message(role="system", content=(TextPart(system.text),))
    assert user.name == "curator_ana"
    text, remote, inline, plain = user.content
    assert isinstance(text, TextPart)
    assert remote == ImagePart(url=remote.url, detail="high")
    assert remote.inline is None
    assert inline == ImagePart(url=PNG, detail="low")
    assert inline.inline == ("image/png", PNG.partition(",")[2])
    assert plain == ImagePart(url="https://example.com/plain.jpg")
    assert (neutral.max_tokens, neutral.temperature, neutral.stop) == (300, 0.2, ("\n\n###",))
    assert neutral.stream is False


def test_tools_fixture_decodes_every_field() -> None:
    neutral = decode_chat_request(load("request_tools_stream.json"))

    assert neutral.stream is True
    assert neutral.max_tokens == 512, "max_completion_tokens wins over the deprecated max_tokens"
    assert neutral.tool_choice == ToolChoice(mode="tool", name="get_current_weather")
    assert neutral.parallel_tool_calls is False
    assert (neutral.top_p, neutral.presence_penalty, neutral.frequency_penalty) == (0.9, 0.5, -0.25)
    assert (neutral.seed, neutral.user) == (42, "user-1234")
    assert neutral.stop == ("</answer>", "\nObservation:")
    assert neutral.metadata == {"session": "abc-123", "tenant": "acme"}
    weather, clock = neutral.tools
    assert weather.strict is True
    assert weather.description
    assert weather.parameters["required"] == ["location", "unit"]
    assert clock == Tool(name="get_time", parameters={"type": "object", "properties": {}})
    assistant = neutral.messages[2]
    assert assistant.content == ()
    assert [c.id for c in assistant.tool_calls] == [
        "call_9pLq2mXf8R1sT4vW6yZ0aB3c",
        "call_Hk3nD7eQ2jM5pR8tV1wX4yZ6",
    ]
    assert orjson.loads(assistant.tool_calls[1].arguments)["location"] == "東京, JP"
    first_result, second_result = neutral.messages[3:5]
    assert (first_result.role, first_result.tool_call_id) == ("tool", "call_9pLq2mXf8R1sT4vW6yZ0aB3c")
    assert second_result.text == '{"temperature": 21, "conditions": "晴れ"}'


def test_structured_output_fixture() -> None:
    neutral = decode_chat_request(load("request_structured.json"))

    assert neutral.messages[0].role == "system"
    assert neutral.reasoning_effort == "high"
    assert neutral.tool_choice == ToolChoice(mode="none")
    assert neutral.response_format is not None
    assert (neutral.response_format.type, neutral.response_format.name) == ("json_schema", "calendar_event")
    assert neutral.response_format.strict is True
    assert neutral.response_format.schema is not None
    assert neutral.response_format.schema["required"] == ["name", "date", "participants"]


def test_reasoning_content_on_assistant_messages_is_kept_as_reasoning() -> None:
    neutral = decode_chat_request(load("request_json_mode.json"))

    assistant = neutral.messages[2]
    assert assistant.reasoning == "Compare the tenths: 8 > 1, so 9.8 is larger."
    assert assistant.text == '{"greater": 9.8}'
    assert neutral.response_format == ResponseFormat(type="json_object")
    assert neutral.tool_choice == ToolChoice(mode="required")
    assert neutral.temperature == 1.0
    assert isinstance(neutral.temperature, float)


def test_empty_reasoning_content_is_no_reasoning() -> None:
    message = {"role": "assistant", "content": "x", "reasoning_content": ""}

    assert decode_chat_request(with_message(message)).messages[1].reasoning is None


def test_audio_and_file_fixture_decodes_to_parts() -> None:
    neutral = decode_chat_request(load("request_audio_file.json"))

    _, wav, mp3, pdf = neutral.messages[0].content
    assert wav == AudioPart(data="UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQAAAAA=", format="wav")
    assert isinstance(mp3, AudioPart)
    assert mp3.format == "mp3"
    assert isinstance(pdf, DocumentPart)
    assert (pdf.media_type, pdf.name, pdf.url) == ("application/pdf", "draconomicon.pdf", None)
    assert pdf.data is not None
    assert pdf.data.startswith("JVBERi0")
    assert neutral.temperature == 0.0


def test_legacy_functions_become_tools() -> None:
    neutral = decode_chat_request(load("request_legacy_functions.json"))

    assert [t.name for t in neutral.tools] == ["get_current_weather"]
    assert neutral.tool_choice == ToolChoice(mode="tool", name="get_current_weather")
    _, assistant, result = neutral.messages
    assert assistant.tool_calls == (
        ToolCall(id="call_0", name="get_current_weather", arguments='{\n  "location": "Boston, MA"\n}'),
    )
    assert result.role == "tool"
    assert result.text.startswith('{"temperature"')


def test_legacy_function_result_answers_the_legacy_call() -> None:
    neutral = decode_chat_request(load("request_legacy_functions.json"))

    _, assistant, result = neutral.messages
    assert result.tool_call_id == assistant.tool_calls[0].id


@pytest.mark.parametrize(
    ("legacy", "expected"),
    [
        ("auto", ToolChoice(mode="auto")),
        ("none", ToolChoice(mode="none")),
        ({"name": "f"}, ToolChoice(mode="tool", name="f")),
    ],
)
def test_legacy_function_call_becomes_tool_choice(legacy: Any, expected: ToolChoice) -> None:
    payload = request(functions=[{"name": "f", "parameters": {"type": "object"}}], function_call=legacy)

    assert decode_chat_request(payload).tool_choice == expected


def test_tool_choice_wins_over_legacy_function_call() -> None:
    payload = request(tool_choice="required", function_call="none")

    assert decode_chat_request(payload).tool_choice == ToolChoice(mode="required")


# --- decoding details -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", ToolChoice(mode="auto")),
        ("none", ToolChoice(mode="none")),
        ("required", ToolChoice(mode="required")),
        ({"type": "function", "function": {"name": "lookup"}}, ToolChoice(mode="tool", name="lookup")),
        (None, None),
    ],
)
def test_tool_choice_modes(choice: Any, expected: ToolChoice | None) -> None:
    assert decode_chat_request(request(tool_choice=choice)).tool_choice == expected


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"max_tokens": 10}, 10),
        ({"max_completion_tokens": 20}, 20),
        ({"max_tokens": 10, "max_completion_tokens": 20}, 20),
        ({}, None),
    ],
)
def test_max_completion_tokens_over_max_tokens(fields: dict[str, Any], expected: int | None) -> None:
    assert decode_chat_request(request(**fields)).max_tokens == expected


@pytest.mark.parametrize(
    ("stop", "expected"), [("END", ("END",)), (["a", "b"], ("a", "b")), ([], ()), (None, ())]
)
def test_stop_string_or_list(stop: Any, expected: tuple[str, ...]) -> None:
    assert decode_chat_request(request(stop=stop)).stop == expected


def test_developer_role_is_system_and_joins_system_text() -> None:
    payload = request(
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": "Use French."},
            USER,
        ]
    )

    neutral = decode_chat_request(payload)

    assert [m.role for m in neutral.messages] == ["system", "system", "user"]
    assert neutral.system_text == "Be brief.\n\nUse French."


def test_file_data_without_data_url_is_taken_as_pdf() -> None:
    part = {"type": "file", "file": {"file_data": "JVBERi0xLjQK", "filename": "a.pdf"}}

    (document,) = decode_chat_request(with_message({"role": "user", "content": [part]})).messages[1].content

    assert document == DocumentPart(media_type="application/pdf", data="JVBERi0xLjQK", name="a.pdf")


def test_input_audio_format_defaults_to_wav() -> None:
    part = {"type": "input_audio", "input_audio": {"data": "AAAA"}}

    (audio,) = decode_chat_request(with_message({"role": "user", "content": [part]})).messages[1].content

    assert audio == AudioPart(data="AAAA", format="wav")


def test_tool_call_without_id_gets_a_positional_id() -> None:
    message = {
        "role": "assistant",
        "tool_calls": [
            {"type": "function", "function": {"name": "a", "arguments": "{}"}},
            {"type": "function", "function": {"name": "b"}},
        ],
    }

    calls = decode_chat_request(with_message(message)).messages[1].tool_calls

    assert calls == (
        ToolCall(id="call_0", name="a", arguments="{}"),
        ToolCall(id="call_1", name="b", arguments=""),
    )


def test_model_and_empty_string_content() -> None:
    neutral = decode_chat_request(request(model="my-alias", messages=[{"role": "user", "content": ""}]))

    assert neutral.model == "my-alias"
    assert neutral.messages == (Message(role="user"),)


# --- 400s naming the parameter --------------------------------------------------------------------


def _part(part: Any) -> dict[str, Any]:
    return with_message({"role": "user", "content": [{"type": "text", "text": "look"}, part]})


BAD_REQUESTS = [
    pytest.param({"model": "gpt-4o"}, "messages", id="messages missing"),
    pytest.param(request(messages=[]), "messages", id="messages empty"),
    pytest.param(request(messages="Hello"), "messages", id="messages a string"),
    pytest.param(request(messages={"role": "user"}), "messages", id="messages an object"),
    pytest.param(with_message("hi"), "messages[1]", id="message a string"),
    pytest.param(with_message(None), "messages[1]", id="message null"),
    pytest.param(with_message({"role": "robot", "content": "x"}), "messages[1].role", id="unknown role"),
    pytest.param(with_message({"content": "x"}), "messages[1].role", id="role missing"),
    pytest.param(with_message({"role": "User", "content": "x"}), "messages[1].role", id="role wrong case"),
    pytest.param(with_message({"role": "tool", "content": "x"}), "messages[1].tool_call_id", id="no call id"),
    pytest.param(
        with_message({"role": "tool", "content": "x", "tool_call_id": ""}),
        "messages[1].tool_call_id",
        id="empty call id",
    ),
    pytest.param(
        with_message({"role": "tool", "content": "x", "tool_call_id": 7}),
        "messages[1].tool_call_id",
        id="call id a number",
    ),
    pytest.param(with_message({"role": "user", "content": 5}), "messages[1].content", id="content a number"),
    pytest.param(
        with_message({"role": "user", "content": {"type": "text", "text": "x"}}),
        "messages[1].content",
        id="content an object",
    ),
    pytest.param(_part("look"), "messages[1].content[1]", id="part a string"),
    pytest.param(_part({"type": "video_url", "video_url": {}}), "messages[1].content[1]", id="part unknown"),
    pytest.param(_part({"type": "text", "text": 5}), "messages[1].content[1]", id="text not a string"),
    pytest.param(_part({"type": "image_url", "image_url": {}}), "messages[1].content[1]", id="image no url"),
    pytest.param(
        _part({"type": "image_url", "image_url": {"url": ""}}), "messages[1].content[1]", id="image url empty"
    ),
    pytest.param(
        _part({"type": "input_audio", "input_audio": {"format": "wav"}}),
        "messages[1].content[1]",
        id="audio without data",
    ),
    pytest.param(
        _part({"type": "file", "file": {"file_id": "file-6F2ksmvXxt4VdoqmHRw6kL"}}),
        "messages[1].content[1]",
        id="file_id",
    ),
    pytest.param(
        _part({"type": "file", "file": {"filename": "a.pdf"}}), "messages[1].content[1]", id="file empty"
    ),
    pytest.param(
        with_message({"role": "assistant", "tool_calls": {"id": "x"}}),
        "messages[1].tool_calls",
        id="tool_calls an object",
    ),
    pytest.param(
        with_message({"role": "assistant", "tool_calls": [{"id": "x", "type": "function", "function": {}}]}),
        "messages[1].tool_calls[0]",
        id="tool call without name",
    ),
    pytest.param(
        with_message({"role": "assistant", "tool_calls": ["call"]}),
        "messages[1].tool_calls[0]",
        id="tool call a string",
    ),
    pytest.param(request(tools={"type": "function"}), "tools", id="tools an object"),
    pytest.param(request(tools=[{"type": "web_search_preview"}]), "tools[0]", id="tool web_search"),
    pytest.param(
        request(tools=[{"type": "custom", "custom": {"name": "grammar"}}]), "tools[0]", id="tool custom"
    ),
    pytest.param(request(tools=["get_weather"]), "tools[0]", id="tool a string"),
    pytest.param(
        request(tools=[{"type": "function", "function": {"description": "x"}}]),
        "tools[0].function.name",
        id="function without name",
    ),
    pytest.param(request(tools=[{"type": "function"}]), "tools[0].function.name", id="function missing"),
    pytest.param(request(tool_choice="any"), "tool_choice", id="tool_choice unknown"),
    pytest.param(request(tool_choice={"type": "function"}), "tool_choice", id="tool_choice no function"),
    pytest.param(request(tool_choice=1), "tool_choice", id="tool_choice a number"),
    pytest.param(request(response_format={"type": "xml"}), "response_format", id="format unknown"),
    pytest.param(request(response_format="json_object"), "response_format", id="format a string"),
    pytest.param(
        request(response_format={"type": "json_schema", "json_schema": {"name": "x"}}),
        "response_format",
        id="json_schema without schema",
    ),
    pytest.param(request(max_tokens="100"), "max_tokens", id="max_tokens a string"),
    pytest.param(request(max_tokens=1.5), "max_tokens", id="max_tokens a float"),
    pytest.param(request(max_tokens=True), "max_tokens", id="max_tokens a bool"),
    pytest.param(request(temperature="0.2"), "temperature", id="temperature a string"),
    pytest.param(request(temperature=True), "temperature", id="temperature a bool"),
    pytest.param(request(top_p=[1]), "top_p", id="top_p a list"),
    pytest.param(request(presence_penalty="1"), "presence_penalty", id="presence_penalty"),
    pytest.param(request(frequency_penalty=False), "frequency_penalty", id="frequency_penalty"),
    pytest.param(request(seed=1.5), "seed", id="seed a float"),
    pytest.param(request(seed="42"), "seed", id="seed a string"),
    pytest.param(request(parallel_tool_calls="false"), "parallel_tool_calls", id="parallel a string"),
    pytest.param(request(parallel_tool_calls=0), "parallel_tool_calls", id="parallel a number"),
    pytest.param(request(user=123), "user", id="user a number"),
    pytest.param(request(reasoning_effort=1), "reasoning_effort", id="effort a number"),
    pytest.param(request(stop=5), "stop", id="stop a number"),
    pytest.param(request(stop=["a", 1]), "stop", id="stop mixed list"),
]


@pytest.mark.parametrize(("payload", "param"), BAD_REQUESTS)
def test_bad_shapes_are_400_naming_the_param(payload: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        decode_chat_request(payload)

    assert caught.value.param == param
    assert caught.value.status == 400
    assert caught.value.error_type == "invalid_request_error"
    assert caught.value.message


def test_file_id_error_says_why() -> None:
    with pytest.raises(InvalidRequestError, match="file_id"):
        decode_chat_request(_part({"type": "file", "file": {"file_id": "file-abc"}}))


@pytest.mark.parametrize("role", [["user"], {"name": "user"}])
def test_unhashable_role_is_a_400(role: Any) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        decode_chat_request(with_message({"role": role, "content": "x"}))

    assert caught.value.param == "messages[1].role"


def test_bad_max_completion_tokens_names_that_param() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        decode_chat_request(request(max_completion_tokens="100"))

    assert caught.value.param == "max_completion_tokens"


@pytest.mark.parametrize(
    ("payload", "param"),
    [
        pytest.param(
            request(tools=[{"type": "function", "function": {"name": "f", "parameters": "{}"}}]),
            "tools[0].function.parameters",
            id="parameters a string",
        ),
        pytest.param(
            with_message(
                {
                    "role": "assistant",
                    "tool_calls": [
                        {"id": "c", "type": "function", "function": {"name": "f", "arguments": {}}}
                    ],
                }
            ),
            "messages[1].tool_calls[0].function.arguments",
            id="arguments an object",
        ),
    ],
)
def test_wrong_json_types_inside_tools_are_400(payload: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        decode_chat_request(payload)

    assert caught.value.param == param


# --- encoding -------------------------------------------------------------------------------------


def neutral(**fields: Any) -> ChatRequest:
    return ChatRequest(
        model="up-model", messages=(Message(role="user", content=(TextPart("hi"),)),), **fields
    )


def test_encode_minimal_request_has_no_optional_fields() -> None:
    assert encode_chat_request(neutral()) == {
        "model": "up-model",
        "messages": [{"role": "user", "content": "hi"}],
    }


def test_encode_stream_always_asks_for_usage() -> None:
    body = encode_chat_request(neutral(stream=True))

    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}


def test_encode_spells_the_output_cap_as_the_provider_wants() -> None:
    assert encode_chat_request(neutral(max_tokens=7))["max_tokens"] == 7
    assert encode_chat_request(neutral(max_tokens=7), max_tokens_field="max_completion_tokens") == {
        **encode_chat_request(neutral()),
        "max_completion_tokens": 7,
    }


def test_encode_every_optional_field() -> None:
    body = encode_chat_request(
        neutral(
            max_tokens=100,
            temperature=0.5,
            top_p=0.25,
            stop=("x",),
            tools=(Tool(name="f", description="does f", strict=False),),
            tool_choice=ToolChoice(mode="tool", name="f"),
            parallel_tool_calls=True,
            response_format=ResponseFormat(type="json_schema", schema={"type": "object"}),
            reasoning_effort="low",
            user="u",
            metadata={"a": "b"},
            seed=7,
            presence_penalty=0.0,
            frequency_penalty=0.0,
        ),
        max_tokens_field="max_completion_tokens",
    )

    assert body == {
        "model": "up-model",
        "messages": [{"role": "user", "content": "hi"}],
        "max_completion_tokens": 100,
        "temperature": 0.5,
        "top_p": 0.25,
        "stop": ["x"],
        "parallel_tool_calls": True,
        "reasoning_effort": "low",
        "user": "u",
        "metadata": {"a": "b"},
        "seed": 7,
        "presence_penalty": 0.0,
        "frequency_penalty": 0.0,
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "f",
                    "parameters": {"type": "object", "properties": {}},
                    "description": "does f",
                    "strict": False,
                },
            }
        ],
        "tool_choice": {"type": "function", "function": {"name": "f"}},
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "response", "schema": {"type": "object"}},
        },
    }


def test_encode_messages_from_another_dialect() -> None:
    """Messages as an Anthropic or Gemini ingress builds them: reasoning, tool results, mixed parts."""
    body = encode_chat_request(
        ChatRequest(
            model="m",
            messages=(
                Message(role="system", content=(TextPart("a"), TextPart("b"))),
                Message(
                    role="user",
                    content=(TextPart("see"), ImagePart(url=PNG), AudioPart(data="QQ==", format="mp3")),
                ),
                Message(
                    role="assistant",
                    content=(TextPart("calling"),),
                    tool_calls=(ToolCall(id="toolu_01", name="f", arguments='{"x":1}'),),
                    reasoning="thinking...",
                    reasoning_signature="sig",
                ),
                Message(
                    role="tool",
                    content=(TextPart("4"), TextPart("2")),
                    tool_call_id="toolu_01",
                    is_error=True,
                ),
                Message(
                    role="user",
                    content=(DocumentPart(media_type="application/pdf", data="JVBE", name="x.pdf"),),
                ),
            ),
        )
    )

    assert body["messages"] == [
        {"role": "system", "content": "ab"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "see"},
                {"type": "image_url", "image_url": {"url": PNG}},
                {"type": "input_audio", "input_audio": {"data": "QQ==", "format": "mp3"}},
            ],
        },
        {
            "role": "assistant",
            "content": "calling",
            "tool_calls": [
                {"id": "toolu_01", "type": "function", "function": {"name": "f", "arguments": '{"x":1}'}}
            ],
        },
        {"role": "tool", "tool_call_id": "toolu_01", "content": "42"},
        {
            "role": "user",
            "content": [
                {
                    "type": "file",
                    "file": {"file_data": "data:application/pdf;base64,JVBE", "filename": "x.pdf"},
                }
            ],
        },
    ]


def test_encode_document_by_url_is_not_sent_as_an_empty_file() -> None:
    url = "https://example.com/report.pdf"
    document = DocumentPart(media_type="application/pdf", url=url)
    request_ = ChatRequest(model="m", messages=(Message(role="user", content=(document,)),))

    try:
        body = encode_chat_request(request_)
    except InvalidRequestError:
        return  # refusing is fine; sending an empty file is not
    assert url in orjson.dumps(body).decode()


@pytest.mark.parametrize("mode", ["auto", "none", "required"])
def test_encode_tool_choice_modes(mode: str) -> None:
    assert encode_chat_request(neutral(tool_choice=ToolChoice(mode=mode)))["tool_choice"] == mode  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["text", "json_object"])
def test_encode_simple_response_formats(kind: str) -> None:
    body = encode_chat_request(neutral(response_format=ResponseFormat(type=kind)))  # type: ignore[arg-type]

    assert body["response_format"] == {"type": kind}


def test_encode_assistant_without_content_or_calls_sends_empty_string() -> None:
    body = encode_chat_request(ChatRequest(model="m", messages=(Message(role="assistant"),)))

    assert body["messages"] == [{"role": "assistant", "content": ""}]
