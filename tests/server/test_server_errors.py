"""Every error a client can meet, in the OpenAI envelope with the right status, never a 500."""

from __future__ import annotations

import socket
import time

import httpx
import openai
import orjson
import pytest

from gomodel.testing.fake_upstream import FakeUpstream
from tests.harness import MASTER_KEY, Gateway

MESSAGES = [{"role": "user", "content": "hi"}]
FAULTS = [
    "fault-400",
    "fault-401",
    "fault-429",
    "fault-500",
    "fault-503",
    "fault-stall",
    "fault-cut",
    "fault-stream-stall",
    "fault-stream-cut",
    "fault-stream-error",
]


@pytest.fixture
def faulty(make_fake, make_gateway) -> tuple[Gateway, FakeUpstream]:
    upstream = make_fake(models=["gpt-fake", *FAULTS])
    gw = make_gateway(
        {
            "OPENAI_API_KEY": "fake-key",
            "OPENAI_BASE_URL": upstream.base_url,
            "GOMODEL_MASTER_KEY": MASTER_KEY,
            "HTTP_RESPONSE_HEADER_TIMEOUT": "500ms",
            "HTTP_STREAM_IDLE_TIMEOUT": "500ms",
            "BODY_SIZE_LIMIT": "64K",
        }
    )
    return gw, upstream


def post(
    gw: Gateway, body: bytes, path: str = "/chat/completions", key: str | None = MASTER_KEY
) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    return httpx.post(gw.api_base + path, content=body, headers=headers, timeout=10)


def envelope(response: httpx.Response) -> dict[str, object]:
    body = orjson.loads(response.content)
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]


def test_missing_key_is_401(gateway: Gateway) -> None:
    response = post(gateway, b'{"model":"gpt-fake","messages":[{"role":"user","content":"x"}]}', key=None)

    assert response.status_code == 401
    assert envelope(response)["code"] == "missing_api_key"


def test_error_responses_carry_the_request_id(gateway: Gateway) -> None:
    unauthenticated = post(gateway, b"{}", key=None)
    headers = {"Authorization": f"Bearer {MASTER_KEY}", "X-Request-Id": "trace-404"}
    unknown_route = httpx.get(gateway.api_base + "/nothing-here", headers=headers)
    bad_body = post(gateway, b"not json")

    assert len(unauthenticated.headers["x-request-id"]) == 32
    assert unknown_route.headers["x-request-id"] == "trace-404"
    assert bad_body.status_code == 400
    assert bad_body.headers["x-request-id"] != unauthenticated.headers["x-request-id"]


def test_sdk_with_wrong_key_gets_authentication_error(gateway: Gateway) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        gateway.client(api_key="not-the-key").chat.completions.create(model="gpt-fake", messages=MESSAGES)
    assert caught.value.status_code == 401


def test_wrong_key_is_401_in_openai_shape(gateway: Gateway) -> None:
    response = post(gateway, b'{"model":"gpt-fake","messages":[]}', key="wrong")

    assert response.status_code == 401
    assert envelope(response)["code"] == "invalid_api_key"


def test_auth_applies_to_model_list_too(gateway: Gateway) -> None:
    assert httpx.get(gateway.api_base + "/models").status_code == 401


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (b"{not json", None),
        (b"[1, 2]", None),
        (b"", None),
        (b'{"messages": [{"role": "user", "content": "x"}]}', "model"),
        (b'{"model": "", "messages": [{"role": "user", "content": "x"}]}', "model"),
        (b'{"model": "gpt-fake"}', "messages"),
        (b'{"model": "gpt-fake", "messages": []}', "messages"),
        (b'{"model": "gpt-fake", "messages": ["x"]}', "messages"),
        (b'{"model": "gpt-fake", "messages": [{"role": "user"}], "stream": "yes"}', "stream"),
    ],
)
def test_bad_chat_requests_are_400(
    gateway: Gateway, fake: FakeUpstream, body: bytes, param: str | None
) -> None:
    response = post(gateway, body)

    assert response.status_code == 400
    error = envelope(response)
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert not fake.requests or all(r.path.endswith("/models") for r in fake.requests)


def test_bad_embeddings_request_is_400(gateway: Gateway) -> None:
    response = post(gateway, b'{"model": "text-embedding-fake"}', path="/embeddings")

    assert response.status_code == 400
    assert envelope(response)["param"] == "input"


def test_unknown_model_is_404_model_not_found(gateway: Gateway) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        gateway.client().chat.completions.create(model="no-such-model", messages=MESSAGES)

    assert caught.value.code == "model_not_found"
    record = gateway.records.wait_for(1)[0]
    assert (record.status, record.requested_model, record.provider) == (404, "no-such-model", None)


def test_unknown_provider_prefix_is_404(gateway: Gateway) -> None:
    with pytest.raises(openai.NotFoundError):
        gateway.client().chat.completions.create(model="openai/no-such-model", messages=MESSAGES)


def test_body_over_limit_is_413(faulty: tuple[Gateway, FakeUpstream]) -> None:
    gw, _ = faulty
    big = orjson.dumps({"model": "gpt-fake", "messages": [{"role": "user", "content": "x" * 70_000}]})

    response = post(gw, big)

    assert response.status_code == 413
    assert envelope(response)["code"] == "request_too_large"


def test_unknown_route_and_wrong_method(gateway: Gateway) -> None:
    headers = {"Authorization": f"Bearer {MASTER_KEY}"}
    missing = httpx.get(gateway.api_base + "/nothing-here", headers=headers)
    wrong = httpx.get(gateway.api_base + "/chat/completions", headers=headers)

    assert missing.status_code == 404
    assert envelope(missing)["code"] == "unknown_route"
    assert wrong.status_code == 405
    assert envelope(wrong)["code"] == "method_not_allowed"


def test_upstream_4xx_is_passed_on_with_its_message(faulty: tuple[Gateway, FakeUpstream]) -> None:
    gw, _ = faulty
    with pytest.raises(openai.BadRequestError) as caught:
        gw.client().chat.completions.create(model="fault-400", messages=MESSAGES)

    assert caught.value.status_code == 400
    upstream_message = caught.value.body["message"]  # type: ignore[index]
    assert upstream_message
    assert "gateway" not in upstream_message


def test_upstream_429_keeps_retry_after(faulty: tuple[Gateway, FakeUpstream]) -> None:
    gw, _ = faulty
    with pytest.raises(openai.RateLimitError) as caught:
        gw.client().chat.completions.create(model="fault-429", messages=MESSAGES)

    assert caught.value.status_code == 429
    assert caught.value.response.headers["retry-after"] == "7"
    assert gw.records.wait_for(1)[0].status == 429


@pytest.mark.parametrize("model", ["fault-500", "fault-503"])
def test_upstream_5xx_is_502(faulty: tuple[Gateway, FakeUpstream], model: str) -> None:
    gw, _ = faulty
    with pytest.raises(openai.APIStatusError) as caught:
        gw.client().chat.completions.create(model=model, messages=MESSAGES)

    assert caught.value.status_code == 502
    assert "provider openai" in caught.value.message


def test_upstream_that_never_answers_is_504(faulty: tuple[Gateway, FakeUpstream]) -> None:
    gw, upstream = faulty
    with pytest.raises(openai.APIStatusError) as caught:
        gw.client().chat.completions.create(model="fault-stall", messages=MESSAGES)

    assert caught.value.status_code == 504
    assert upstream.wait_for_event("client_disconnected", timeout=5), (
        "the stalled upstream call must be dropped"
    )


def test_upstream_cutting_the_connection_is_502(faulty: tuple[Gateway, FakeUpstream]) -> None:
    gw, _ = faulty
    with pytest.raises(openai.APIStatusError) as caught:
        gw.client().chat.completions.create(model="fault-cut", messages=MESSAGES)

    assert caught.value.status_code == 502


def test_unreachable_upstream_is_502(make_gateway) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    gw = make_gateway(
        {"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1", "OPENAI_MODELS": "gpt-x"}
    )

    with pytest.raises(openai.APIStatusError) as caught:
        gw.client().chat.completions.create(model="gpt-x", messages=MESSAGES)

    assert caught.value.status_code == 502
    assert caught.value.code == "upstream_unreachable"


@pytest.mark.parametrize("model", ["fault-stream-cut", "fault-stream-stall", "fault-stream-error"])
def test_stream_failing_midway_raises_in_the_sdk(faulty: tuple[Gateway, FakeUpstream], model: str) -> None:
    gw, _ = faulty
    received: list[str] = []

    stream = gw.client().chat.completions.create(model=model, messages=MESSAGES, stream=True)

    def consume() -> None:
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                received.append(chunk.choices[0].delta.content)

    with pytest.raises(openai.APIError):
        consume()

    assert received, "the chunks before the failure still reach the client"
    record = gw.records.wait_for(1)[0]
    assert record.status in {502, 504}
    assert record.error_message


def test_stream_idle_timeout_is_recorded_as_504(faulty: tuple[Gateway, FakeUpstream]) -> None:
    gw, _ = faulty
    with pytest.raises(openai.APIError):
        list(gw.client().chat.completions.create(model="fault-stream-stall", messages=MESSAGES, stream=True))

    assert gw.records.wait_for(1)[0].status == 504


def test_stream_error_before_start_keeps_http_status(faulty: tuple[Gateway, FakeUpstream]) -> None:
    gw, _ = faulty
    with pytest.raises(openai.RateLimitError):
        gw.client().chat.completions.create(model="fault-429", messages=MESSAGES, stream=True)


def test_client_disconnect_cancels_the_upstream_stream(make_fake, make_gateway) -> None:
    upstream = make_fake(models=["gpt-fake"], chunks=200, chunk_delay=0.05)
    gw = make_gateway({"OPENAI_API_KEY": "fake-key", "OPENAI_BASE_URL": upstream.base_url})

    with httpx.stream(
        "POST",
        gw.api_base + "/chat/completions",
        json={"model": "gpt-fake", "messages": MESSAGES, "stream": True},
        timeout=10,
    ) as response:
        lines = response.iter_lines()
        assert next(lines).startswith("data: ")
    started = time.monotonic()

    assert upstream.wait_for_event("client_disconnected", timeout=3)
    assert time.monotonic() - started < 3
    assert not upstream.wait_for_event("completed", timeout=0.2)
    record = gw.records.wait_for(1)[0]
    assert record.status == 499


def test_secrets_never_appear_in_error_messages(make_fake, make_gateway) -> None:
    upstream = make_fake(api_key="the-right-key", models=["gpt-fake"])
    gw = make_gateway(
        {
            "OPENAI_API_KEY": "sk-wrong-secret-value-123456",
            "OPENAI_BASE_URL": upstream.base_url,
            "OPENAI_MODELS": "gpt-fake",
        }
    )

    response = post(gw, orjson.dumps({"model": "gpt-fake", "messages": MESSAGES}), key=None)

    assert response.status_code == 401
    assert b"sk-wrong-secret-value-123456" not in response.content
    assert b"wrong-secret" not in response.content


def test_the_key_guards_every_api_path_known_or_not_and_nothing_else(gateway: Gateway) -> None:
    base = gateway.api_base.removesuffix("/v1")

    assert httpx.get(base + "/v1/models").status_code == 401
    assert httpx.get(base + "/v1/no-such-route").status_code == 401
    assert httpx.get(base + "/v1/no-such-route", headers={"x-api-key": MASTER_KEY}).status_code == 404
    assert httpx.get(base + "/health").status_code == 200
    assert httpx.get(base + "/no-such-page").status_code == 404
