"""``POST /v1/responses`` streams, read by the official ``openai`` SDK, against each kind of upstream.

OpenAI (native Responses API) gets the request relayed and its event stream comes back byte for byte;
every other upstream gets chat, and the gateway writes the Responses event sequence itself. Those
transcripts are compared whole: item order and ``output_index``, every delta, the ``.done`` events,
``sequence_number`` running 0, 1, 2..., and the final ``response`` with its usage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import openai
import orjson
import pytest

from gomodel.testing.fake_anthropic_wire import split as anthropic_split
from gomodel.testing.fake_gemini_wire import TOOL_ARGUMENTS, UNICODE_PIECE
from tests.harness import Gateway
from tests.ingress.fixtures.transcripts import (
    function_call_closing,
    function_call_deltas,
    function_call_item,
    function_call_opening,
    message_item_events,
    normalise,
    reasoning_item_events,
    response_snapshot,
    responses_usage,
    sse_payloads,
)
from tests.ingress.fixtures.upstreams import (
    ARGUMENT_PIECES,
    ERROR_MESSAGE,
    LEAD_PIECES,
    REASONING_PIECES,
    SHARED_HTTP,
    TEXT_PIECES,
    Target,
    arguments_for,
    fixture_bytes,
    open_target,
    openai_sdk,
    split,
)

WEATHER: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
        "required": ["city"],
    },
}
CLOCK: dict[str, Any] = {
    "type": "function",
    "name": "get_time",
    "parameters": {"type": "object", "properties": {"timezone": {"type": "string"}}},
}
GEMINI_TEXT = (*TEXT_PIECES, UNICODE_PIECE)
ANTHROPIC_TEXT = tuple(f"tok{i} " for i in range(5))


@pytest.fixture(params=["openai", "anthropic", "gemini"])
def translated(request: pytest.FixtureRequest, make_gateway: Callable[..., Gateway]) -> Iterator[Target]:
    """Upstreams without a Responses API of their own (the OpenAI-compatible fake registered as Groq)."""
    with open_target(request.param, make_gateway) as running:
        yield running


@pytest.fixture
def native(make_gateway: Callable[..., Gateway]) -> Iterator[Target]:
    with open_target("openai-native", make_gateway) as running:
        yield running


def read(stream: Any) -> list[dict[str, Any]]:
    """A normalised transcript, after checking ``sequence_number`` runs 0, 1, 2... without a gap."""
    events = normalise(stream)
    numbers = [event.pop("sequence_number") for event in events]
    assert numbers == list(range(len(events)))
    return events


def message_item(pieces: tuple[str, ...]) -> dict[str, Any]:
    part = {"type": "output_text", "text": "".join(pieces), "annotations": [], "logprobs": []}
    return {"id": "msg_*", "type": "message", "status": "completed", "role": "assistant", "content": [part]}


def reasoning_item(text: str, signature: str | None = None) -> dict[str, Any]:
    item = {"id": "rs_*", "type": "reasoning", "summary": [{"type": "summary_text", "text": text}]}
    return item | ({"encrypted_content": signature} if signature else {})


def transcript(
    model: str,
    items: list[dict[str, Any]],
    output: list[dict[str, Any]],
    usage: dict[str, Any],
    **echo: Any,
) -> list[dict[str, Any]]:
    opening = response_snapshot(model, "in_progress", [], None, **echo)
    return [
        {"type": "response.created", "response": opening},
        {"type": "response.in_progress", "response": opening},
        *items,
        {
            "type": "response.completed",
            "response": response_snapshot(model, "completed", output, usage, **echo),
        },
    ]


# --- expected transcripts, per upstream -------------------------------------------------------------------


def expected_text(target: Target) -> list[dict[str, Any]]:
    pieces = {"anthropic": ANTHROPIC_TEXT, "gemini": GEMINI_TEXT}.get(target.kind, TEXT_PIECES)
    usage = responses_usage(2, len(pieces))
    return transcript(target.model, message_item_events(0, pieces), [message_item(pieces)], usage)


def expected_tools(target: Target) -> list[dict[str, Any]]:
    weather_args = arguments_for(WEATHER)
    clock_args = arguments_for(CLOCK)
    if target.kind == "gemini":
        signature = "c2lnOmdlbWluaS0yLjUtZmxhc2g6Z2V0X3dlYXRoZXI="
        calls = [
            (
                f"call_0__thought__{signature}",
                "get_weather",
                (orjson.dumps({**TOOL_ARGUMENTS, "n": 0}).decode(),),
            ),
            ("call_1", "get_time", (orjson.dumps({**TOOL_ARGUMENTS, "n": 1}).decode(),)),
        ]
        lead: tuple[str, ...] = ()
        output_tokens = 2
    elif target.kind == "anthropic":
        calls = [
            ("toolu_msg_fake_1_0", "get_weather", anthropic_split(weather_args, 4)),
            ("toolu_msg_fake_1_1", "get_time", anthropic_split(clock_args, 4)),
        ]
        lead = LEAD_PIECES
        output_tokens = len(lead) + 4 + 4
    else:
        calls = [
            ("call_chatcmpl-scripted-1_0", "get_weather", split(weather_args, ARGUMENT_PIECES)),
            ("call_chatcmpl-scripted-1_1", "get_time", split(clock_args, ARGUMENT_PIECES)),
        ]
        lead = LEAD_PIECES
        output_tokens = len(lead) + 2 * ARGUMENT_PIECES
    first = 1 if lead else 0
    items = message_item_events(0, lead) if lead else []
    # Calls stay open until the answer ends (chat upstreams may interleave parallel calls' deltas).
    for n, (call_id, name, pieces) in enumerate(calls):
        items += [function_call_opening(first + n, call_id, name), *function_call_deltas(first + n, pieces)]
    for n, (call_id, name, pieces) in enumerate(calls):
        items += function_call_closing(first + n, call_id, name, "".join(pieces))
    output = [message_item(lead)] if lead else []
    output += [function_call_item(i, name, "".join(pieces), "completed") for i, name, pieces in calls]
    return transcript(target.model, items, output, responses_usage(2, output_tokens), tools=[WEATHER, CLOCK])


def expected_reasoning(target: Target) -> list[dict[str, Any]]:
    signature = None
    if target.kind == "gemini":
        thinking: tuple[str, ...] = ("Thinking it over…",)
        pieces = GEMINI_TEXT
        usage = responses_usage(2, 4 + 7, reasoning_tokens=7)
    elif target.kind == "anthropic":
        # Anthropic's signature rides in encrypted_content, for the client to hand back.
        thinking, pieces, signature = REASONING_PIECES, ANTHROPIC_TEXT, "sig-msg_fake_1"
        usage = responses_usage(2, 3 + 5)
    else:
        thinking, pieces = REASONING_PIECES, TEXT_PIECES
        usage = responses_usage(2, 3 + 3)
    items = [*reasoning_item_events(0, thinking, signature), *message_item_events(1, pieces)]
    output = [reasoning_item("".join(thinking), signature), message_item(pieces)]
    echo = {"reasoning": {"effort": "low"}, "max_output_tokens": 4000}
    return transcript(target.reasoner, items, output, usage, **echo)


# --- translated streams ---------------------------------------------------------------------------------


def test_text_transcript(translated: Target) -> None:
    stream = openai_sdk(translated.gateway).responses.create(
        model=translated.model, input="hello there", stream=True
    )

    assert read(stream) == expected_text(translated)


def test_parallel_function_calls_with_arguments_over_many_deltas(translated: Target) -> None:
    stream = openai_sdk(translated.gateway).responses.create(
        model=translated.model, input="hello there", tools=[WEATHER, CLOCK], stream=True
    )

    assert read(stream) == expected_tools(translated)


def test_reasoning_transcript(translated: Target) -> None:
    stream = openai_sdk(translated.gateway).responses.create(
        model=translated.reasoner,
        input="hello there",
        reasoning={"effort": "low"},
        max_output_tokens=4000,
        stream=True,
    )

    assert read(stream) == expected_reasoning(translated)


def test_stream_helper_gives_the_final_response(translated: Target) -> None:
    client = openai_sdk(translated.gateway)
    with client.responses.stream(model=translated.model, input="hello there", tools=[WEATHER]) as stream:
        deltas = [event.delta for event in stream if event.type == "response.function_call_arguments.delta"]
        final = stream.get_final_response()

    assert final.status == "completed"
    (call,) = [item for item in final.output if item.type == "function_call"]
    assert call.name == "get_weather"
    assert "".join(deltas) == call.arguments
    assert orjson.loads(call.arguments)["city"]
    assert final.usage is not None
    assert final.usage.total_tokens == final.usage.input_tokens + final.usage.output_tokens


def test_mid_stream_upstream_error_ends_in_response_failed(translated: Target) -> None:
    client = openai_sdk(translated.gateway)
    events = read(client.responses.create(model="fault-stream-error", input="hello there", stream=True))

    # The SDK raises on neither `response.failed` nor `error`; the client tells by the last event.
    last = events[-1]
    assert last["type"] == "response.failed"
    assert last["response"]["status"] == "failed"
    assert last["response"]["id"] == events[0]["response"]["id"]
    error = last["response"]["error"]
    upstream_message = {
        "openai": ERROR_MESSAGE,
        "anthropic": "Overloaded",
        "gemini": "An internal error has occurred.",
    }[translated.kind]
    assert upstream_message in error["message"]
    assert error["code"]
    assert not [e for e in events if e["type"] in ("response.completed", "response.output_text.done")]
    # What had arrived is kept in the failed response.
    text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert text
    assert last["response"]["output"][0]["content"][0]["text"] == text

    # The stream helper cannot hand out a final response for it.
    with client.responses.stream(model="fault-stream-error", input="hello there") as stream:
        kinds = [event.type for event in stream]
        with pytest.raises(RuntimeError, match=r"response\.completed"):
            stream.get_final_response()
    assert kinds[-1] == "response.failed"


def test_message_item_opens_empty_and_gets_its_part_from_content_part_added(translated: Target) -> None:
    events = normalise(
        openai_sdk(translated.gateway).responses.create(
            model=translated.model, input="hello there", stream=True
        )
    )

    added = next(e for e in events if e["type"] == "response.output_item.added")
    assert added["item"]["type"] == "message"
    assert added["item"]["content"] == []  # as OpenAI sends it; the part arrives with content_part.added
    part_added = [e for e in events if e["type"] == "response.content_part.added"]
    assert [e["content_index"] for e in part_added] == [0]


async def test_async_client_streams(translated: Target) -> None:
    client = translated.gateway.async_client()
    async with client.responses.stream(model=translated.model, input="hello there") as stream:
        text = "".join([event.delta async for event in stream if event.type == "response.output_text.delta"])
        final = await stream.get_final_response()

    assert text == final.output_text
    assert final.status == "completed"


# --- native relay ---------------------------------------------------------------------------------------


def test_native_stream_is_relayed_byte_for_byte(native: Target) -> None:
    response = SHARED_HTTP.post(
        native.gateway.api_base + "/responses",
        headers={"Authorization": f"Bearer {native.gateway.key}"},
        json={"model": "gpt-fake", "input": "hello there", "stream": True},
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.content == fixture_bytes("responses_text.sse")


def test_native_stream_through_the_sdk(native: Target) -> None:
    client = openai_sdk(native.gateway)
    with client.responses.stream(model="gpt-fake", input="hello there", instructions="Be kind.") as stream:
        deltas = [event.delta for event in stream if event.type == "response.output_text.delta"]
        final = stream.get_final_response()

    recorded = [data for _, data in sse_payloads(fixture_bytes("responses_text.sse"))]
    assert deltas == [e["delta"] for e in recorded if e["type"] == "response.output_text.delta"]
    assert final.output_text == "Hi there! How can I assist you today?"
    assert final.usage is not None
    assert final.usage.total_tokens == 48
    (sent,) = native.calls()
    assert sent.path == "/v1/responses"
    assert sent.json == {
        "model": "gpt-fake",
        "input": "hello there",
        "instructions": "Be kind.",
        "stream": True,
    }


def test_native_failed_stream_is_relayed_and_recognisable(native: Target) -> None:
    events = normalise(
        openai_sdk(native.gateway).responses.create(model="fault-stream-error", input="x", stream=True)
    )

    recorded = normalise(data for _, data in sse_payloads(fixture_bytes("responses_failed.sse")))
    assert events == recorded
    assert events[-1]["type"] == "response.failed"
    assert events[-1]["response"]["error"]["code"] == "server_error"


def test_native_stream_cut_midway_ends_in_an_error_event(native: Target) -> None:
    events = normalise(
        openai_sdk(native.gateway).responses.create(model="fault-stream-cut", input="x", stream=True)
    )

    recorded = normalise(data for _, data in sse_payloads(fixture_bytes("responses_text.sse")))
    assert events[:-1] == recorded[:3]
    assert events[-1]["type"] == "error"
    assert "lost" in events[-1]["message"]


def test_native_stream_cut_midway_error_event_continues_the_numbering(native: Target) -> None:
    events = normalise(
        openai_sdk(native.gateway).responses.create(model="fault-stream-cut", input="x", stream=True)
    )

    assert events[-1]["type"] == "error"
    assert [event.get("sequence_number") for event in events] == list(range(len(events)))


def test_translated_stream_cut_midway_ends_in_response_failed(translated: Target) -> None:
    events = read(
        openai_sdk(translated.gateway).responses.create(model="fault-stream-cut", input="x", stream=True)
    )

    assert events[-1]["type"] == "response.failed"
    assert events[-1]["response"]["error"]["code"] == "upstream_connection_lost"


@pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
def test_answer_cut_by_max_output_tokens_is_incomplete(
    make_gateway: Callable[..., Gateway], stream: bool
) -> None:
    with open_target("anthropic", make_gateway) as target:
        client = openai_sdk(target.gateway)
        if stream:
            events = read(
                client.responses.create(model="claude-fake", input="hi", max_output_tokens=2, stream=True)
            )
            assert events[-1]["type"] == "response.incomplete"
            response = events[-1]["response"]
        else:
            response = client.responses.create(model="claude-fake", input="hi", max_output_tokens=2).to_dict()

    assert response["status"] == "incomplete"
    assert response["incomplete_details"] == {"reason": "max_output_tokens"}
    assert response["output"][0]["content"][0]["text"] == "tok0 tok1 "


def test_sdk_raises_for_an_error_before_the_stream_started(translated: Target) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        list(openai_sdk(translated.gateway).responses.create(model="fault-429", input="x", stream=True))

    assert caught.value.response.headers["retry-after"] == "7"
