"""The one request each scenario sends, built once here for every client of the harness.

wrk (through ``wrk/post.lua``), hey, the probe and the slow-stream client all post these bytes, so
a figure from one tool describes the same request as a figure from another.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from harness.scenarios import Endpoint, Scenario

__all__ = ["MESSAGES", "Request", "build_request"]

SYSTEM = "You are a helpful assistant."
PROMPT = "Write fifty short words about load testing."
MESSAGES = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": PROMPT}]
_EMBED_INPUT = "The food was delicious and the waiter was friendly."


@dataclass(frozen=True)
class Request:
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header_lines(self) -> str:
        """``Name: value`` lines, as ``wrk/post.lua`` reads them from BENCH_HEADERS."""
        return "\n".join(f"{name}: {value}" for name, value in self.headers)


def _payload(scenario: Scenario, endpoint: Endpoint) -> dict[str, object]:
    if scenario.api == "embeddings":
        return {"model": endpoint.model, "input": _EMBED_INPUT}
    if scenario.api == "messages":
        payload: dict[str, object] = {
            "model": endpoint.model,
            "max_tokens": 256,
            "system": SYSTEM,
            "messages": MESSAGES[1:],
        }
    else:
        payload = {"model": endpoint.model, "messages": MESSAGES, "max_tokens": 64, "temperature": 0}
    if scenario.stream:
        payload["stream"] = True
        # Direct targets ask for the usage chunk themselves: the gateway always does upstream, so
        # the upstream then does the same work either way.
        if endpoint.include_usage and scenario.api == "chat":
            payload["stream_options"] = {"include_usage": True}
    return payload


def build_request(scenario: Scenario, endpoint: Endpoint) -> Request:
    auth: tuple[tuple[str, str], ...] = (
        (("x-api-key", endpoint.api_key), ("anthropic-version", "2023-06-01"))
        if scenario.dialect == "anthropic"
        else (("Authorization", f"Bearer {endpoint.api_key}"),)
    )
    headers = (("Content-Type", "application/json"), *auth, *endpoint.headers)
    body = json.dumps(_payload(scenario, endpoint), separators=(",", ":")).encode()
    return Request(endpoint.url, headers, body)
