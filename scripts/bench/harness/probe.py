"""One checked request per scenario and target before any load: a benchmark of errors is worthless.

wrk only counts status codes; this makes sure the body is right too (50 content chunks, [DONE],
the usage chunk present exactly when the client asked for it).
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


def _post(endpoint: Endpoint, payload: dict[str, Any]) -> tuple[str, bytes]:
    request = urllib.request.Request(
        endpoint.url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {endpoint.api_key}"},
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


def probe(scenario: Scenario, endpoint: Endpoint) -> None:
    payload: dict[str, Any] = {"model": endpoint.model, "messages": _MESSAGES, "max_tokens": 64}
    if scenario.stream:
        payload["stream"] = True
        if endpoint.include_usage:
            payload["stream_options"] = {"include_usage": True}
    content_type, body = _post(endpoint, payload)
    if scenario.stream:
        if not content_type.startswith("text/event-stream"):
            raise ProbeError(f"stream answered with {content_type!r}")
        _check_stream(body, expect_usage=endpoint.include_usage)
    else:
        _check_completion(body)
