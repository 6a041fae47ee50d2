"""`gomodel.dialects.openai_chat`: request checks, the upstream body, and non-streaming usage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from gomodel.core.errors import InvalidRequestError
from gomodel.core.records import Usage
from gomodel.dialects.openai_chat import ChatCall, parse_chat_request, upstream_chat_body, usage_from_response

FIXTURES = Path(__file__).parent / "fixtures"
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello!"}]


def body(**fields: Any) -> bytes:
    """A chat request body: a valid one, with ``fields`` added or replaced."""
    return orjson.dumps({"model": "gpt-4o-mini", "messages": MESSAGES, **fields})


def call_for(**fields: Any) -> tuple[ChatCall, bytes]:
    raw = body(**fields)
    return parse_chat_request(raw), raw


# --- parse_chat_request ---------------------------------------------------------------------------


def test_parse_minimal_request() -> None:
    call = parse_chat_request(body())

    assert (call.model, call.stream, call.wants_usage) == ("gpt-4o-mini", False, False)
    assert call.payload["messages"] == MESSAGES


def test_parse_keeps_every_field_of_the_payload() -> None:
    call = parse_chat_request(body(temperature=0.2, tools=[], user="u-1", metadata={"k": "v"}))

    assert call.payload == orjson.loads(body(temperature=0.2, tools=[], user="u-1", metadata={"k": "v"}))


@pytest.mark.parametrize(
    ("fields", "stream", "wants_usage"),
    [
        ({"stream": True}, True, False),
        ({"stream": False}, False, False),
        ({"stream": None}, False, False),
        ({"stream": True, "stream_options": {"include_usage": True}}, True, True),
        ({"stream": True, "stream_options": {"include_usage": False}}, True, False),
        ({"stream": True, "stream_options": {"include_usage": "yes"}}, True, False),
        ({"stream": True, "stream_options": {}}, True, False),
        ({"stream": True, "stream_options": None}, True, False),
    ],
)
def test_parse_stream_flags(fields: dict[str, Any], stream: bool, wants_usage: bool) -> None:
    call = parse_chat_request(body(**fields))

    assert (call.stream, call.wants_usage) == (stream, wants_usage)


@pytest.mark.parametrize(
    ("raw", "param", "code"),
    [
        pytest.param(b"", None, "invalid_json", id="empty body"),
        pytest.param(b'{"model": "gpt-4o",', None, "invalid_json", id="invalid json"),
        pytest.param(b"\xff\xfe", None, "invalid_json", id="not utf-8"),
        pytest.param(b"[]", None, "invalid_json", id="array"),
        pytest.param(b'"hello"', None, "invalid_json", id="string"),
        pytest.param(b"null", None, "invalid_json", id="null"),
        pytest.param(orjson.dumps({"messages": MESSAGES}), "model", "missing_model", id="missing model"),
        pytest.param(body(model=""), "model", "missing_model", id="empty model"),
        pytest.param(body(model="   "), "model", "missing_model", id="blank model"),
        pytest.param(body(model=42), "model", "missing_model", id="model not a string"),
        pytest.param(orjson.dumps({"model": "m"}), "messages", "invalid_messages", id="missing messages"),
        pytest.param(body(messages=[]), "messages", "invalid_messages", id="empty messages"),
        pytest.param(body(messages="hi"), "messages", "invalid_messages", id="messages a string"),
        pytest.param(
            body(messages={"role": "user"}), "messages", "invalid_messages", id="messages an object"
        ),
        pytest.param(body(messages=[{"role": "user", "content": "x"}, "x"]), "messages", None, id="entry"),
        pytest.param(body(stream="true"), "stream", None, id="stream a string"),
        pytest.param(body(stream=1), "stream", None, id="stream an int"),
        pytest.param(body(stream=True, stream_options=[]), "stream_options", None, id="options a list"),
        pytest.param(body(stream=True, stream_options="usage"), "stream_options", None, id="options a str"),
    ],
)
def test_parse_rejects(raw: bytes, param: str | None, code: str | None) -> None:
    with pytest.raises(InvalidRequestError) as info:
        parse_chat_request(raw)

    error = info.value
    assert (error.status, error.error_type, error.param, error.code) == (
        400,
        "invalid_request_error",
        param,
        code,
    )
    assert error.message


# --- upstream_chat_body ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "force_usage"),
    [
        ({}, True),
        ({}, False),
        ({"stream": True}, False),
        ({"stream": True, "stream_options": {"include_usage": True}}, True),
    ],
)
def test_unchanged_body_is_the_same_bytes_object(fields: dict[str, Any], force_usage: bool) -> None:
    call, raw = call_for(**fields)

    assert upstream_chat_body(call, raw, "gpt-4o-mini", force_usage=force_usage) is raw


def test_provider_prefixed_model_is_rewritten() -> None:
    call, raw = call_for(model="openai/gpt-4o", temperature=0.5)

    sent = orjson.loads(upstream_chat_body(call, raw, "gpt-4o", force_usage=True))

    assert sent == {"model": "gpt-4o", "messages": MESSAGES, "temperature": 0.5}


def test_usage_is_forced_for_streams_the_client_did_not_ask_usage_for() -> None:
    call, raw = call_for(stream=True)

    sent = orjson.loads(upstream_chat_body(call, raw, "gpt-4o-mini", force_usage=True))

    assert sent == {
        "model": "gpt-4o-mini",
        "messages": MESSAGES,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def test_forced_usage_keeps_the_clients_bytes_after_it() -> None:
    raw = (
        b'  {"model":"gpt-4o-mini", "messages":[{"role":"user","content":"caf\\u00e9 \\ud83d\\ude00"}],'
        b'"stream":true}'
    )
    call = parse_chat_request(raw)

    sent = upstream_chat_body(call, raw, "gpt-4o-mini", force_usage=True)

    assert sent.endswith(raw.lstrip()[1:])
    assert orjson.loads(sent) == {**orjson.loads(raw), "stream_options": {"include_usage": True}}


def test_forcing_usage_keeps_other_stream_options() -> None:
    call, raw = call_for(stream=True, stream_options={"include_obfuscation": False})

    sent = orjson.loads(upstream_chat_body(call, raw, "gpt-4o-mini", force_usage=True))

    assert sent["stream_options"] == {"include_obfuscation": False, "include_usage": True}


def test_explicit_include_usage_false_is_overridden_when_forcing() -> None:
    call, raw = call_for(stream=True, stream_options={"include_usage": False})

    sent = orjson.loads(upstream_chat_body(call, raw, "gpt-4o-mini", force_usage=True))

    assert sent["stream_options"] == {"include_usage": True}


def test_usage_is_not_forced_on_non_streaming_requests() -> None:
    call, raw = call_for(model="openai/gpt-4o")

    sent = orjson.loads(upstream_chat_body(call, raw, "gpt-4o", force_usage=True))

    assert "stream_options" not in sent


def test_rewriting_does_not_mutate_the_parsed_call() -> None:
    call, raw = call_for(model="p/m", stream=True, stream_options={"include_obfuscation": False})
    before = orjson.loads(raw)

    upstream_chat_body(call, raw, "m", force_usage=True)

    assert call.payload == before


# --- usage_from_response --------------------------------------------------------------------------


def test_usage_of_a_recorded_chat_completion() -> None:
    raw = (FIXTURES / "chat_completion.json").read_bytes()

    assert usage_from_response(raw) == Usage(
        prompt_tokens=1117, completion_tokens=46, total_tokens=1163, cached_tokens=1024, reasoning_tokens=0
    )


def test_usage_of_a_recorded_reasoning_completion() -> None:
    raw = (FIXTURES / "reasoning_completion.json").read_bytes()

    usage = usage_from_response(raw)

    assert usage is not None
    assert (usage.completion_tokens, usage.reasoning_tokens, usage.cached_tokens) == (211, 192, 0)


def test_usage_of_a_recorded_embeddings_response() -> None:
    raw = (FIXTURES / "embeddings_response.json").read_bytes()

    assert usage_from_response(raw) == Usage(prompt_tokens=8, completion_tokens=0, total_tokens=8)


def test_missing_total_is_the_sum() -> None:
    raw = orjson.dumps({"usage": {"prompt_tokens": 3, "completion_tokens": 4}})

    assert usage_from_response(raw) == Usage(prompt_tokens=3, completion_tokens=4, total_tokens=7)


def test_non_integer_counts_read_as_zero() -> None:
    raw = orjson.dumps({"usage": {"prompt_tokens": "3", "completion_tokens": True, "total_tokens": None}})

    assert usage_from_response(raw) == Usage()


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"[]",
        b'{"id": "chatcmpl-1"}',
        b'{"usage": null}',
        b'{"usage": [1, 2]}',
    ],
)
def test_no_usage(raw: bytes) -> None:
    assert usage_from_response(raw) is None
