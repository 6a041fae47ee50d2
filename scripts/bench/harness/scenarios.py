"""What a benchmark run measures: scenarios (request shapes) crossed with targets (who answers).

The load scenarios keep their letters from the performance issue: (a) chat, (b) 50-chunk stream,
(f) and (g) the translated streams, (h) embeddings, and (3) the native Anthropic relay from the
issue before. (c), (d), (e) and (i) are measurements of the targets, not request shapes: see
`MEASUREMENTS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "CHAT_PATH",
    "CHUNKS",
    "CLAUDE_MODEL",
    "EMBEDDINGS_PATH",
    "EMBEDDING_DIM",
    "EMBEDDING_MODEL",
    "MEASUREMENTS",
    "MESSAGES_PATH",
    "MODEL",
    "RELAY",
    "SCENARIOS",
    "UPSTREAM_KEY",
    "Endpoint",
    "Scenario",
    "Target",
    "scenario",
]

#: Content chunks per streamed reply (the issue's "50-chunk stream").
CHUNKS = 50
MODEL = "gpt-fake"
#: The model the gateway's ``anthropic`` provider lists (nginx answers any model the same).
CLAUDE_MODEL = "claude-fake"
EMBEDDING_MODEL = "text-embedding-fake"
#: Floats per canned embedding: text-embedding-3-small's default size, so the reply weighs what a
#: real one does (about 30 KiB of JSON).
EMBEDDING_DIM = 1536
CHAT_PATH = "/v1/chat/completions"
MESSAGES_PATH = "/v1/messages"
EMBEDDINGS_PATH = "/v1/embeddings"
#: The key upstreams expect; the gateway has its own master key (see `gateway.py`).
UPSTREAM_KEY = "fake-key"

_PATHS = {"chat": CHAT_PATH, "messages": MESSAGES_PATH, "embeddings": EMBEDDINGS_PATH}


@dataclass(frozen=True)
class Scenario:
    key: str
    #: The letter from the issue, also what ``--scenarios`` takes.
    letter: str
    #: Short, for table rows.
    label: str
    #: The whole request path, for the legend.
    title: str
    #: The client's API: "chat" (OpenAI chat completions), "messages" (Anthropic), "embeddings".
    api: str
    stream: bool
    #: The scenario whose direct row is this one's "vs direct" baseline (the request the gateway
    #: sends upstream); None: this scenario has its own direct row.
    direct_from: str | None = None
    #: Wanted gateway rate relative to gomodel's own OpenAI -> OpenAI stream relay (`RELAY`), measured
    #: in the same run; None: not compared.
    relay_target: float | None = None

    @property
    def path(self) -> str:
        """The path the client posts to, on the gateway and on the upstream alike."""
        return _PATHS[self.api]

    @property
    def dialect(self) -> str:
        """ "anthropic" for Messages clients (x-api-key), "openai" for the rest (Bearer key)."""
        return "anthropic" if self.api == "messages" else "openai"


#: The scenario whose gateway row the translated and native-Anthropic streams are compared with.
RELAY = "chat_stream"

SCENARIOS: tuple[Scenario, ...] = (
    Scenario("chat", "a", "(a) chat", "(a) chat completion, non-streaming", "chat", stream=False),
    Scenario(RELAY, "b", "(b) stream", f"(b) chat completion, {CHUNKS}-chunk stream", "chat", stream=True),
    Scenario(
        "openai_to_anthropic",
        "f",
        "(f) OpenAI->Anthropic",
        f"(f) OpenAI client -> Anthropic upstream, {CHUNKS}-chunk stream (translated)",
        "chat",
        stream=True,
        direct_from="messages_native",
        relay_target=0.6,
    ),
    Scenario(
        "messages_to_openai",
        "g",
        "(g) Messages->OpenAI",
        f"(g) /v1/messages client -> OpenAI upstream, {CHUNKS}-chunk stream (translated)",
        "messages",
        stream=True,
        direct_from=RELAY,
        relay_target=0.6,
    ),
    Scenario(
        "messages_native",
        "3",
        "(3) Messages native",
        f"(3) /v1/messages client -> Anthropic upstream, {CHUNKS}-chunk stream (native relay)",
        "messages",
        stream=True,
        relay_target=1.0,
    ),
    Scenario(
        "embeddings",
        "h",
        "(h) embeddings",
        f"(h) embeddings, one input, {EMBEDDING_DIM} floats back",
        "embeddings",
        stream=False,
    ),
)

#: Letters of the measurements that are not load scenarios of their own.
MEASUREMENTS: dict[str, str] = {
    "c": "(c) added latency at a fixed low rate (hey), for (a) and (b)",
    "d": "(d) RSS: idle, peak under load, with 1,000 slow streams open, after them",
    "e": "(e) CPU microseconds per request during (a) and (b)",
    "i": "(i) cold start to the first 200",
}


def scenario(key: str) -> Scenario:
    return next(s for s in SCENARIOS if s.key == key)


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
