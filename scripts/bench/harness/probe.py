"""One checked request per scenario and target before any load: a benchmark of errors is worthless.

wrk only counts status codes; this makes sure the body is right too (50 content chunks, [DONE],
the usage chunk present exactly when the client asked for it; for Anthropic Messages clients 50
``text_delta`` events ending in ``message_stop``).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from harness.scenarios import CHUNKS, Endpoint, Scenario

__all__ = ["ProbeError", "probe"]

_TIMEOUT = 10.0
# Same messages as wrk/*.lua.
_MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Write fifty short words about load testing."},
]


class ProbeError(RuntimeError):
    pass


def _post(endpoint: Endpoint, payload: dict[str, Any], headers: dict[str, str]) -> tuple[str, bytes]:
    request = urllib.request.Request(
        endpoint.url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:
            return response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        raise ProbeError(f"{endpoint.url} answered HTTP {error.code}: {error.read()[:300]!r}") from None


def _check_completion(body: bytes) -> None:
    reply = json.loads(body)
    if not reply["choices"][0]["message"]["content"] or not reply.get("usage"):
        raise ProbeError(f"completion without content or usage: {body[:300]!r}")


def _check_stream(body: bytes, expect_usage: bool) -> None:
    events = [e for e in body.decode().split("\n\n") if e.strip()]
    if not events or events[-1] != "data: [DONE]":
        raise ProbeError(f"stream does not end with [DONE]: {body[-200:]!r}")
    chunks = [json.loads(e.removeprefix("data: ")) for e in events[:-1]]
    content = [c for c in chunks if c["choices"] and c["choices"][0]["delta"].get("content")]
    usage_only = [c for c in chunks if not c["choices"] and c.get("usage")]
    if len(content) != CHUNKS:
        raise ProbeError(f"expected {CHUNKS} content chunks, got {len(content)}")
    if bool(usage_only) != expect_usage:
        raise ProbeError(f"usage chunk {'missing' if expect_usage else 'not stripped'}")


def _check_messages_stream(body: bytes) -> None:
    events = []
    for block in body.decode().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "data" in fields:
            events.append((fields.get("event"), json.loads(fields["data"])))
    if not events or events[-1][0] != "message_stop":
        raise ProbeError(f"stream does not end with message_stop: {body[-200:]!r}")
    deltas = [d for name, d in events if name == "content_block_delta" and d["delta"]["type"] == "text_delta"]
    if len(deltas) != CHUNKS:
        raise ProbeError(f"expected {CHUNKS} text_delta events, got {len(deltas)}")
    if any(name != data.get("type") for name, data in events):
        raise ProbeError("an event's name differs from its data's type")


def _probe_messages(endpoint: Endpoint) -> None:
    payload = {
        "model": endpoint.model,
        "max_tokens": 256,
        "stream": True,
        "system": _MESSAGES[0]["content"],
        "messages": _MESSAGES[1:],
    }
    headers = {"x-api-key": endpoint.api_key, "anthropic-version": "2023-06-01"}
    content_type, body = _post(endpoint, payload, headers)
    if not content_type.startswith("text/event-stream"):
        raise ProbeError(f"stream answered with {content_type!r}")
    _check_messages_stream(body)


def probe(scenario: Scenario, endpoint: Endpoint) -> None:
    if scenario.dialect == "anthropic":
        _probe_messages(endpoint)
        return
    payload: dict[str, Any] = {"model": endpoint.model, "messages": _MESSAGES, "max_tokens": 64}
    if scenario.stream:
        payload["stream"] = True
        if endpoint.include_usage:
            payload["stream_options"] = {"include_usage": True}
    content_type, body = _post(endpoint, payload, {"Authorization": f"Bearer {endpoint.api_key}"})
    if scenario.stream:
        if not content_type.startswith("text/event-stream"):
            raise ProbeError(f"stream answered with {content_type!r}")
        _check_stream(body, expect_usage=endpoint.include_usage)
    else:
        _check_completion(body)
