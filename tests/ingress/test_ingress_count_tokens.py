"""``POST /v1/messages/count_tokens`` through the official ``anthropic`` SDK.

Anthropic counts for itself (the request is relayed, bytes and beta header untouched); for every other
provider the gateway answers a deterministic estimate without calling the upstream: more than zero for
any input, the same for the same input, growing with the input, and quick even for megabytes of text.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import httpx2
import pytest

from tests.harness import MASTER_KEY, Gateway
from tests.ingress.fixtures.upstreams import ANTHROPIC_KEY, Target, anthropic_sdk, native_count, open_target

HELLO: list[Any] = [{"role": "user", "content": "hello there"}]
WEATHER: dict[str, Any] = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


@pytest.fixture(params=["openai", "gemini"])
def estimated(request: pytest.FixtureRequest, make_gateway: Callable[..., Gateway]) -> Iterator[Target]:
    with open_target(request.param, make_gateway) as running:
        yield running


@pytest.fixture
def native(make_gateway: Callable[..., Gateway]) -> Iterator[Target]:
    with open_target("anthropic", make_gateway) as running:
        yield running


def count(target: Target, **request: Any) -> int:
    request.setdefault("model", target.model)
    request.setdefault("messages", HELLO)
    return anthropic_sdk(target.gateway).messages.count_tokens(**request).input_tokens


# --- native -------------------------------------------------------------------------------------------------


def test_anthropic_counts_natively_with_the_clients_bytes_and_betas(native: Target) -> None:
    sent: list[httpx2.Request] = []

    def capture(request: httpx2.Request) -> None:
        request.read()
        sent.append(request)

    client = anthropic_sdk(
        native.gateway, http_client=httpx2.Client(timeout=20, event_hooks={"request": [capture]})
    )
    result = client.beta.messages.count_tokens(
        model="claude-fake",
        messages=HELLO,
        system="Be brief.",
        tools=[WEATHER],
        betas=["made-up-beta-2099-01-01"],
        extra_query={"beta": "true"},
    )

    (received,) = native.calls()
    assert received.path == "/v1/messages/count_tokens"
    assert received.body == sent[0].content
    assert received.headers["anthropic-beta"] == sent[0].headers["anthropic-beta"]
    assert "made-up-beta-2099-01-01" in received.headers["anthropic-beta"]
    assert received.headers["x-api-key"] == ANTHROPIC_KEY
    assert all(MASTER_KEY not in value for value in received.headers.values())
    assert result.input_tokens == native_count(received.json)


def test_anthropic_count_with_a_provider_prefix_sends_the_plain_model(native: Target) -> None:
    tokens = count(native, model="anthropic/claude-fake")

    (received,) = native.calls()
    assert received.json == {"model": "claude-fake", "messages": HELLO}
    assert tokens == native_count(received.json)


def test_anthropic_count_of_two_megabytes(native: Target) -> None:
    text = "lorem ipsum dolor sit amet " * 80_000

    tokens = count(native, messages=[{"role": "user", "content": text}])

    assert tokens == native_count(native.calls()[0].json)


def test_native_count_errors_keep_anthropics_status(native: Target) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        anthropic_sdk(native.gateway).messages.count_tokens(
            model="claude-fake", messages=HELLO, extra_body={"max_tokens": 10}
        )

    assert "max_tokens" in caught.value.message


# --- estimated ------------------------------------------------------------------------------------------


def test_estimate_is_positive_stable_and_never_calls_the_upstream(estimated: Target) -> None:
    first = count(estimated)
    second = count(estimated)

    assert first == second > 0
    assert count(estimated, messages=[{"role": "user", "content": "hi"}]) > 0
    assert estimated.calls() == []


def test_estimate_grows_with_the_input(estimated: Target) -> None:
    base = count(estimated)
    longer = count(estimated, messages=[{"role": "user", "content": "hello there " * 50}])
    with_system = count(estimated, system="You are a careful assistant who explains every step.")
    with_tools = count(estimated, tools=[WEATHER])
    with_image = count(
        estimated,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "hello there"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PIXEL}},
                ],
            }
        ],
    )
    turns = count(
        estimated,
        messages=[
            *HELLO,
            {"role": "assistant", "content": "hi!"},
            {"role": "user", "content": "how are you?"},
        ],
    )

    assert base < longer
    assert base < with_system
    assert base < with_tools
    assert base < with_image
    assert base < turns


def test_estimate_counts_tool_use_and_tool_result_blocks(estimated: Target) -> None:
    tool_turns: list[Any] = [
        *HELLO,
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "Sunny and 21 C"}],
        },
    ]

    assert count(estimated, messages=tool_turns, tools=[WEATHER]) > count(estimated, tools=[WEATHER])


def test_estimate_takes_what_claude_code_sends(estimated: Target) -> None:
    """Thinking, cache_control, betas and ?beta=true are accepted and do not change the count."""
    plain = count(estimated, system="Be brief.")
    client = anthropic_sdk(estimated.gateway)

    decorated = client.beta.messages.count_tokens(
        model=estimated.model,
        system=[{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
        messages=HELLO,
        thinking={"type": "enabled", "budget_tokens": 2048},
        betas=["interleaved-thinking-2025-05-14", "made-up-beta-2099-01-01"],
        extra_query={"beta": "true"},
    )

    assert decorated.input_tokens == plain


def test_estimate_of_two_megabytes_answers_quickly(estimated: Target) -> None:
    text = "lorem ipsum dolor sit amet " * 80_000  # 2.16 MB
    assert len(text) > 2_000_000

    started = time.perf_counter()
    tokens = count(estimated, messages=[{"role": "user", "content": text}])
    elapsed = time.perf_counter() - started

    assert tokens > len(text) // 8
    assert tokens == count(estimated, messages=[{"role": "user", "content": text}])
    assert elapsed < 5


def test_estimate_for_non_ascii_text_is_not_undercounted(estimated: Target) -> None:
    ascii_count = count(estimated, messages=[{"role": "user", "content": "a" * 400}])
    cjk_count = count(estimated, messages=[{"role": "user", "content": "字" * 400}])

    assert cjk_count > ascii_count


def test_count_tokens_needs_no_max_tokens_but_still_checks_the_request(estimated: Target) -> None:
    client = anthropic_sdk(estimated.gateway)
    with pytest.raises(anthropic.BadRequestError):
        client.messages.count_tokens(model=estimated.model, messages=[])
    with pytest.raises(anthropic.BadRequestError):
        client.messages.count_tokens(
            model=estimated.model, messages=[{"role": "user", "content": [{"type": "video"}]}]
        )
