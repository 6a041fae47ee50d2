"""What a benchmark run measures: scenarios (request shapes) crossed with targets (who answers)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "CHAT_PATH",
    "CHUNKS",
    "CLAUDE_MODEL",
    "MESSAGES_PATH",
    "MODEL",
    "RELAY",
    "SCENARIOS",
    "UPSTREAM_KEY",
    "Endpoint",
    "Scenario",
    "Target",
]

WRK_DIR = Path(__file__).resolve().parent.parent / "wrk"

#: Content chunks per streamed reply (the issue's "50-chunk stream").
CHUNKS = 50
MODEL = "gpt-fake"
#: The model the gateway's ``anthropic`` provider lists (nginx answers any model the same).
CLAUDE_MODEL = "claude-fake"
CHAT_PATH = "/v1/chat/completions"
MESSAGES_PATH = "/v1/messages"
#: The key upstreams expect; the gateway has its own master key (see `gateway.py`).
UPSTREAM_KEY = "fake-key"


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    script: Path
    stream: bool
    #: The client's dialect: "openai" (Bearer key, chat completions) or "anthropic" (x-api-key, Messages).
    dialect: str = "openai"
    #: The gateway path the client posts to.
    path: str = CHAT_PATH
    #: The scenario whose direct row is this one's "vs direct" baseline (the request the gateway
    #: sends upstream); None: this scenario has its own direct row.
    direct_from: str | None = None
    #: Wanted gateway rate relative to gomodel's own OpenAI -> OpenAI stream relay (`RELAY`), measured
    #: in the same run; None: not compared.
    relay_target: float | None = None


#: The scenario whose gateway row the translated and native-Anthropic streams are compared with.
RELAY = "chat_stream"

SCENARIOS: tuple[Scenario, ...] = (
    Scenario("chat", "chat non-stream", WRK_DIR / "chat.lua", stream=False),
    Scenario(RELAY, f"chat stream {CHUNKS} chunks", WRK_DIR / "chat_stream.lua", stream=True),
    Scenario(
        "openai_to_anthropic",
        f"(1) OpenAI client -> Anthropic upstream, {CHUNKS}-chunk stream",
        WRK_DIR / "chat_stream.lua",
        stream=True,
        direct_from="messages_native",
        relay_target=0.8,
    ),
    Scenario(
        "messages_to_openai",
        f"(2) /v1/messages client -> OpenAI upstream, {CHUNKS}-chunk stream",
        WRK_DIR / "messages_stream.lua",
        stream=True,
        dialect="anthropic",
        path=MESSAGES_PATH,
        direct_from=RELAY,
        relay_target=0.8,
    ),
    Scenario(
        "messages_native",
        f"(3) /v1/messages client -> Anthropic upstream (native relay), {CHUNKS}-chunk stream",
        WRK_DIR / "messages_stream.lua",
        stream=True,
        dialect="anthropic",
        path=MESSAGES_PATH,
        relay_target=1.0,
    ),
)


@dataclass(frozen=True)
class Endpoint:
    """Where one scenario's requests go, and what they ask for."""

    url: str
    model: str
    api_key: str
    #: Ask for the stream usage chunk; set for direct targets so the upstream's work matches.
    include_usage: bool = False
    #: Extra request headers this target needs (a peer gateway's routing headers, say).
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Target:
    """Something wrk can load: the upstream itself, or a gateway in front of it."""

    key: str
    label: str
    endpoints: dict[str, Endpoint] = field(default_factory=dict)

    def endpoint(self, scenario: Scenario) -> Endpoint:
        return self.endpoints[scenario.key]

    def serves(self, scenario: Scenario) -> bool:
        return scenario.key in self.endpoints
