"""Every ``/v1/messages``, ``/v1/messages/count_tokens`` and ``/v1/responses`` request leaves exactly one
record, with the usage of whichever path served it: relayed natively or translated, streamed or not,
completed, refused, failed midway or abandoned by its client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import openai
import pytest

from gomodel.core.records import RequestRecord, Usage
from gomodel.testing.fake_upstream import FakeUpstream
from tests.harness import MASTER_KEY, Gateway
from tests.ingress.fixtures.upstreams import Target, anthropic_sdk, open_target, openai_sdk

HELLO: list[Any] = [{"role": "user", "content": "hello there"}]
#: The Anthropic fake reports cache reads and writes too, so the records must carry them.
CACHE = {"cache_read_tokens": 40, "cache_creation_tokens": 10}
PROVIDERS = {
    "openai": ("groq", "groq"),
    "openai-native": ("openai", "openai"),
    "anthropic": ("anthropic", "anthropic"),
    "gemini": ("gemini", "gemini"),
}
MESSAGES_USAGE = {
    "openai": Usage(prompt_tokens=2, completion_tokens=3, total_tokens=5),
    "anthropic": Usage(
        prompt_tokens=2 + 40 + 10,
        completion_tokens=5,
        total_tokens=57,
        cached_tokens=40,
        cache_creation_tokens=10,
    ),
    "gemini": Usage(prompt_tokens=2, completion_tokens=4, total_tokens=6),
}


@pytest.fixture(params=["openai", "anthropic", "gemini"])
def target(request: pytest.FixtureRequest, make_gateway: Callable[..., Gateway]) -> Iterator[Target]:
    options = CACHE if request.param == "anthropic" else None
    with open_target(request.param, make_gateway, options) as running:
        yield running


@pytest.fixture(params=["openai", "openai-native", "anthropic", "gemini"])
def responses_target(
    request: pytest.FixtureRequest, make_gateway: Callable[..., Gateway]
) -> Iterator[Target]:
    options = CACHE if request.param == "anthropic" else None
    with open_target(request.param, make_gateway, options) as running:
        yield running


def only_record(gateway: Gateway) -> RequestRecord:
    # The record is handed over before the last byte of the answer, so by now every record is in.
    records = gateway.records.wait_for(1)
    assert len(records) == 1, records
    return records[0]


def assert_served(record: RequestRecord, target: Target, endpoint: str, *, stream: bool) -> None:
    assert record.endpoint == endpoint
    assert record.method == "POST"
    assert (record.provider, record.provider_type) == PROVIDERS[target.kind]
    assert (record.requested_model, record.model) == (target.model, target.model)
    assert record.stream is stream
    assert (record.status, record.error_type, record.error_message) == (200, None, None)
    assert record.ttft_ms is not None
    assert 0 < record.ttft_ms <= record.latency_ms


# --- served -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
def test_messages_request_leaves_one_record_with_usage(target: Target, stream: bool) -> None:
    client = anthropic_sdk(target.gateway)
    if stream:
        with client.messages.stream(model=target.model, max_tokens=100, messages=HELLO) as events:
            events.until_done()
    else:
        client.messages.create(model=target.model, max_tokens=100, messages=HELLO)

    record = only_record(target.gateway)
    assert_served(record, target, "/v1/messages", stream=stream)
    assert record.usage == MESSAGES_USAGE[target.kind]


@pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
def test_responses_request_leaves_one_record_with_usage(responses_target: Target, stream: bool) -> None:
    client = openai_sdk(responses_target.gateway)
    if stream:
        with client.responses.stream(model=responses_target.model, input="hello there") as events:
            events.until_done()
    else:
        client.responses.create(model=responses_target.model, input="hello there")

    record = only_record(responses_target.gateway)
    assert_served(record, responses_target, "/v1/responses", stream=stream)
    expected = {
        **MESSAGES_USAGE,
        # The native fake replays the recorded OpenAI answer, usage details included.
        "openai-native": Usage(
            prompt_tokens=37, completion_tokens=11, total_tokens=48, cached_tokens=0, reasoning_tokens=0
        ),
    }[responses_target.kind]
    assert record.usage == expected


def test_count_tokens_leaves_one_record(target: Target) -> None:
    anthropic_sdk(target.gateway).messages.count_tokens(model=target.model, messages=HELLO)

    record = only_record(target.gateway)
    assert record.endpoint == "/v1/messages/count_tokens"
    assert (record.provider, record.model, record.status) == (PROVIDERS[target.kind][0], target.model, 200)
    assert record.error_type is None


# --- refused and failed -------------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
def test_upstream_rate_limit_is_recorded_as_429(target: Target, stream: bool) -> None:
    with pytest.raises(anthropic.RateLimitError):
        anthropic_sdk(target.gateway).messages.create(
            model="fault-429", max_tokens=10, messages=HELLO, stream=stream
        )
    with pytest.raises(openai.RateLimitError):
        openai_sdk(target.gateway).responses.create(model="fault-429", input="hi", stream=stream)

    messages, responses = target.gateway.records.wait_for(2)
    for record, endpoint in ((messages, "/v1/messages"), (responses, "/v1/responses")):
        assert record.endpoint == endpoint
        assert (record.status, record.error_type, record.model) == (429, "rate_limit_error", "fault-429")
        assert record.provider == PROVIDERS[target.kind][0]


def test_bad_request_and_unknown_model_are_recorded(target: Target) -> None:
    client = anthropic_sdk(target.gateway)
    with pytest.raises(anthropic.BadRequestError):
        client.messages.create(model=target.model, max_tokens=10, messages=[])
    with pytest.raises(anthropic.NotFoundError):
        client.messages.create(model="no-such-model", max_tokens=10, messages=HELLO)

    bad, unknown = target.gateway.records.wait_for(2)
    assert (bad.status, bad.error_type) == (400, "invalid_request_error")
    assert (unknown.status, unknown.requested_model, unknown.provider) == (404, "no-such-model", None)


def test_mid_stream_failure_is_recorded_as_failed_with_what_was_used(target: Target) -> None:
    client = anthropic_sdk(target.gateway)
    stream = client.messages.stream(model="fault-stream-error", max_tokens=10, messages=HELLO)
    with pytest.raises(anthropic.APIStatusError), stream as events:
        events.until_done()
    openai_events = list(
        openai_sdk(target.gateway).responses.create(model="fault-stream-error", input="x", stream=True)
    )
    assert openai_events[-1].type == "response.failed"

    messages, responses = target.gateway.records.wait_for(2)
    for record in (messages, responses):
        assert record.stream is True
        assert record.status == 502
        assert record.error_type == "upstream_error"
        assert record.error_message
    if target.kind == "anthropic":
        # Relayed: the usage read off message_start is kept even though the stream then failed.
        assert messages.usage is not None
        assert messages.usage.prompt_tokens == 2 + 40 + 10


def test_auth_failure_is_refused_before_any_record(target: Target) -> None:
    with pytest.raises(anthropic.AuthenticationError):
        anthropic_sdk(target.gateway, api_key="wrong").messages.create(
            model=target.model, max_tokens=10, messages=HELLO
        )

    assert target.gateway.records.records == []


# --- abandoned ------------------------------------------------------------------------------------------


def wait_for_status(gateway: Gateway, status: int) -> RequestRecord:
    (record,) = gateway.records.wait_for(1)
    assert record.status == status, record
    return record


def test_client_leaving_a_relayed_stream_is_recorded_as_499(make_gateway: Callable[..., Gateway]) -> None:
    with open_target("anthropic", make_gateway, {"chunks": 40, "chunk_delay": 0.05}) as target:
        with anthropic_sdk(target.gateway).messages.stream(
            model=target.model, max_tokens=100, messages=HELLO
        ) as events:
            next(piece for piece in events.text_stream)

        record = wait_for_status(target.gateway, 499)
        assert record.error_type == "client_disconnected"
        assert record.stream is True


def test_client_leaving_a_translated_stream_is_recorded_as_499(make_gateway: Callable[..., Gateway]) -> None:
    with FakeUpstream(models=("gpt-fake",), chunks=40, chunk_delay=0.05).serve() as fake:
        gateway = make_gateway(
            {"GROQ_API_KEY": "fake-key", "GROQ_BASE_URL": fake.base_url, "GOMODEL_MASTER_KEY": MASTER_KEY}
        )
        with anthropic_sdk(gateway).messages.stream(
            model="gpt-fake", max_tokens=100, messages=HELLO
        ) as events:
            next(piece for piece in events.text_stream)
        wait_for_status(gateway, 499)

        gateway.records.records.clear()
        with openai_sdk(gateway).responses.stream(model="gpt-fake", input="hello there") as stream:
            next(event for event in stream if event.type == "response.output_text.delta")
        wait_for_status(gateway, 499)
        # The upstream stream was abandoned too, not read to the end.
        assert fake.wait_for_event("client_disconnected", timeout=5)
