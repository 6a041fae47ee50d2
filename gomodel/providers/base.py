"""What the gateway needs from a provider, whatever dialect it speaks upstream.

Two ways in:

* **Relay** (same dialect in and out): ``relay_target(path)`` gives the URL and headers, and the
  gateway sends the client's own bytes through ``client`` and relays the answer untouched.
* **Translate**: ``chat`` / ``chat_stream`` / ``embeddings`` take wire-neutral requests
  (`gomodel.core.chat`), speak the provider's own API through the pure codecs in
  `gomodel.dialects`, and return wire-neutral answers.

``chat_stream`` yields the events decoded from each upstream read as one list (so the gateway writes
them to its client in one go, not one small write per event). It raises `GatewayError` before yielding
anything when the provider refuses the request,
so the gateway can still answer with an HTTP error status; after the first event, failures arrive as
a `StreamFailed` event. Callers close the iterator (``contextlib.aclosing``) so an abandoned stream
closes its upstream connection at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from gomodel.core.chat import (
    ChatRequest,
    ChatResponse,
    EmbeddingsRequest,
    EmbeddingsResponse,
    EventBatch,
)
from gomodel.providers.http import UpstreamClient

__all__ = ["PooledProvider", "Provider", "RelayTarget"]

RelayTarget = tuple[str, dict[str, str]]


class Provider(Protocol):
    name: str
    type: str
    #: The upstream's wire dialect: "openai_chat", "anthropic_messages", "gemini", "bedrock_converse".
    dialect: str
    configured_models: tuple[str, ...]
    client: UpstreamClient
    #: The upstream has OpenAI's Responses API (``relay_target("/responses", ...)`` reaches it).
    native_responses: bool

    async def start(self) -> None: ...

    async def aclose(self) -> None: ...

    async def list_models(self) -> list[str]:
        """Model ids the upstream serves; raises on failure (the caller bounds the time)."""
        ...

    def dialect_for(self, model: str) -> str:
        """The dialect used for ``model`` (OpenCode Go routes some models to another API)."""
        ...

    async def relay_target(self, path: str, model: str) -> RelayTarget:
        """URL and headers (credentials included) for relaying a native request to ``path``."""
        ...

    async def chat(self, request: ChatRequest) -> ChatResponse: ...

    def chat_stream(self, request: ChatRequest) -> AsyncIterator[EventBatch]: ...

    async def embeddings(self, request: EmbeddingsRequest) -> EmbeddingsResponse: ...


class PooledProvider:
    """What most providers share: one connection pool opened and closed with the gateway, and one
    dialect for every model. Subclasses set ``client`` and ``dialect``."""

    client: UpstreamClient
    dialect: str

    async def start(self) -> None:
        await self.client.start()

    async def aclose(self) -> None:
        await self.client.aclose()

    def dialect_for(self, model: str) -> str:
        return self.dialect
