"""Tests of the fake OpenAI upstream and the threaded server it runs on.

The fake is what every gateway test trusts as "the real API", so these tests pin its
wire behaviour with the official ``openai`` SDK (sync and async) and raw aiohttp.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import openai
import orjson
import pytest
from aiohttp import web
from openai.types.chat import ChatCompletionMessageParam

from gomodel.testing.fake_upstream import FakeUpstream
from gomodel.testing.threaded_server import ThreadedServer

REPO_ROOT = Path(__file__).resolve().parents[2]
USER_MSG: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hello there"}]
# Disconnects must reach the fake about as fast as the ~100 ms the brief promises;
# the margin absorbs scheduler noise on a loaded CI box.
PROMPT = 1.0

StartFake = Callable[..., Awaitable[FakeUpstream]]


@pytest.fixture
def serve_fake() -> Iterator[Callable[..., FakeUpstream]]:
    """Start fakes in background threads for sync clients; all stop at teardown."""
    with contextlib.ExitStack() as stack:

        def serve(**kwargs: Any) -> FakeUpstream:
            return stack.enter_context(FakeUpstream(**kwargs).serve())

        yield serve


@pytest.fixture
async def start_fake() -> AsyncIterator[StartFake]:
    """Start fakes on the test's own loop; all close at teardown."""
    started: list[FakeUpstream] = []

    async def start(**kwargs: Any) -> FakeUpstream:
        fake = FakeUpstream(**kwargs)
        await fake.start()
        started.append(fake)
        return fake

    yield start
    for fake in started:
        await fake.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def sync_client(fake: FakeUpstream, **kwargs: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=fake.base_url, api_key="fake-key", max_retries=0, **kwargs)


AUTH = {"Authorization": "Bearer fake-key"}


async def post(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes | dict[str, Any],
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    async with session.post(url, data=data, headers=AUTH if headers is None else headers) as resp:
        return resp.status, orjson.loads(await resp.read())


def sse_payloads(raw: bytes) -> list[str]:
    """Split an SSE body into its ``data:`` payloads, checking the framing on the way."""
    assert raw.endswith(b"\n\n")
    events = raw.decode().split("\n\n")[:-1]
    assert all(event.startswith("data: ") for event in events), events
    return [event.removeprefix("data: ") for event in events]


# --- models -----------------------------------------------------------------------------


def test_model_list_in_openai_format(serve_fake: Callable[..., FakeUpstream]) -> None:
    fake = serve_fake(models=["a", "b"])
    with sync_client(fake) as client:
        models = client.models.list()
    assert [(m.id, m.object, m.owned_by, m.created) for m in models.data] == [
        ("a", "model", "fake", 1_700_000_000),
        ("b", "model", "fake", 1_700_000_000),
    ]
    (recorded,) = fake.requests
    assert (recorded.method, recorded.path, recorded.body, recorded.json) == ("GET", "/v1/models", b"", None)


async def test_model_list_status_and_delay(start_fake: StartFake, session: aiohttp.ClientSession) -> None:
    fake = await start_fake(models_status=500, models_delay=0.2)
    started = time.monotonic()
    async with session.get(f"{fake.base_url}/models", headers=AUTH) as resp:
        body = orjson.loads(await resp.read())
    assert time.monotonic() - started >= 0.2
    assert resp.status == 500
    assert body["error"]["type"] == "server_error"


# --- chat completions -------------------------------------------------------------------


def test_chat_completion_is_deterministic(serve_fake: Callable[..., FakeUpstream]) -> None:
    fake = serve_fake(chunks=3)
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": "be  brief"},
        {"role": "user", "content": "hello there friend"},
        {"role": "user", "content": [{"type": "text", "text": "parts are not counted"}]},
    ]
    with sync_client(fake) as client:
        completion = client.chat.completions.create(model="gpt-fake-mini", messages=messages)
    assert completion.id.startswith("chatcmpl-fake-")
    assert completion.object == "chat.completion"
    assert completion.model == "gpt-fake-mini"
    assert completion.system_fingerprint == "fp_fake"
    (choice,) = completion.choices
    assert (choice.message.role, choice.message.content, choice.message.refusal) == (
        "assistant",
        "tok0 tok1 tok2 ",
        None,
    )
    assert choice.finish_reason == "stop"
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (5, 3)
    assert completion.usage.total_tokens == 8
    assert fake.requests[-1].json["messages"] == messages
    assert fake.stream_events == []  # only streams (and stalls) have a tracked lifecycle


def test_prompt_tokens_are_at_least_one(serve_fake: Callable[..., FakeUpstream]) -> None:
    fake = serve_fake()
    with sync_client(fake) as client:
        completion = client.chat.completions.create(
            model="gpt-fake", messages=[{"role": "user", "content": " "}]
        )
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == 1


def test_stream_with_usage_via_sdk(serve_fake: Callable[..., FakeUpstream]) -> None:
    fake = serve_fake(chunks=3)
    with sync_client(fake) as client:
        chunks = list(
            client.chat.completions.create(
                model="gpt-fake",
                messages=USER_MSG,
                stream=True,
                stream_options={"include_usage": True},
            )
        )
    assert len(chunks) == 6
    first, *pieces, stop, usage = chunks
    assert (first.choices[0].delta.role, first.choices[0].delta.content) == ("assistant", "")
    assert [c.choices[0].delta.content for c in pieces] == ["tok0 ", "tok1 ", "tok2 "]
    assert stop.choices[0].finish_reason == "stop"
    assert stop.choices[0].delta.content is None
    assert usage.choices == []
    assert usage.usage is not None
    assert (usage.usage.prompt_tokens, usage.usage.completion_tokens, usage.usage.total_tokens) == (2, 3, 5)
    assert {c.id for c in chunks} == {first.id}
    assert all(c.object == "chat.completion.chunk" and c.model == "gpt-fake" for c in chunks)
    assert fake.stream_events == [(first.id, "started"), (first.id, "completed")]


@pytest.mark.parametrize("include_usage", [True, False, None])
async def test_stream_wire_format(
    start_fake: StartFake, session: aiohttp.ClientSession, include_usage: bool | None
) -> None:
    fake = await start_fake(chunks=2)
    body: dict[str, Any] = {"model": "gpt-fake", "messages": USER_MSG, "stream": True}
    if include_usage is not None:
        body["stream_options"] = {"include_usage": include_usage}
    async with session.post(f"{fake.base_url}/chat/completions", json=body, headers=AUTH) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "text/event-stream"
        payloads = sse_payloads(await resp.read())
    assert payloads[-1] == "[DONE]"
    chunks = [orjson.loads(p) for p in payloads[:-1]]
    # role, tok0, tok1, stop (+ usage)
    assert len(chunks) == (5 if include_usage else 4)
    assert [c["choices"][0]["delta"] for c in chunks[:4]] == [
        {"role": "assistant", "content": ""},
        {"content": "tok0 "},
        {"content": "tok1 "},
        {},
    ]
    assert [c["choices"][0]["finish_reason"] for c in chunks[:4]] == [None, None, None, "stop"]
    if include_usage:
        assert all("usage" in c and c["usage"] is None for c in chunks[:4])
        assert chunks[4]["choices"] == []
        assert chunks[4]["usage"] == {"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4}
    else:
        assert all("usage" not in c for c in chunks)


async def test_stream_chunks_are_flushed_one_at_a_time(
    start_fake: StartFake, session: aiohttp.ClientSession
) -> None:
    fake = await start_fake(chunks=3, chunk_delay=0.1)
    body = {"model": "gpt-fake", "messages": USER_MSG, "stream": True}
    arrivals: list[tuple[float, bytes]] = []
    async with session.post(f"{fake.base_url}/chat/completions", json=body, headers=AUTH) as resp:
        started = time.monotonic()
        while event := await resp.content.readuntil(b"\n\n"):
            arrivals.append((time.monotonic() - started, event))
    assert [event for _, event in arrivals][-1] == b"data: [DONE]\n\n"
    assert len(arrivals) == 6  # role, 3 pieces, stop, [DONE]
    # The role chunk does not wait for the rest (which take at least 5 x 0.1 s).
    assert arrivals[0][0] < arrivals[-1][0] / 2
    gaps = [later - earlier for (earlier, _), (later, _) in itertools.pairwise(arrivals)]
    assert all(gap >= 0.08 for gap in gaps), gaps


async def test_async_sdk_stream_and_completion(start_fake: StartFake) -> None:
    fake = await start_fake(chunks=4)
    async with openai.AsyncOpenAI(base_url=fake.base_url, api_key="fake-key", max_retries=0) as client:
        stream = await client.chat.completions.create(model="gpt-fake", messages=USER_MSG, stream=True)
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        completion = await client.chat.completions.create(model="gpt-fake", messages=USER_MSG)
    assert text == completion.choices[0].message.content == "tok0 tok1 tok2 tok3 "


def test_unknown_model_is_404(serve_fake: Callable[..., FakeUpstream]) -> None:
    fake = serve_fake()
    with sync_client(fake) as client, pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-nope", messages=USER_MSG)
    assert caught.value.body == {
        "message": "The model `gpt-nope` does not exist or you do not have access to it.",
        "type": "invalid_request_error",
        "param": None,
        "code": "model_not_found",
    }


# --- validation -------------------------------------------------------------------------

CHAT_OK = {"model": "gpt-fake", "messages": USER_MSG}


@pytest.mark.parametrize(
    ("body", "param", "message"),
    [
        (b"{not json", None, "We could not parse the JSON body of your request."),
        (b"", None, "We could not parse the JSON body of your request."),
        (b"[1, 2]", "body", "Invalid type for 'body': expected an object"),
        ({**CHAT_OK, "foo": 1}, "foo", "Unrecognized request argument supplied: foo"),
        ({"messages": USER_MSG}, "model", "Missing required parameter: 'model'."),
        ({**CHAT_OK, "model": 3}, "model", "Invalid type for 'model': expected a string, but got a number"),
        ({"model": "gpt-fake"}, "messages", "Missing required parameter: 'messages'."),
        ({**CHAT_OK, "messages": []}, "messages", "Invalid 'messages': empty array."),
        ({**CHAT_OK, "messages": ["hi"]}, "messages[0]", "Invalid type for 'messages[0]'"),
        ({**CHAT_OK, "messages": [{"content": "x"}]}, "messages[0].role", "Missing required parameter"),
        ({**CHAT_OK, "messages": [{"role": "robot"}]}, "messages[0].role", 'Invalid value: "robot".'),
        ({**CHAT_OK, "stream": "yes"}, "stream", "Invalid type for 'stream': expected a boolean"),
        (
            {**CHAT_OK, "stream_options": {"include_usage": True}},
            "stream_options",
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
        ),
        (
            {**CHAT_OK, "stream": True, "stream_options": {"include_usage": "yes"}},
            "stream_options.include_usage",
            "Invalid type",
        ),
    ],
)
async def test_chat_validation(
    start_fake: StartFake,
    session: aiohttp.ClientSession,
    body: bytes | dict[str, Any],
    param: str | None,
    message: str,
) -> None:
    fake = await start_fake()
    status, reply = await post(session, f"{fake.base_url}/chat/completions", body)
    assert status == 400
    assert reply["error"]["type"] == "invalid_request_error"
    assert reply["error"]["param"] == param
    assert reply["error"]["message"].startswith(message)


async def test_every_documented_chat_parameter_is_accepted(
    start_fake: StartFake, session: aiohttp.ClientSession
) -> None:
    fake = await start_fake()
    extras = {
        "temperature": 0.5, "top_p": 1, "n": 1, "stop": None, "max_tokens": 5, "max_completion_tokens": 5,
        "presence_penalty": 0, "frequency_penalty": 0, "logit_bias": {}, "logprobs": False,
        "top_logprobs": None,
        "user": "u", "seed": 1, "tools": [], "tool_choice": "none", "parallel_tool_calls": True,
        "response_format": {"type": "text"}, "reasoning_effort": "low", "metadata": {}, "store": False,
        "modalities": ["text"], "audio": None, "prediction": None, "service_tier": "auto",
        "web_search_options": {}, "verbosity": "low", "prompt_cache_key": "k", "safety_identifier": "s",
        "functions": [], "function_call": "none", "stream": False, "stream_options": None,
    }  # fmt: skip
    status, reply = await post(session, f"{fake.base_url}/chat/completions", {**CHAT_OK, **extras})
    assert status == 200, reply
    assert reply["object"] == "chat.completion"


# --- auth and Azure ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "You didn't provide an API key."),
        ({"Authorization": "Bearer wrong-key-1234"}, "Incorrect API key provided: **********1234."),
        ({"Authorization": "Basic fake-key"}, "You didn't provide an API key."),
        ({"api-key": "fake-key"}, "You didn't provide an API key."),
    ],
)
async def test_bearer_auth(
    start_fake: StartFake, session: aiohttp.ClientSession, headers: dict[str, str], message: str
) -> None:
    fake = await start_fake()
    status, reply = await post(session, f"{fake.base_url}/chat/completions", CHAT_OK, headers)
    assert status == 401
    assert reply["error"]["message"].startswith(message)
    assert (reply["error"]["type"], reply["error"]["code"]) == ("invalid_request_error", "invalid_api_key")
    assert len(fake.requests) == 1  # rejected requests are still recorded


def test_wrong_key_via_sdk(serve_fake: Callable[..., FakeUpstream]) -> None:
    fake = serve_fake()
    with (
        openai.OpenAI(base_url=fake.base_url, api_key="sk-secret-abcd", max_retries=0) as client,
        pytest.raises(openai.AuthenticationError) as caught,
    ):
        client.models.list()
    assert caught.value.code == "invalid_api_key"
    assert "secret" not in caught.value.message
    assert "abcd" in caught.value.message


async def test_no_auth_mode_accepts_anything(start_fake: StartFake, session: aiohttp.ClientSession) -> None:
    fake = await start_fake(api_key=None)
    status, _ = await post(session, f"{fake.base_url}/chat/completions", CHAT_OK, {})
    assert status == 200


def test_azure_mode_with_azure_sdk(serve_fake: Callable[..., FakeUpstream]) -> None:
    fake = serve_fake(
        api_version="2024-10-21",
        auth_style="api-key",
        path_prefix="/openai/deployments/dep-1",
        models_path="/openai/models",
    )
    with openai.AzureOpenAI(
        azure_endpoint=fake.origin,
        azure_deployment="dep-1",
        api_version="2024-10-21",
        api_key="fake-key",
        max_retries=0,
    ) as client:
        completion = client.chat.completions.create(model="gpt-fake", messages=USER_MSG)
        embedding = client.embeddings.create(model="text-embedding-fake", input="hi")
    assert completion.choices[0].message.content == "tok0 tok1 tok2 tok3 tok4 "
    assert len(embedding.data[0].embedding) == 8
    chat_request = fake.requests[0]
    assert chat_request.path == "/openai/deployments/dep-1/chat/completions"
    assert chat_request.query == {"api-version": "2024-10-21"}
    assert chat_request.headers["api-key"] == "fake-key"


@pytest.mark.parametrize("query", ["", "?api-version=2023-01-01"])
async def test_azure_mode_requires_api_version(
    start_fake: StartFake, session: aiohttp.ClientSession, query: str
) -> None:
    fake = await start_fake(api_version="2024-10-21", auth_style="api-key", models_path="/openai/models")
    async with session.get(f"{fake.origin}/openai/models{query}", headers={"api-key": "fake-key"}) as resp:
        assert resp.status == 404
        assert orjson.loads(await resp.read()) == {"error": {"code": "404", "message": "Resource not found"}}
    async with session.get(
        f"{fake.origin}/openai/models?api-version=2024-10-21", headers={"api-key": "fake-key"}
    ) as resp:
        assert resp.status == 200


async def test_unknown_route_is_openai_404(start_fake: StartFake, session: aiohttp.ClientSession) -> None:
    fake = await start_fake()
    status, reply = await post(session, f"{fake.base_url}/models", CHAT_OK)  # wrong method
    assert status == 404
    assert reply["error"]["message"] == "Invalid URL (POST /v1/models)"
    status, reply = await post(session, f"{fake.origin}/v2/chat/completions", CHAT_OK)
    assert (status, reply["error"]["message"]) == (404, "Invalid URL (POST /v2/chat/completions)")


# --- embeddings -------------------------------------------------------------------------


def test_embeddings_base64_default_matches_float(serve_fake: Callable[..., FakeUpstream]) -> None:
    fake = serve_fake()
    with sync_client(fake) as client:
        default = client.embeddings.create(model="text-embedding-fake", input=["one two", "three"])
        floats = client.embeddings.create(
            model="text-embedding-fake", input=["one two", "three"], encoding_format="float"
        )
        again = client.embeddings.create(model="text-embedding-fake", input="three", dimensions=4)
    assert fake.requests[0].json["encoding_format"] == "base64"  # what the SDK asks for by default
    assert isinstance(fake.requests[0].json, dict)
    vectors = [d.embedding for d in default.data]
    assert vectors == [d.embedding for d in floats.data]
    assert [d.index for d in default.data] == [0, 1]
    assert all(len(v) == 8 and math.isclose(math.fsum(x * x for x in v), 1.0, rel_tol=1e-5) for v in vectors)
    assert vectors[0] != vectors[1]
    assert len(again.data[0].embedding) == 4
    assert (default.usage.prompt_tokens, default.usage.total_tokens) == (3, 3)
    assert default.model == "text-embedding-fake"


async def test_embeddings_accept_token_arrays(start_fake: StartFake, session: aiohttp.ClientSession) -> None:
    fake = await start_fake(embedding_dim=3)
    url = f"{fake.base_url}/embeddings"
    status, nested = await post(session, url, {"model": "text-embedding-fake", "input": [[1, 2, 3], [4]]})
    assert status == 200
    assert [len(d["embedding"]) for d in nested["data"]] == [3, 3]
    assert nested["usage"] == {"prompt_tokens": 4, "total_tokens": 4}
    _, flat = await post(session, url, {"model": "text-embedding-fake", "input": [1, 2, 3]})
    assert flat["data"][0]["embedding"] == nested["data"][0]["embedding"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "text-embedding-fake"}, "input"),
        ({"model": "text-embedding-fake", "input": []}, "input"),
        ({"model": "text-embedding-fake", "input": ""}, "input"),
        ({"model": "text-embedding-fake", "input": [1, "a"]}, "input"),
        ({"model": "text-embedding-fake", "input": "a", "encoding_format": "hex"}, "encoding_format"),
        ({"model": "text-embedding-fake", "input": "a", "dimensions": 0}, "dimensions"),
        ({"model": "text-embedding-fake", "input": "a", "temperature": 1}, "temperature"),
        ({"input": "a"}, "model"),
    ],
)
async def test_embeddings_validation(
    start_fake: StartFake, session: aiohttp.ClientSession, body: dict[str, Any], param: str
) -> None:
    fake = await start_fake()
    status, reply = await post(session, f"{fake.base_url}/embeddings", body)
    assert status == 400
    assert reply["error"]["param"] == param


# --- faults -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "status", "error_type", "code"),
    [
        ("fault-400", 400, "invalid_request_error", None),
        ("fault-401", 401, "invalid_request_error", "invalid_api_key"),
        ("fault-429", 429, "requests", "rate_limit_exceeded"),
        ("fault-500", 500, "server_error", None),
        ("fault-503", 503, "server_error", None),
    ],
)
@pytest.mark.parametrize("endpoint", ["chat/completions", "embeddings"])
async def test_status_faults(
    start_fake: StartFake,
    session: aiohttp.ClientSession,
    *,
    endpoint: str,
    model: str,
    status: int,
    error_type: str,
    code: str | None,
) -> None:
    fake = await start_fake()
    body = (
        {"model": model, "messages": USER_MSG}
        if endpoint.startswith("chat")
        else {"model": model, "input": "x"}
    )
    async with session.post(f"{fake.base_url}/{endpoint}", json=body, headers=AUTH) as resp:
        reply = orjson.loads(await resp.read())
        assert resp.status == status
        assert resp.headers.get("retry-after") == ("7" if status == 429 else None)
    assert (reply["error"]["type"], reply["error"]["code"]) == (error_type, code)


def test_rate_limit_fault_via_sdk(serve_fake: Callable[..., FakeUpstream]) -> None:
    fake = serve_fake()
    with sync_client(fake) as client, pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="fault-429", messages=USER_MSG, stream=True)
    assert caught.value.response.headers["retry-after"] == "7"
    assert caught.value.code == "rate_limit_exceeded"


def test_server_wide_fault_applies_to_every_chat(serve_fake: Callable[..., FakeUpstream]) -> None:
    fake = serve_fake(fault="fault-503")
    with sync_client(fake) as client:
        assert [m.id for m in client.models.list()] == ["gpt-fake", "gpt-fake-mini", "text-embedding-fake"]
        assert client.embeddings.create(model="text-embedding-fake", input="x").data
        with pytest.raises(openai.InternalServerError) as caught:
            client.chat.completions.create(model="gpt-fake", messages=USER_MSG)
    assert caught.value.status_code == 503


def test_unknown_fault_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown fault mode"):
        FakeUpstream(fault="fault-teapot")


def test_stall_records_disconnect_promptly(serve_fake: Callable[..., FakeUpstream]) -> None:
    fake = serve_fake()
    with sync_client(fake, timeout=0.3) as client, pytest.raises(openai.APITimeoutError):
        client.chat.completions.create(model="fault-stall", messages=USER_MSG)
    gave_up = time.monotonic()
    assert fake.wait_for_event("client_disconnected", timeout=2)
    assert time.monotonic() - gave_up < PROMPT
    ((stall_id, started), (same_id, left)) = fake.stream_events
    assert (started, left, stall_id) == ("started", "client_disconnected", same_id)


@pytest.mark.parametrize("endpoint", ["chat/completions", "embeddings"])
async def test_cut_closes_without_reply(
    start_fake: StartFake, session: aiohttp.ClientSession, endpoint: str
) -> None:
    fake = await start_fake()
    body = {"model": "fault-cut", "messages": USER_MSG, "input": "x"}
    body.pop("input" if endpoint.startswith("chat") else "messages")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await post(session, f"{fake.base_url}/{endpoint}", body)
    assert len(fake.requests) == 1


def test_cut_via_sdk_is_connection_error(serve_fake: Callable[..., FakeUpstream]) -> None:
    fake = serve_fake()
    with sync_client(fake) as client, pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model="fault-cut", messages=USER_MSG)


async def read_two_events_then(
    fake: FakeUpstream, session: aiohttp.ClientSession, model: str
) -> tuple[aiohttp.ClientResponse, list[bytes]]:
    body = {"model": model, "messages": USER_MSG, "stream": True}
    resp = await session.post(f"{fake.base_url}/chat/completions", json=body, headers=AUTH)
    assert resp.status == 200
    return resp, [await resp.content.readuntil(b"\n\n") for _ in range(2)]


async def test_stream_stall_then_client_leaves(start_fake: StartFake, session: aiohttp.ClientSession) -> None:
    fake = await start_fake()
    resp, events = await read_two_events_then(fake, session, "fault-stream-stall")
    first = orjson.loads(events[0].removeprefix(b"data: "))
    assert first["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert orjson.loads(events[1].removeprefix(b"data: "))["choices"][0]["delta"] == {"content": "tok0 "}
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(resp.content.readuntil(b"\n\n"), 0.2)
    assert fake.stream_events == [(first["id"], "started")]
    resp.close()
    async with asyncio.timeout(PROMPT):
        await fake.wait_for_event_async("client_disconnected", stream_id=first["id"])
    assert fake.stream_events == [(first["id"], "started"), (first["id"], "client_disconnected")]


async def test_stream_cut_truncates_body(start_fake: StartFake, session: aiohttp.ClientSession) -> None:
    fake = await start_fake()
    resp, events = await read_two_events_then(fake, session, "fault-stream-cut")
    async with resp:
        with pytest.raises(aiohttp.ClientPayloadError):
            await resp.content.read()
    chunks = [orjson.loads(e.removeprefix(b"data: ")) for e in events]
    assert [c["choices"][0]["delta"] for c in chunks] == [
        {"role": "assistant", "content": ""},
        {"content": "tok0 "},
    ]


async def test_stream_error_event_ends_stream(start_fake: StartFake, session: aiohttp.ClientSession) -> None:
    fake = await start_fake()
    resp, _ = await read_two_events_then(fake, session, "fault-stream-error")
    async with resp:
        rest = sse_payloads(await resp.content.read())
    assert [orjson.loads(p) for p in rest] == [
        {"error": {"message": "upstream exploded", "type": "server_error", "param": None, "code": None}}
    ]


def test_stream_error_via_sdk(serve_fake: Callable[..., FakeUpstream]) -> None:
    fake = serve_fake()
    with sync_client(fake) as client:
        stream = client.chat.completions.create(model="fault-stream-error", messages=USER_MSG, stream=True)
        assert [next(stream).choices[0].delta.content for _ in range(2)] == ["", "tok0 "]
        with pytest.raises(openai.APIError, match="upstream exploded"):
            next(stream)


def test_stream_faults_do_not_affect_non_streaming(serve_fake: Callable[..., FakeUpstream]) -> None:
    fake = serve_fake(chunks=1)
    with sync_client(fake) as client:
        completion = client.chat.completions.create(model="fault-stream-cut", messages=USER_MSG)
    assert completion.choices[0].message.content == "tok0 "


def test_client_disconnect_mid_stream_is_detected_promptly(serve_fake: Callable[..., FakeUpstream]) -> None:
    fake = serve_fake(chunks=50, chunk_delay=0.5)
    with sync_client(fake) as client:
        stream = client.chat.completions.create(model="gpt-fake", messages=USER_MSG, stream=True)
        first = next(iter(stream))
        stream.close()
        left = time.monotonic()
        assert fake.wait_for_event("client_disconnected", timeout=2, stream_id=first.id)
    # Well inside one chunk_delay: the handler was cancelled, not waiting for its next write.
    assert time.monotonic() - left < PROMPT
    assert fake.stream_events == [(first.id, "started"), (first.id, "client_disconnected")]


def test_wait_for_event_times_out(serve_fake: Callable[..., FakeUpstream]) -> None:
    fake = serve_fake()
    started = time.monotonic()
    assert not fake.wait_for_event("completed", timeout=0.1)
    assert time.monotonic() - started >= 0.1


# --- recording --------------------------------------------------------------------------


async def test_recorded_request_keeps_raw_details(
    start_fake: StartFake, session: aiohttp.ClientSession
) -> None:
    fake = await start_fake()
    raw = b'{"model": "gpt-fake", "messages": [{"role": "user", "content": "hi"}]}'
    headers = {**AUTH, "X-Custom-Header": "Value", "Content-Type": "application/json"}
    async with session.post(f"{fake.base_url}/chat/completions?trace=1", data=raw, headers=headers) as resp:
        assert resp.status == 200
    (recorded,) = fake.requests
    assert (recorded.method, recorded.path, recorded.query) == (
        "POST",
        "/v1/chat/completions",
        {"trace": "1"},
    )
    assert recorded.headers["X-Custom-Header"] == "Value"
    assert "x-custom-header" not in recorded.headers
    assert recorded.body == raw
    assert recorded.json == {"model": "gpt-fake", "messages": [{"role": "user", "content": "hi"}]}
    fake.clear()
    assert fake.requests == []


async def test_record_false_keeps_nothing(start_fake: StartFake, session: aiohttp.ClientSession) -> None:
    fake = await start_fake(record=False)
    body = {**CHAT_OK, "stream": True}
    async with session.post(f"{fake.base_url}/chat/completions", json=body, headers=AUTH) as resp:
        assert sse_payloads(await resp.read())[-1] == "[DONE]"
    assert (fake.requests, fake.stream_events) == ([], [])


def test_serve_stops_listening_on_exit() -> None:
    with FakeUpstream().serve() as fake:
        port = int(fake.origin.rsplit(":", 1)[1])
        assert fake.base_url == f"http://127.0.0.1:{port}/v1"
    with pytest.raises(RuntimeError, match="not running"):
        _ = fake.base_url
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_run_in_thread_returns_the_running_server() -> None:
    fake = FakeUpstream(path_prefix="/api/v1/")
    with fake.run_in_thread() as server:
        assert fake.base_url == f"http://127.0.0.1:{server.port}/api/v1"
        with sync_client(fake) as client:
            assert client.models.list().data[0].id == "gpt-fake"
    assert fake.requests[0].path == "/api/v1/models"


async def test_app_runs_under_aiohttp_test_client(aiohttp_client: Any) -> None:
    fake = FakeUpstream(chunks=2)
    client = await aiohttp_client(fake.app)
    async with client.post("/v1/chat/completions", json=CHAT_OK, headers=AUTH) as resp:
        assert (await resp.json())["choices"][0]["message"]["content"] == "tok0 tok1 "
    stalled = asyncio.ensure_future(
        client.post("/v1/chat/completions", json={**CHAT_OK, "model": "fault-stall"}, headers=AUTH)
    )
    async with asyncio.timeout(1):
        await fake.wait_for_event_async("started")
    stalled.cancel()
    async with asyncio.timeout(PROMPT):
        await fake.wait_for_event_async("client_disconnected")


# --- threaded server --------------------------------------------------------------------


async def _whoami(request: web.Request) -> web.Response:
    loop_module = type(asyncio.get_running_loop()).__module__
    return web.json_response({"thread": threading.get_ident(), "loop": loop_module})


def test_threaded_server_runs_app_on_uvloop_thread() -> None:
    app = web.Application()
    app.router.add_get("/", _whoami)
    with ThreadedServer() as server:
        server.start(app, handler_cancellation=True)
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        with urllib.request.urlopen(server.base_url, timeout=5) as resp:
            info = orjson.loads(resp.read())
        assert info["loop"].startswith("uvloop")
        assert info["thread"] != threading.get_ident()

        async def loop_thread() -> int:
            await asyncio.sleep(0)
            return threading.get_ident()

        assert server.call(loop_thread) == info["thread"]
        port = server.port
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.port
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass
    server.stop()  # idempotent


def test_threaded_server_reports_bind_failure() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = ThreadedServer()
        with pytest.raises(OSError, match="address already in use"):
            server.start(web.Application(), port=taken.getsockname()[1])
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.loop


def test_threaded_server_refuses_second_start() -> None:
    with ThreadedServer() as server:
        server.start(web.Application())
        with pytest.raises(RuntimeError, match="already started"):
            server.start(web.Application())


# --- command line -----------------------------------------------------------------------


def test_cli_serves_until_sigint() -> None:
    command = [
        sys.executable, "-m", "gomodel.testing.fake_upstream",
        "--port", "0", "--no-auth", "--models", "m1,m2", "--chunks", "2",
    ]  # fmt: skip
    with subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline().decode()
            assert line.startswith("fake upstream listening on http://127.0.0.1:"), line
            base_url = line.split()[-1]
            assert base_url.endswith("/v1")
            with urllib.request.urlopen(f"{base_url}/models", timeout=5) as resp:
                assert [m["id"] for m in orjson.loads(resp.read())["data"]] == ["m1", "m2"]
            request = urllib.request.Request(
                f"{base_url}/chat/completions",
                data=orjson.dumps({"model": "m2", "messages": USER_MSG}),
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=5) as resp:
                assert orjson.loads(resp.read())["choices"][0]["message"]["content"] == "tok0 tok1 "
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=10) == 0
            assert proc.stderr is not None
            assert proc.stderr.read() == b""  # no per-request logging
        finally:
            proc.kill()
