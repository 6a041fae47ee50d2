"""The fake Anthropic API, checked with the official ``anthropic`` SDK and raw HTTP.

Gateway tests trust the fake as "the real API", so its answers must parse in Anthropic's own SDK and
its refusals must be the ones the real API gives for the same mistakes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import orjson
import pytest

from gomodel.testing.fake_anthropic import FakeAnthropic
from gomodel.testing.fake_anthropic_wire import sample_value, split

KEY = "fake-anthropic-key"
WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city"],
    },
}
CLOCK = {"name": "get_time", "input_schema": {"type": "object", "properties": {}}}
HELLO: list[Any] = [{"role": "user", "content": "Hello there"}]


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(json_pieces=3, models=("claude-fake", "claude-b", "claude-c")).serve() as running:
        yield running


@pytest.fixture
def client(fake: FakeAnthropic) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key=KEY, base_url=fake.base_url.removesuffix("/v1"), max_retries=0)


def post(fake: FakeAnthropic, body: dict[str, Any], **headers: str) -> httpx.Response:
    sent = {"x-api-key": KEY, "anthropic-version": "2023-06-01", **headers}
    return httpx.post(fake.base_url + "/messages", json=body, headers={k: v for k, v in sent.items() if v})


def create(**fields: Any) -> dict[str, Any]:
    return {"model": "claude-fake", "max_tokens": 100, "messages": HELLO, **fields}


def rejection(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()
    assert body["type"] == "error"
    return response.status_code, body["error"]["type"], body["error"]["message"]


# --- answers the SDK understands --------------------------------------------------------------------


def test_sdk_reads_a_text_answer(client: anthropic.Anthropic, fake: FakeAnthropic) -> None:
    message = client.messages.create(**create(system="Be brief."))

    assert message.content[0].type == "text"
    assert message.content[0].text == "tok0 tok1 tok2 tok3 tok4 "
    assert message.stop_reason == "end_turn"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (4, 5)
    assert fake.requests[-1].path == "/v1/messages"


def test_sdk_accumulates_a_streamed_tool_use_answer(client: anthropic.Anthropic) -> None:
    with client.messages.stream(**create(tools=[WEATHER, CLOCK])) as stream:
        events = [event.type for event in stream]
        message = stream.get_final_message()

    assert [block.type for block in message.content] == ["text", "tool_use", "tool_use"]
    assert message.content[1].input == {"city": "city-value", "days": 1}  # type: ignore[union-attr]
    assert message.content[2].input == {}  # type: ignore[union-attr]
    assert message.stop_reason == "tool_use"
    assert events.count("content_block_stop") == 3
    assert "input_json" in events


def test_sdk_accumulates_thinking_with_its_signature(client: anthropic.Anthropic) -> None:
    with client.messages.stream(
        **create(max_tokens=3000, thinking={"type": "enabled", "budget_tokens": 1024})
    ) as stream:
        message = stream.get_final_message()

    thinking = message.content[0]
    assert thinking.type == "thinking"
    assert thinking.thinking == "Thinking it over."
    assert thinking.signature.startswith("sig-msg_fake_")


def test_tool_results_are_answered_with_text(client: anthropic.Anthropic) -> None:
    first = client.messages.create(**create(tools=[WEATHER]))
    call = next(block for block in first.content if block.type == "tool_use")
    follow_up: list[Any] = [
        *HELLO,
        {"role": "assistant", "content": [block.model_dump(exclude_none=True) for block in first.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "sunny"}]},
    ]

    second = client.messages.create(**create(tools=[WEATHER], messages=follow_up))
    assert second.stop_reason == "end_turn"


def test_structured_output_answers_json_matching_the_schema(client: anthropic.Anthropic) -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "ok": {"type": "boolean"}},
        "additionalProperties": False,
    }
    message = client.messages.create(
        **create(output_config={"format": {"type": "json_schema", "schema": schema}})
    )

    assert orjson.loads("".join(b.text for b in message.content if b.type == "text")) == {
        "name": "name-value",
        "ok": True,
    }


def test_max_tokens_cuts_the_answer(client: anthropic.Anthropic) -> None:
    message = client.messages.create(**create(max_tokens=2))

    assert message.stop_reason == "max_tokens"
    assert message.content[0].text == "tok0 tok1 "  # type: ignore[union-attr]


def test_sdk_pages_through_the_model_list() -> None:
    with FakeAnthropic(models=("a", "b", "c", "d", "e"), max_page_size=2).serve() as fake:
        client = anthropic.Anthropic(api_key=KEY, base_url=fake.base_url.removesuffix("/v1"), max_retries=0)

        assert [model.id for model in client.models.list(limit=1000)] == ["a", "b", "c", "d", "e"]
        assert [r.query.get("after_id") for r in fake.requests] == [None, "b", "d"]


def test_write_size_splits_utf8_anywhere_and_the_sdk_still_reads_it() -> None:
    text = "Grüße 🇨🇭 東京 — ça va?"
    with FakeAnthropic(reply_text=text, chunks=4, write_size=3).serve() as fake:
        client = anthropic.Anthropic(api_key=KEY, base_url=fake.base_url.removesuffix("/v1"), max_retries=0)
        with client.messages.stream(**create()) as stream:
            assert stream.get_final_text() == text


# --- strictness ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (create(frequency_penalty=0.5), "frequency_penalty: Extra inputs are not permitted"),
        ({"model": "claude-fake", "messages": HELLO}, "max_tokens: Field required"),
        (create(messages=[*HELLO, *HELLO]), 'found multiple "user" roles in a row'),
        (create(messages=[{"role": "assistant", "content": "Hi"}]), 'first message must use the "user" role'),
        (create(messages=[{"role": "user", "content": ""}]), "must have non-empty content"),
        (
            create(messages=[{"role": "user", "content": [{"type": "text", "text": "  "}]}]),
            "non-whitespace text",
        ),
        (create(messages=[{"role": "system", "content": "x"}]), "Input should be 'user' or 'assistant'"),
        (
            create(
                messages=[{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1"}]}]
            ),
            "unexpected `tool_use_id` found in `tool_result` blocks: toolu_1",
        ),
        (
            create(
                messages=[
                    *HELLO,
                    {
                        "role": "assistant",
                        "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {}}],
                    },
                    {"role": "user", "content": "no result"},
                ]
            ),
            "`tool_use` ids were found without `tool_result` blocks immediately after: t1",
        ),
        (
            create(
                messages=[
                    *HELLO,
                    {
                        "role": "assistant",
                        "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {}}],
                    },
                    {
                        "role": "user",
                        "content": [
                            {"type": "text", "text": "x"},
                            {"type": "tool_result", "tool_use_id": "t1"},
                        ],
                    },
                ]
            ),
            "tool_result blocks must come before any other content",
        ),
        (
            create(max_tokens=1024, thinking={"type": "enabled", "budget_tokens": 1024}),
            "must be greater than",
        ),
        (
            create(max_tokens=3000, thinking={"type": "enabled", "budget_tokens": 512}),
            "greater than or equal to 1024",
        ),
        (
            create(max_tokens=3000, temperature=0.2, thinking={"type": "enabled", "budget_tokens": 1024}),
            "`temperature` may only be set to 1 when thinking is enabled",
        ),
        (
            create(
                output_config={
                    "format": {"type": "json_schema", "schema": {"type": "object", "properties": {}}}
                }
            ),
            "'additionalProperties' must be explicitly set to false",
        ),
        (create(tools=[{"name": "f", "input_schema": {"type": "string"}}]), "Input should be 'object'"),
        (create(temperature=1.5), "temperature: Input should be between 0 and 1"),
        (create(metadata={"user_id": "u", "trace": "x"}), "metadata.trace: Extra inputs are not permitted"),
    ],
)
def test_invalid_requests_are_refused_like_the_real_api(
    fake: FakeAnthropic, body: dict[str, Any], message: str
) -> None:
    status, error_type, text = rejection(post(fake, body))

    assert (status, error_type) == (400, "invalid_request_error")
    assert message in text


def test_unknown_model_is_a_404(fake: FakeAnthropic) -> None:
    assert rejection(post(fake, create(model="claude-nope"))) == (
        404,
        "not_found_error",
        "model: claude-nope",
    )


@pytest.mark.parametrize(
    ("key", "message"), [("", "x-api-key header is required"), ("wrong", "invalid x-api-key")]
)
def test_missing_or_wrong_key_is_a_401(fake: FakeAnthropic, key: str, message: str) -> None:
    assert rejection(post(fake, create(), **{"x-api-key": key})) == (401, "authentication_error", message)


def test_missing_version_header_is_a_400(fake: FakeAnthropic) -> None:
    status, _, message = rejection(post(fake, create(), **{"anthropic-version": ""}))

    assert (status, message) == (400, "anthropic-version: header is required")


def test_a_bearer_token_is_taken_as_the_key(fake: FakeAnthropic) -> None:
    accepted = post(fake, create(), **{"x-api-key": "", "Authorization": f"Bearer {KEY}"})
    refused = post(fake, create(), **{"x-api-key": "", "Authorization": "Bearer nope"})

    assert accepted.status_code == 200
    assert rejection(refused) == (401, "authentication_error", "invalid x-api-key")


# --- faults --------------------------------------------------------------------------------------------


def test_rate_limit_fault_carries_retry_after(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.RateLimitError) as info:
        client.messages.create(**create(model="fault-429"))

    assert info.value.response.headers["retry-after"] == "7"


def test_overloaded_fault_is_a_529(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.InternalServerError) as info:
        client.messages.create(**create(model="fault-529"))

    assert info.value.status_code == 529
    assert info.value.body["error"]["type"] == "overloaded_error"  # type: ignore[index]


def test_mid_stream_error_event_reaches_the_sdk(client: anthropic.Anthropic) -> None:
    with (
        pytest.raises(anthropic.APIStatusError, match="Overloaded"),
        client.messages.stream(**create(model="fault-stream-error")) as stream,
    ):
        for _ in stream:
            pass


def test_stream_faults_do_not_affect_plain_requests(client: anthropic.Anthropic) -> None:
    assert client.messages.create(**create(model="fault-stream-error")).stop_reason == "end_turn"


# --- helpers -------------------------------------------------------------------------------------------


def test_sample_value_follows_the_schema() -> None:
    schema = {
        "type": "object",
        "properties": {
            "unit": {"enum": ["celsius", "fahrenheit"]},
            "tags": {"type": "array", "items": {"type": "string"}},
            "maybe": {"type": ["null", "number"]},
            "either": {"anyOf": [{"type": "boolean"}, {"type": "string"}]},
        },
    }

    assert sample_value(schema) == {"unit": "celsius", "tags": ["tags-value"], "maybe": 1.5, "either": True}


def test_split_keeps_every_character_in_order() -> None:
    assert split("abcdefg", 3) == ("abc", "def", "g")
    assert split("x", 4) == ("x",)
    assert "".join(split("Grüße 🇨🇭", 5)) == "Grüße 🇨🇭"
