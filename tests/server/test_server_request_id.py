"""Every answer carries ``X-Request-Id``: the client's own when sane, else a fresh one per request."""

from __future__ import annotations

import httpx
import pytest

from tests.harness import MASTER_KEY, Gateway

AUTH = {"Authorization": f"Bearer {MASTER_KEY}"}
CHAT = {"model": "gpt-fake", "messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/health", None),
        ("GET", "/health/ready", None),
        ("GET", "/v1/models", None),
        ("POST", "/v1/chat/completions", CHAT),
        ("POST", "/v1/chat/completions", {**CHAT, "stream": True}),
        ("POST", "/v1/embeddings", {"model": "gpt-fake", "input": "hi"}),
    ],
)
def test_successful_answers_carry_the_request_id(
    gateway: Gateway, method: str, path: str, body: dict[str, object] | None
) -> None:
    base = gateway.api_base.removesuffix("/v1")
    with httpx.Client(base_url=base, headers=AUTH, timeout=10) as client:
        given = client.request(method, path, json=body, headers={"X-Request-Id": "trace-ok-1"})
        fresh = [client.request(method, path, json=body) for _ in range(2)]

    assert given.status_code == 200, given.text
    assert given.headers["x-request-id"] == "trace-ok-1"
    ids = [response.headers["x-request-id"] for response in fresh]
    assert all(len(value) == 32 for value in ids)
    assert ids[0] != ids[1]
