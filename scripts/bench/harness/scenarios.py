"""What a benchmark run measures: scenarios (request shapes) crossed with targets (who answers)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CHUNKS", "MODEL", "SCENARIOS", "UPSTREAM_KEY", "Endpoint", "Scenario", "Target"]

WRK_DIR = Path(__file__).resolve().parent.parent / "wrk"

#: Content chunks per streamed reply (the issue's "50-chunk stream").
CHUNKS = 50
MODEL = "gpt-fake"
#: The key upstreams expect; the gateway has its own master key (see `gateway.py`).
UPSTREAM_KEY = "fake-key"


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    script: Path
    stream: bool


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("chat", "chat non-stream", WRK_DIR / "chat.lua", stream=False),
    Scenario("chat_stream", f"chat stream {CHUNKS} chunks", WRK_DIR / "chat_stream.lua", stream=True),
)


@dataclass(frozen=True)
class Endpoint:
    """Where one scenario's requests go, and what they ask for."""

    url: str
    model: str
    api_key: str
    #: Ask for the stream usage chunk; set for direct targets so the upstream's work matches.
    include_usage: bool = False


@dataclass(frozen=True)
class Target:
    """Something wrk can load: the upstream itself, or a gateway in front of it."""

    key: str
    label: str
    endpoints: dict[str, Endpoint] = field(default_factory=dict)

    def endpoint(self, scenario: Scenario) -> Endpoint:
        return self.endpoints[scenario.key]
