"""``POST /v1/messages`` with the official ``anthropic`` SDK: the answer, and what each upstream received.

Anthropic (and OpenCode Go's messages models) get the client's request relayed: body bytes and the
``anthropic-beta`` / ``anthropic-version`` headers untouched, answer bytes back untouched. Every other
upstream gets it translated, and must see nothing only Anthropic understands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import httpx2
import orjson
import pytest

from gomodel.testing import fake_anthropic_wire as anthropic_wire
from gomodel.testing.fake_anthropic import FakeAnthropic
from gomodel.testing.fake_gemini_wire import TOOL_ARGUMENTS
from gomodel.testing.fake_upstream import FakeUpstream
from gomodel.testing.threaded_server import ThreadedServer
from tests.harness import MASTER_KEY, Gateway
from tests.ingress.fixtures.upstreams import ANTHROPIC_KEY, SHARED_HTTP, Target, anthropic_sdk, open_target

HELLO: list[Any] = [{"role": "user", "content": "hello there"}]
WEATHER: dict[str, Any] = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
        "required": ["city"],
    },
}
BETAS = ["interleaved-thinking-2025-05-14", "made-up-beta-2099-01-01"]
#: Claude Code posts to ``/v1/messages?beta=true`` (this SDK version's beta client no longer adds it).
CLAUDE_CODE_QUERY = {"beta": "true"}
CLAUDE_CODE_USER = "user_4f1e_account__session_0b9c6a2e-1111-2222-3333-444455556666"


class Captured:
    """The bytes and headers the SDK put on the wire, through an httpx request hook."""

    def __init__(self) -> None:
        self.requests: list[httpx2.Request] = []

    def hook(self, request: httpx2.Request) -> None:
        request.read()
        self.requests.append(request)

    @property
    def last(self) -> httpx2.Request:
        return self.requests[-1]


def sdk(gateway: Gateway, captured: Captured | None = None, **kwargs: Any) -> anthropic.Anthropic:
    if captured is not None:
        kwargs["http_client"] = httpx2.Client(timeout=20, event_hooks={"request": [captured.hook]})
    return anthropic_sdk(gateway, **kwargs)


@pytest.fixture(params=["openai", "anthropic", "gemini"])
def target(request: pytest.FixtureRequest, make_gateway: Callable[..., Gateway]) -> Iterator[Target]:
    with open_target(request.param, make_gateway) as running:
        yield running


@pytest.fixture(params=["openai", "gemini"])
def translated(request: pytest.FixtureRequest, make_gateway: Callable[..., Gateway]) -> Iterator[Target]:
    with open_target(request.param, make_gateway) as running:
        yield running


@pytest.fixture
def native(make_gateway: Callable[..., Gateway]) -> Iterator[Target]:
    with open_target("anthropic", make_gateway) as running:
        yield running


def keys_anywhere(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for item in value.values() for k in keys_anywhere(item)}
    if isinstance(value, list):
        return {k for item in value for k in keys_anywhere(item)}
    return set()


def fake_answer(payload: dict[str, Any], message_id: str) -> anthropic_wire.Answer:
    """What the Anthropic fake answers ``payload`` with (it is deterministic)."""
    call = anthropic_wire.validate(payload, frozenset({"claude-fake"}))
    style = anthropic_wire.AnswerStyle(
        pieces=tuple(f"tok{i} " for i in range(5)),
        json_pieces=4,
        cache_read_tokens=0,
        cache_creation_tokens=0,
    )
    return anthropic_wire.build_answer(call, message_id, style)


# --- answers ----------------------------------------------------------------------------------------------


def test_create_answers_in_anthropic_shape(target: Target) -> None:
    message = sdk(target.gateway).messages.create(
        model=target.model, max_tokens=100, system="Be brief.", messages=HELLO
    )

    expected = {
        "openai": "tok0 tok1 tok2 ",
        "anthropic": "tok0 tok1 tok2 tok3 tok4 ",
        "gemini": "tok0 tok1 tok2 naïve ☃",
    }
    assert message.type == "message"
    assert message.role == "assistant"
    assert message.id.startswith("msg_")
    assert message.model == target.model
    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].text == expected[target.kind]
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 0
    assert message.usage.output_tokens > 0


def test_tool_result_round_trip(target: Target) -> None:
    client = sdk(target.gateway)
    first = client.messages.create(model=target.model, max_tokens=100, messages=HELLO, tools=[WEATHER])
    assert first.stop_reason == "tool_use"
    (call,) = [block for block in first.content if block.type == "tool_use"]
    assert call.name == "get_weather"

    history: list[Any] = [
        *HELLO,
        {"role": "assistant", "content": [block.to_dict() for block in first.content]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "Sunny, 21 C"}],
        },
    ]
    second = client.messages.create(model=target.model, max_tokens=100, messages=history, tools=[WEATHER])

    assert second.stop_reason == "end_turn"
    first_sent, second_sent = target.calls()
    if target.kind == "openai":
        assert second.content[0].text == "results: Sunny, 21 C"
        assert call.id == "call_chatcmpl-scripted-1_0"  # the upstream's call id, kept
        assert first_sent.json["tools"][0]["function"]["name"] == "get_weather"
        arguments = '{"city":"city-value","unit":"unit-value"}'
        assert second_sent.json["messages"] == [
            {"role": "user", "content": "hello there"},
            {
                "role": "assistant",
                "content": "Let me check.",
                "tool_calls": [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": arguments},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": call.id, "content": "Sunny, 21 C"},
        ]
    elif target.kind == "gemini":
        assert second.content[0].text == "results: get_weather"
        model_turn, answer_turn = second_sent.json["contents"][1:]
        assert model_turn["role"] == "model"
        assert model_turn["parts"][0]["functionCall"] == {
            "name": "get_weather",
            "args": {**TOOL_ARGUMENTS, "n": 0},
        }
        # The thought signature rode in the tool_use id and went back to Gemini where it belongs.
        assert model_turn["parts"][0]["thoughtSignature"]
        assert answer_turn["role"] == "user"
        assert answer_turn["parts"][0]["functionResponse"]["name"] == "get_weather"
    else:
        assert second.content[0].text == "tok0 tok1 tok2 tok3 tok4 "
        assert second_sent.json["messages"] == orjson.loads(orjson.dumps(history))


def test_tool_result_round_trip_streaming_with_blocks_and_error_flag(translated: Target) -> None:
    client = sdk(translated.gateway)
    with client.messages.stream(
        model=translated.model, max_tokens=100, messages=HELLO, tools=[WEATHER]
    ) as stream:
        first = stream.get_final_message()
    call = next(block for block in first.content if block.type == "tool_use")
    history: list[Any] = [
        *HELLO,
        {"role": "assistant", "content": [block.to_dict() for block in first.content]},
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": call.id,
                    "is_error": True,
                    "content": [{"type": "text", "text": "city not found"}],
                },
                {"type": "text", "text": "try again"},
            ],
        },
    ]
    with client.messages.stream(
        model=translated.model, max_tokens=100, messages=history, tools=[WEATHER]
    ) as stream:
        text = "".join(stream.text_stream)

    assert text
    sent = translated.calls()[-1].json
    if translated.kind == "openai":
        assert sent["messages"][2:] == [
            {"role": "tool", "tool_call_id": call.id, "content": "city not found"},
            {"role": "user", "content": "try again"},
        ]
    else:
        parts = sent["contents"][-1]["parts"]
        assert parts[0]["functionResponse"]["name"] == "get_weather"
        assert parts[1] == {"text": "try again"}


# --- nothing Anthropic-only reaches a translated upstream -------------------------------------------------


def claude_code_request() -> dict[str, Any]:
    """The shape of a Claude Code turn: cached system blocks, metadata, thinking, cached tools."""
    return {
        "model": "",
        "max_tokens": 4096,
        "system": [
            {"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "Be brief."},
        ],
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "<system-reminder>ctx</system-reminder>"},
                    {"type": "text", "text": "list files", "cache_control": {"type": "ephemeral"}},
                ],
            }
        ],
        "tools": [{**WEATHER, "cache_control": {"type": "ephemeral"}}],
        "metadata": {"user_id": CLAUDE_CODE_USER},
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        # Sampling knobs this SDK version no longer types, sent as extra body fields.
        "extra_body": {"temperature": 1, "top_k": 40},
    }


@pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
def test_claude_code_request_reaches_a_translated_upstream_without_anthropic_fields(
    translated: Target, stream: bool
) -> None:
    body = {**claude_code_request(), "model": translated.model}
    client = sdk(translated.gateway)

    if stream:
        with client.beta.messages.stream(**body, betas=BETAS, extra_query=CLAUDE_CODE_QUERY) as events:
            final = events.get_final_message()
    else:
        final = client.beta.messages.create(**body, betas=BETAS, extra_query=CLAUDE_CODE_QUERY)

    assert final.stop_reason == "tool_use"
    (sent,) = translated.calls()
    headers = {name.lower() for name in sent.headers}
    assert not headers & {
        "anthropic-beta",
        "anthropic-version",
        "x-api-key",
        "anthropic-dangerous-direct-browser-access",
    }
    assert all(MASTER_KEY not in value for value in sent.headers.values())
    assert not keys_anywhere(sent.json) & {"cache_control", "thinking", "top_k", "betas", "user_id", "system"}
    assert sent.query == ({"alt": "sse"} if stream and translated.kind == "gemini" else {})
    if translated.kind == "openai":
        expected: dict[str, Any] = {
            "model": "gpt-fake",
            "messages": [
                {"role": "system", "content": "You are Claude Code.\n\nBe brief."},
                {"role": "user", "content": "<system-reminder>ctx</system-reminder>list files"},
            ],
            "max_tokens": 4096,
            "temperature": 1.0,
            "user": CLAUDE_CODE_USER,
            "tools": [
                {
                    "type": "function",
                    "function": {
                        "name": "get_weather",
                        "description": "Weather for a city",
                        "parameters": WEATHER["input_schema"],
                    },
                }
            ],
        }
        if stream:
            expected |= {"stream": True, "stream_options": {"include_usage": True}}
        assert sent.json == expected
    else:
        assert sent.json["systemInstruction"] == {"parts": [{"text": "You are Claude Code.\n\nBe brief."}]}
        assert sent.json["contents"] == [
            {
                "role": "user",
                "parts": [{"text": "<system-reminder>ctx</system-reminder>"}, {"text": "list files"}],
            }
        ]
        # Gemini's own thinking knob carries the budget; Anthropic's field does not travel.
        assert sent.json["generationConfig"]["thinkingConfig"] == {
            "thinkingBudget": 1024,
            "includeThoughts": True,
        }


def test_text_and_image_blocks_reach_a_translated_upstream_as_parts(translated: Target) -> None:
    pixel = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    content = [
        {"type": "text", "text": "what is this?", "cache_control": {"type": "ephemeral"}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": pixel}},
    ]
    message = sdk(translated.gateway).messages.create(
        model=translated.model, max_tokens=50, messages=[{"role": "user", "content": content}]
    )

    assert message.content
    (sent,) = translated.calls()
    if translated.kind == "openai":
        assert sent.json["messages"] == [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is this?"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{pixel}"}},
                ],
            }
        ]
    else:
        assert sent.json["contents"][0]["parts"] == [
            {"text": "what is this?"},
            {"inlineData": {"mimeType": "image/png", "data": pixel}},
        ]


# --- native relay to Anthropic ----------------------------------------------------------------------------


def test_native_relay_passes_body_and_headers_untouched(native: Target) -> None:
    captured = Captured()
    body = {**claude_code_request(), "model": "claude-fake", "tools": [WEATHER]}
    client = sdk(native.gateway, captured)

    raw = client.beta.messages.with_raw_response.create(**body, betas=BETAS, extra_query=CLAUDE_CODE_QUERY)

    sent_by_client = captured.last
    assert sent_by_client.url.path == "/v1/messages"
    assert sent_by_client.url.params.get("beta") == "true"
    (received,) = native.calls()
    assert received.path == "/v1/messages"
    assert received.body == sent_by_client.content  # byte for byte
    assert received.headers["anthropic-beta"] == ",".join(BETAS)
    assert received.headers["anthropic-version"] == sent_by_client.headers["anthropic-version"]
    assert received.headers["x-api-key"] == ANTHROPIC_KEY  # the provider's key replaces the gateway's
    assert all(MASTER_KEY not in value for value in received.headers.values())
    # The answer comes back as the upstream wrote it.
    assert raw.http_response.content == orjson.dumps(fake_answer(received.json, "msg_fake_1").message())
    assert raw.parse().stop_reason == "tool_use"


def test_native_relay_stream_is_passed_through_byte_for_byte(native: Target) -> None:
    captured = Captured()
    payload = {
        "model": "claude-fake",
        "max_tokens": 100,
        "messages": HELLO,
        "tools": [WEATHER],
        "stream": True,
    }
    client = sdk(native.gateway, captured, default_headers={"anthropic-beta": "made-up-beta-2099-01-01"})

    with client.messages.with_streaming_response.create(**payload) as response:
        relayed = response.http_response.read()

    (received,) = native.calls()
    assert received.body == captured.last.content
    assert received.headers["anthropic-beta"] == "made-up-beta-2099-01-01"
    assert relayed == b"".join(fake_answer(received.json, "msg_fake_1").events())  # ping events included


def test_a_provider_prefix_rewrites_only_the_model_of_a_relayed_body(native: Target) -> None:
    captured = Captured()
    message = sdk(native.gateway, captured).messages.create(
        model="anthropic/claude-fake", max_tokens=20, messages=HELLO, extra_body={"temperature": 0.5}
    )

    assert message.content[0].text.startswith("tok0")
    (received,) = native.calls()
    sent = orjson.loads(captured.last.content)
    assert received.json == {**sent, "model": "claude-fake"}
    assert list(received.json) == list(sent)  # same fields, same order: only the model changed


# --- OpenCode Go: one provider, both dialects ---------------------------------------------------------------


@pytest.fixture
def opencode(make_gateway: Callable[..., Gateway]) -> Iterator[tuple[Gateway, FakeUpstream, FakeAnthropic]]:
    key = "oc-go-fake-key"
    chat = FakeUpstream(api_key=key, models=("glm-5.1", "qwen3.7-max"))
    messages = FakeAnthropic(api_key=key, models=("qwen3.7-max",))
    app = chat.make_app()
    messages.add_routes(app, models=False)
    with ThreadedServer() as server:
        server.start(app, **FakeUpstream.runner_kwargs())
        env = {
            "OPENCODE_GO_API_KEY": key,
            "OPENCODE_GO_BASE_URL": server.base_url + "/v1",
            "GOMODEL_MASTER_KEY": MASTER_KEY,
        }
        yield make_gateway(env), chat, messages


def test_opencode_go_messages_model_is_relayed_and_chat_model_translated(
    opencode: tuple[Gateway, FakeUpstream, FakeAnthropic],
) -> None:
    gateway, chat, messages = opencode
    captured = Captured()
    client = sdk(gateway, captured)

    relayed = client.beta.messages.create(
        model="qwen3.7-max", max_tokens=50, messages=HELLO, betas=BETAS, extra_query=CLAUDE_CODE_QUERY
    )
    relayed_body = captured.last.content
    translated = client.messages.create(model="glm-5.1", max_tokens=50, messages=HELLO)

    assert relayed.content[0].text.startswith("tok0")
    assert translated.content[0].text == "tok0 tok1 tok2 tok3 tok4 "
    (native,) = [r for r in messages.requests if r.method == "POST"]
    assert native.body == relayed_body
    assert native.headers["anthropic-beta"] == ",".join(BETAS)
    assert native.headers["x-api-key"] == "oc-go-fake-key"
    (chat_call,) = [r for r in chat.requests if r.method == "POST"]
    assert chat_call.path == "/v1/chat/completions"
    assert chat_call.json["messages"] == [{"role": "user", "content": "hello there"}]


@pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
def test_no_anthropic_header_is_needed_from_the_client(target: Target, stream: bool) -> None:
    """curl-style clients send neither anthropic-version nor a beta header; for a relayed request the
    provider's own anthropic-version is used (the Anthropic fake refuses a request without one)."""
    response = SHARED_HTTP.post(
        target.gateway.url + "/v1/messages",
        headers={"Authorization": f"Bearer {MASTER_KEY}"},
        json={"model": target.model, "max_tokens": 20, "messages": HELLO, "stream": stream},
    )

    assert response.status_code == 200, response.text
    if target.kind == "anthropic":
        assert target.calls()[0].headers["anthropic-version"]


def test_parallel_tool_results_go_back_together(target: Target) -> None:
    clock = {"name": "get_time", "input_schema": {"type": "object", "properties": {"tz": {"type": "string"}}}}
    client = sdk(target.gateway)
    first = client.messages.create(model=target.model, max_tokens=100, messages=HELLO, tools=[WEATHER, clock])
    calls = [block for block in first.content if block.type == "tool_use"]
    assert [call.name for call in calls] == ["get_weather", "get_time"]

    results = [
        {"type": "tool_result", "tool_use_id": call.id, "content": f"{call.name} done"} for call in calls
    ]
    history: list[Any] = [
        *HELLO,
        {"role": "assistant", "content": [block.to_dict() for block in first.content]},
        {"role": "user", "content": results},
    ]
    second = client.messages.create(
        model=target.model, max_tokens=100, messages=history, tools=[WEATHER, clock]
    )

    assert second.stop_reason == "end_turn"
    sent = target.calls()[-1].json
    if target.kind == "openai":
        assert second.content[0].text == "results: get_weather done, get_time done"
        assert [(m["role"], m.get("tool_call_id")) for m in sent["messages"][2:]] == [
            ("tool", calls[0].id),
            ("tool", calls[1].id),
        ]
    elif target.kind == "gemini":
        assert second.content[0].text == "results: get_weather, get_time"
        (answers,) = [turn for turn in sent["contents"][2:] if turn["role"] == "user"]
        assert [part["functionResponse"]["name"] for part in answers["parts"]] == ["get_weather", "get_time"]
    else:
        assert sent["messages"][-1]["content"] == results
