"""Errors on ``/v1/responses`` come in OpenAI's envelope with the right status, whatever the upstream.

What the gateway cannot do yet (stored responses) or cannot do for a provider (OpenAI's built-in tools)
is a 400 that says so; a malformed request is a 400, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import openai
import pytest

from tests.harness import MASTER_KEY, Gateway
from tests.ingress.fixtures.upstreams import RETRY_AFTER, SHARED_HTTP, Target, open_target, openai_sdk


@pytest.fixture(params=["openai", "anthropic", "gemini"])
def translated(request: pytest.FixtureRequest, make_gateway: Callable[..., Gateway]) -> Iterator[Target]:
    with open_target(request.param, make_gateway) as running:
        yield running


@pytest.fixture(params=["openai", "openai-native", "anthropic", "gemini"])
def target(request: pytest.FixtureRequest, make_gateway: Callable[..., Gateway]) -> Iterator[Target]:
    with open_target(request.param, make_gateway) as running:
        yield running


@pytest.fixture
def native_target(make_gateway: Callable[..., Gateway]) -> Iterator[Target]:
    with open_target("openai-native", make_gateway) as running:
        yield running


def post(gateway: Gateway, body: Any, headers: dict[str, str] | None = None) -> Any:
    headers = headers if headers is not None else {"Authorization": f"Bearer {MASTER_KEY}"}
    if isinstance(body, bytes):
        return SHARED_HTTP.post(gateway.api_base + "/responses", content=body, headers=headers)
    return SHARED_HTTP.post(gateway.api_base + "/responses", json=body, headers=headers)


def openai_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["message"]
    return dict(body["error"])


def test_bad_key_is_401(target: Target) -> None:
    body = {"model": target.model, "input": "hi"}
    for headers in ({"Authorization": "Bearer wrong"}, {"x-api-key": "wrong"}, {}):
        error = openai_error(post(target.gateway, body, headers), 401)
        assert error["type"] == "authentication_error"
    with pytest.raises(openai.AuthenticationError):
        openai_sdk(target.gateway, api_key="wrong").responses.create(model=target.model, input="hi")
    assert target.calls() == []


def test_bad_json_is_400(target: Target) -> None:
    for raw in (b"{nope", b"[]", b"", b"null"):
        assert openai_error(post(target.gateway, raw), 400)["type"] == "invalid_request_error"
    assert openai_error(post(target.gateway, {"input": "hi"}), 400)["param"] == "model"
    assert target.calls() == []


MALFORMED: list[tuple[str, dict[str, Any]]] = [
    ("no input", {}),
    ("empty input", {"input": ""}),
    ("empty input list", {"input": []}),
    ("input a number", {"input": 5}),
    ("item not an object", {"input": ["hi"]}),
    ("unknown role", {"input": [{"role": "robot", "content": "x"}]}),
    ("unknown item type", {"input": [{"type": "computer_call_output", "call_id": "c"}]}),
    ("content a number", {"input": [{"role": "user", "content": 5}]}),
    ("unknown part type", {"input": [{"role": "user", "content": [{"type": "input_video"}]}]}),
    ("input_text without text", {"input": [{"role": "user", "content": [{"type": "input_text"}]}]}),
    ("function_call without call_id", {"input": [{"type": "function_call", "name": "f", "arguments": "{}"}]}),
    ("function_call_output without call_id", {"input": [{"type": "function_call_output", "output": "x"}]}),
    ("item_reference", {"input": [{"type": "item_reference", "id": "msg_1"}]}),
    ("tools not a list", {"input": "hi", "tools": {"type": "function"}}),
    ("function tool without name", {"input": "hi", "tools": [{"type": "function"}]}),
    ("tool_choice unknown", {"input": "hi", "tool_choice": "sometimes"}),
    ("text.format unknown", {"input": "hi", "text": {"format": {"type": "xml"}}}),
    ("json_schema without schema", {"input": "hi", "text": {"format": {"type": "json_schema", "name": "x"}}}),
    ("max_output_tokens a string", {"input": "hi", "max_output_tokens": "ten"}),
    ("temperature a string", {"input": "hi", "temperature": "hot"}),
    ("previous_response_id", {"input": "hi", "previous_response_id": "resp_123"}),
    ("conversation", {"input": "hi", "conversation": "conv_123"}),
    ("web_search tool", {"input": "hi", "tools": [{"type": "web_search"}]}),
    ("file_search tool", {"input": "hi", "tools": [{"type": "file_search", "vector_store_ids": ["vs_1"]}]}),
    ("reasoning effort unknown to the provider", {"input": "hi", "reasoning": {"effort": "extreme"}}),
]


def test_malformed_requests_are_400_for_translated_upstreams(translated: Target) -> None:
    answers = {}
    for case, body in MALFORMED:
        if case.startswith("reasoning") and translated.kind == "openai":
            continue  # an OpenAI-compatible upstream judges its own effort words
        for stream in (False, True):
            response = post(translated.gateway, {"model": translated.model, "stream": stream, **body})
            answers[f"{case} (stream={stream})"] = (response.status_code, sorted(response.json()))

    assert answers == {case: (400, ["error"]) for case in answers}
    assert translated.calls() == []


@pytest.mark.parametrize(
    "item",
    [
        {"role": ["user"], "content": "hi"},
        {"role": "user", "content": [{"type": {"text": "hi"}, "text": "hi"}]},
        {"role": "user", "content": [{"type": ["input_text"], "text": "hi"}]},
        {"type": "reasoning", "summary": 5},
        {"type": "reasoning", "summary": True},
    ],
    ids=["role a list", "part type an object", "part type a list", "summary a number", "summary a bool"],
)
def test_wrongly_typed_input_item_fields_are_400_not_500(
    make_gateway: Callable[..., Gateway], item: Any
) -> None:
    with open_target("openai", make_gateway) as chat:
        for stream in (False, True):
            response = post(chat.gateway, {"model": "gpt-fake", "stream": stream, "input": [item]})

            assert openai_error(response, 400)["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        ({"previous_response_id": "resp_123"}, "previous_response_id", "input"),
        ({"tools": [{"type": "web_search"}]}, "tools[0]", "web_search"),
        (
            {"tools": [{"type": "code_interpreter", "container": {"type": "auto"}}]},
            "tools[0]",
            "code_interpreter",
        ),
    ],
    ids=["previous_response_id", "web_search", "code_interpreter"],
)
def test_unsupported_features_are_a_clear_400_through_the_sdk(
    translated: Target, body: dict[str, Any], param: str, words: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        openai_sdk(translated.gateway).responses.create(model=translated.model, input="hi", **body)

    assert caught.value.param == param
    assert words in caught.value.message
    assert translated.calls() == []


@pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
def test_unknown_model_is_404(target: Target, stream: bool) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        openai_sdk(target.gateway).responses.create(model="no-such-model", input="hi", stream=stream)

    assert caught.value.code == "model_not_found"


def test_body_over_the_limit_is_413(make_gateway: Callable[..., Gateway]) -> None:
    with open_target("openai-native", make_gateway, BODY_SIZE_LIMIT="64K") as target:
        error = openai_error(post(target.gateway, {"model": target.model, "input": "x" * 100_000}), 413)

        assert error["code"] == "request_too_large"
        assert target.calls() == []


@pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
def test_upstream_429_keeps_status_and_retry_after(target: Target, stream: bool) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        openai_sdk(target.gateway).responses.create(model="fault-429", input="hi", stream=stream)

    assert caught.value.response.headers["retry-after"] == RETRY_AFTER
    assert caught.value.type == "rate_limit_error"


@pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
def test_upstream_5xx_is_a_502(target: Target, stream: bool) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        openai_sdk(target.gateway).responses.create(model="fault-500", input="hi", stream=stream)

    assert caught.value.status_code == 502
    assert caught.value.code == "upstream_error"


def test_native_relay_of_a_non_json_answer_is_a_502(native_target: Target) -> None:
    error = openai_error(post(native_target.gateway, {"model": "fault-garbage", "input": "hi"}), 502)

    assert error["type"] == "upstream_error"


def test_translated_non_json_answer_is_a_502(make_gateway: Callable[..., Gateway]) -> None:
    with open_target("openai", make_gateway) as chat:
        for stream in (False, True):
            response = post(chat.gateway, {"model": "fault-garbage", "input": "hi", "stream": stream})
            assert openai_error(response, 502)["type"] == "upstream_error"
