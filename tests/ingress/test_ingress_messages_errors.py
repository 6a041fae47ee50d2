"""Errors on ``/v1/messages`` and ``/v1/messages/count_tokens``: Anthropic's shape, the right status.

``{"type": "error", "error": {"type", "message"}}`` is what the ``anthropic`` SDK parses into its
exception classes; a malformed request is a 400 whatever the upstream, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import httpx2
import pytest

from tests.harness import MASTER_KEY, Gateway
from tests.ingress.fixtures.upstreams import RETRY_AFTER, SHARED_HTTP, Target, anthropic_sdk, open_target

HELLO: list[Any] = [{"role": "user", "content": "hello there"}]
ANTHROPIC_HEADERS = {"anthropic-version": "2023-06-01", "x-api-key": MASTER_KEY}


@pytest.fixture(params=["openai", "anthropic", "gemini"])
def target(request: pytest.FixtureRequest, make_gateway: Callable[..., Gateway]) -> Iterator[Target]:
    with open_target(request.param, make_gateway) as running:
        yield running


@pytest.fixture(params=["openai", "gemini"])
def translated(request: pytest.FixtureRequest, make_gateway: Callable[..., Gateway]) -> Iterator[Target]:
    with open_target(request.param, make_gateway) as running:
        yield running


def sdk(gateway: Gateway, **kwargs: Any) -> anthropic.Anthropic:
    return anthropic_sdk(gateway, **kwargs)


def assert_anthropic_error(response: httpx2.Response, status: int, error_type: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["type"] == "error"
    assert set(body["error"]) == {"type", "message"}
    assert body["error"]["type"] == error_type
    assert body["error"]["message"]
    return str(body["error"]["message"])


def post(gateway: Gateway, path: str, body: Any = None, **kwargs: Any) -> httpx2.Response:
    kwargs.setdefault("headers", ANTHROPIC_HEADERS)
    if body is not None and not isinstance(body, bytes):
        kwargs["json"] = body
    elif body is not None:
        kwargs["content"] = body
    return SHARED_HTTP.post(gateway.url + path, **kwargs)


# --- authentication ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/messages/count_tokens"])
def test_bad_key_is_401_in_anthropic_shape_with_x_api_key_and_bearer(target: Target, path: str) -> None:
    body = {"model": target.model, "max_tokens": 10, "messages": HELLO}

    for headers in (
        {"x-api-key": "wrong", "anthropic-version": "2023-06-01"},
        {"Authorization": "Bearer wrong", "anthropic-version": "2023-06-01"},
        {"anthropic-version": "2023-06-01"},
    ):
        assert_anthropic_error(post(target.gateway, path, body, headers=headers), 401, "authentication_error")
    assert target.calls() == []


def test_sdk_raises_authentication_error_for_both_ways_of_sending_a_key(target: Target) -> None:
    with pytest.raises(anthropic.AuthenticationError) as by_header:
        sdk(target.gateway, api_key="wrong").messages.create(
            model=target.model, max_tokens=10, messages=HELLO
        )
    with pytest.raises(anthropic.AuthenticationError) as by_bearer:
        sdk(target.gateway, api_key=None, auth_token="wrong").messages.create(
            model=target.model, max_tokens=10, messages=HELLO
        )

    assert by_header.value.body == by_bearer.value.body
    assert by_header.value.body["error"]["type"] == "authentication_error"  # type: ignore[index]


def test_the_right_key_works_as_x_api_key_and_as_bearer(target: Target) -> None:
    by_header = sdk(target.gateway).messages.create(model=target.model, max_tokens=10, messages=HELLO)
    by_bearer = sdk(target.gateway, api_key=None, auth_token=MASTER_KEY).messages.create(
        model=target.model, max_tokens=10, messages=HELLO
    )

    assert by_header.content
    assert by_bearer.content


# --- the request --------------------------------------------------------------------------------------------


def test_bad_json_and_non_object_bodies_are_400(target: Target) -> None:
    for path in ("/v1/messages", "/v1/messages/count_tokens"):
        for raw in (b"{not json", b"[1, 2]", b"", b'"text"'):
            assert_anthropic_error(post(target.gateway, path, raw), 400, "invalid_request_error")
        assert_anthropic_error(post(target.gateway, path, {"messages": HELLO}), 400, "invalid_request_error")
    assert target.calls() == []


MALFORMED: list[tuple[str, dict[str, Any]]] = [
    ("no max_tokens", {"messages": HELLO}),
    ("max_tokens not an int", {"max_tokens": "ten", "messages": HELLO}),
    ("max_tokens zero", {"max_tokens": 0, "messages": HELLO}),
    ("no messages", {"max_tokens": 10}),
    ("messages empty", {"max_tokens": 10, "messages": []}),
    ("messages not a list", {"max_tokens": 10, "messages": "hi"}),
    ("message not an object", {"max_tokens": 10, "messages": [1]}),
    ("bad role", {"max_tokens": 10, "messages": [{"role": "system", "content": "x"}]}),
    ("content a number", {"max_tokens": 10, "messages": [{"role": "user", "content": 5}]}),
    ("unknown block", {"max_tokens": 10, "messages": [{"role": "user", "content": [{"type": "video"}]}]}),
    (
        "text block without text",
        {"max_tokens": 10, "messages": [{"role": "user", "content": [{"type": "text"}]}]},
    ),
    ("block not an object", {"max_tokens": 10, "messages": [{"role": "user", "content": ["hi"]}]}),
    (
        "tool_result without id",
        {
            "max_tokens": 10,
            "messages": [{"role": "user", "content": [{"type": "tool_result", "content": "x"}]}],
        },
    ),
    (
        "tool_result content a number",
        {
            "max_tokens": 10,
            "messages": [
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": 5}]}
            ],
        },
    ),
    (
        "tool_use without name",
        {
            "max_tokens": 10,
            "messages": [*HELLO, {"role": "assistant", "content": [{"type": "tool_use", "id": "t"}]}],
        },
    ),
    (
        "image without source",
        {
            "max_tokens": 10,
            "messages": [{"role": "user", "content": [{"type": "image", "source": {"type": "file"}}]}],
        },
    ),
    ("system a number", {"max_tokens": 10, "messages": HELLO, "system": 5}),
    ("system with an image block", {"max_tokens": 10, "messages": HELLO, "system": [{"type": "image"}]}),
    ("temperature a string", {"max_tokens": 10, "messages": HELLO, "temperature": "hot"}),
    ("stop_sequences a string", {"max_tokens": 10, "messages": HELLO, "stop_sequences": "END"}),
    ("tools not a list", {"max_tokens": 10, "messages": HELLO, "tools": {"name": "x"}}),
    ("tool not an object", {"max_tokens": 10, "messages": HELLO, "tools": [5]}),
    ("tool without schema", {"max_tokens": 10, "messages": HELLO, "tools": [{"name": "x"}]}),
    ("tool_choice a string", {"max_tokens": 10, "messages": HELLO, "tool_choice": "auto"}),
    ("tool_choice tool without name", {"max_tokens": 10, "messages": HELLO, "tool_choice": {"type": "tool"}}),
    (
        "server tool",
        {
            "max_tokens": 10,
            "messages": HELLO,
            "tools": [{"type": "web_search_20250305", "name": "web_search"}],
        },
    ),
]


def test_malformed_requests_are_400_for_translated_upstreams(translated: Target) -> None:
    answers = {}
    for case, body in MALFORMED:
        for stream in (False, True):
            response = post(
                translated.gateway, "/v1/messages", {"model": translated.model, "stream": stream, **body}
            )
            answers[f"{case} (stream={stream})"] = (response.status_code, response.json()["type"])

    assert answers == {case: (400, "error") for case in answers}
    assert translated.calls() == []


def test_server_tool_refusal_says_why(translated: Target) -> None:
    body = {
        "model": translated.model,
        "max_tokens": 10,
        "messages": HELLO,
        "tools": [{"type": "bash_20250124", "name": "bash"}],
    }

    message = assert_anthropic_error(
        post(translated.gateway, "/v1/messages", body), 400, "invalid_request_error"
    )

    assert "bash_20250124" in message
    assert "Anthropic" in message


def test_an_upstream_400_keeps_its_status_and_message_for_relayed_requests(
    make_gateway: Callable[..., Gateway],
) -> None:
    with open_target("anthropic", make_gateway) as native, pytest.raises(anthropic.BadRequestError) as caught:
        sdk(native.gateway).messages.create(
            model="claude-fake", max_tokens=10, messages=[{"role": "assistant", "content": "first"}]
        )

    body = caught.value.body
    assert isinstance(body, dict)
    assert body["type"] == "error"
    assert body["error"]["type"] == "invalid_request_error"
    assert "user" in body["error"]["message"]  # the upstream's own words


# --- routing and limits -------------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
def test_unknown_model_is_404(target: Target, stream: bool) -> None:
    with pytest.raises(anthropic.NotFoundError) as caught:
        sdk(target.gateway).messages.create(
            model="no-such-model", max_tokens=10, messages=HELLO, stream=stream
        )

    assert caught.value.body["error"]["type"] == "not_found_error"  # type: ignore[index]
    assert "no-such-model" in caught.value.body["error"]["message"]  # type: ignore[index]
    with pytest.raises(anthropic.NotFoundError):
        sdk(target.gateway).messages.count_tokens(model="no-such-model", messages=HELLO)


def test_unknown_route_and_wrong_method_answer_in_anthropic_shape(target: Target) -> None:
    assert_anthropic_error(post(target.gateway, "/v1/messages/batches", {}), 404, "not_found_error")
    wrong_method = SHARED_HTTP.get(target.gateway.url + "/v1/messages", headers=ANTHROPIC_HEADERS)
    assert_anthropic_error(wrong_method, 405, "invalid_request_error")
    assert "POST" in wrong_method.headers["Allow"]


def test_body_over_the_limit_is_413(make_gateway: Callable[..., Gateway]) -> None:
    with open_target("openai", make_gateway, BODY_SIZE_LIMIT="64K") as target:
        big = [{"role": "user", "content": "x" * 100_000}]
        for path in ("/v1/messages", "/v1/messages/count_tokens"):
            response = post(target.gateway, path, {"model": target.model, "max_tokens": 10, "messages": big})
            assert_anthropic_error(response, 413, "request_too_large")
        with pytest.raises(anthropic.APIStatusError) as caught:
            sdk(target.gateway).messages.create(model=target.model, max_tokens=10, messages=big)
        assert caught.value.status_code == 413
        assert target.calls() == []


# --- upstream failures ------------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
def test_upstream_429_keeps_status_and_retry_after(target: Target, stream: bool) -> None:
    with pytest.raises(anthropic.RateLimitError) as caught:
        sdk(target.gateway).messages.create(model="fault-429", max_tokens=10, messages=HELLO, stream=stream)

    assert caught.value.response.headers["retry-after"] == RETRY_AFTER
    assert caught.value.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]


@pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
def test_upstream_5xx_is_a_502_api_error(target: Target, stream: bool) -> None:
    with pytest.raises(anthropic.InternalServerError) as caught:
        sdk(target.gateway).messages.create(model="fault-500", max_tokens=10, messages=HELLO, stream=stream)

    assert caught.value.status_code == 502
    assert caught.value.body["error"]["type"] == "api_error"  # type: ignore[index]


def test_anthropic_overloaded_is_reported_as_overloaded(make_gateway: Callable[..., Gateway]) -> None:
    with open_target("anthropic", make_gateway) as native:
        response = post(
            native.gateway, "/v1/messages", {"model": "fault-529", "max_tokens": 10, "messages": HELLO}
        )

    assert_anthropic_error(response, 502, "overloaded_error")


def test_unreachable_upstream_is_a_502_not_a_500(make_gateway: Callable[..., Gateway]) -> None:
    gateway = make_gateway(
        {
            "GOMODEL_MASTER_KEY": MASTER_KEY,
            "GROQ_API_KEY": "k",
            "GROQ_BASE_URL": "http://127.0.0.1:9/v1",
            "CONFIGURED_PROVIDER_MODELS_MODE": "allowlist",
        },
        "providers:\n  groq:\n    type: groq\n    api_key: k\n    base_url: http://127.0.0.1:9/v1\n"
        "    models: [gpt-fake]\n",
    )
    for stream in (False, True):
        response = post(
            gateway,
            "/v1/messages",
            {"model": "gpt-fake", "max_tokens": 10, "messages": HELLO, "stream": stream},
        )
        assert_anthropic_error(response, 502, "api_error")


def test_native_relay_of_a_non_json_answer_is_a_502(make_gateway: Callable[..., Gateway]) -> None:
    with open_target("anthropic", make_gateway) as native:
        response = post(
            native.gateway, "/v1/messages", {"model": "fault-garbage", "max_tokens": 10, "messages": HELLO}
        )

        assert_anthropic_error(response, 502, "api_error")


def test_translated_non_json_answer_is_a_502(make_gateway: Callable[..., Gateway]) -> None:
    with open_target("openai", make_gateway) as translated:
        for stream in (False, True):
            body = {"model": "fault-garbage", "max_tokens": 10, "messages": HELLO, "stream": stream}
            assert_anthropic_error(post(translated.gateway, "/v1/messages", body), 502, "api_error")
