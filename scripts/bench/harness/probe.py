"""One checked request per scenario and target before any load: a benchmark of errors is worthless.

wrk only counts status codes; this makes sure the body is right too (50 content chunks, [DONE],
the usage chunk present exactly when the client asked for it; for Anthropic Messages clients 50
``text_delta`` events ending in ``message_stop``; an embedding of the canned size with usage).
The request is the one wrk and hey send (`bodies.py`).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from harness.bodies import build_request
from harness.scenarios import CHUNKS, EMBEDDING_DIM, Endpoint, Scenario

__all__ = ["ProbeError", "probe"]

_TIMEOUT = 30.0


class ProbeError(RuntimeError):
    pass


def _post(scenario: Scenario, endpoint: Endpoint) -> tuple[str, bytes]:
    built = build_request(scenario, endpoint)
    request = urllib.request.Request(built.url, data=built.body, headers=dict(built.headers), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:
            return response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        raise ProbeError(f"{endpoint.url} answered HTTP {error.code}: {error.read()[:300]!r}") from None
    except (urllib.error.URLError, OSError) as error:
        raise ProbeError(f"{endpoint.url}: {error}") from None


def _check_completion(body: bytes) -> None:
    reply = json.loads(body)
    if not reply["choices"][0]["message"]["content"] or not reply.get("usage"):
        raise ProbeError(f"completion without content or usage: {body[:300]!r}")


def _check_embeddings(body: bytes) -> None:
    reply = json.loads(body)
    vector = reply["data"][0]["embedding"]
    # Base64 (what the SDKs ask for) would be a string; the benchmark asks for floats.
    if not isinstance(vector, list) or len(vector) != EMBEDDING_DIM or not reply.get("usage"):
        raise ProbeError(f"expected {EMBEDDING_DIM} floats and usage: {body[:300]!r}")


def _check_stream(body: bytes, expect_usage: bool | None) -> None:
    events = [e for e in body.decode().split("\n\n") if e.strip()]
    if not events or events[-1].strip() != "data: [DONE]":
        raise ProbeError(f"stream does not end with [DONE]: {body[-200:]!r}")
    # Comment lines (": keep-alive") are legal SSE; only data lines carry chunks.
    data = [e.strip().removeprefix("data: ") for e in events[:-1] if e.strip().startswith("data: ")]
    chunks = [json.loads(d) for d in data]
    content = [c for c in chunks if c.get("choices") and (c["choices"][0].get("delta") or {}).get("content")]
    usage_only = [c for c in chunks if not c.get("choices") and c.get("usage")]
    if len(content) != CHUNKS:
        raise ProbeError(f"expected {CHUNKS} content chunks, got {len(content)}")
    if expect_usage is not None and bool(usage_only) != expect_usage:
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


def probe(scenario: Scenario, endpoint: Endpoint, *, strict_usage: bool = True) -> None:
    """Raise `ProbeError` unless one request of ``scenario`` gets a complete, correct answer.

    ``strict_usage``: the OpenAI usage chunk must be there exactly when the client asked for it
    (direct, the bare relay and gomodel); peers may add or drop it as they like.
    """
    try:
        content_type, body = _post(scenario, endpoint)
        if scenario.stream:
            if not content_type.startswith("text/event-stream"):
                raise ProbeError(f"stream answered with {content_type!r}: {body[:200]!r}")
            if scenario.api == "messages":
                _check_messages_stream(body)
            else:
                _check_stream(body, endpoint.include_usage if strict_usage else None)
        elif scenario.api == "embeddings":
            _check_embeddings(body)
        else:
            _check_completion(body)
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise ProbeError(f"{endpoint.url}: unreadable answer ({error!r})") from None
