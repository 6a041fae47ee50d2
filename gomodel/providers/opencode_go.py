"""OpenCode Go: one base URL, two dialects, chosen per model.

Most models are served OpenAI-style on ``{base}/chat/completions`` with ``Authorization: Bearer``
(and listed on ``{base}/models``); a few are served only Anthropic-style on ``{base}/messages`` with
``x-api-key`` (`OPENCODE_GO_MESSAGES_MODELS`, default ``qwen3.7-max``). The provider composes the
OpenAI-compatible provider and the Anthropic one over a single connection pool and routes by model.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Final

from gomodel.config.schema import HTTPConfig, ProviderConfig
from gomodel.core.chat import (
    ChatRequest,
    ChatResponse,
    EmbeddingsRequest,
    EmbeddingsResponse,
    EventBatch,
)
from gomodel.providers.anthropic import AnthropicProvider
from gomodel.providers.base import PooledProvider, RelayTarget
from gomodel.providers.openai_compatible import OpenAICompatibleProvider
from gomodel.providers.specs import ProviderSpec

__all__ = ["DEFAULT_MESSAGES_MODELS", "OpenCodeGoProvider"]

#: Models OpenCode Go rejects on /chat/completions and serves only on /messages.
DEFAULT_MESSAGES_MODELS: Final = ("qwen3.7-max",)


def _messages_models(config: ProviderConfig) -> frozenset[str]:
    raw = config.options.get("messages_models")
    if raw is None or not str(raw).strip():
        return frozenset(DEFAULT_MESSAGES_MODELS)
    return frozenset(model.strip() for model in str(raw).split(",") if model.strip())


class OpenCodeGoProvider(PooledProvider):
    """Routes each model to the dialect OpenCode Go serves it in. `start()` before use."""

    dialect = "openai_chat"
    native_responses = False

    def __init__(self, config: ProviderConfig, spec: ProviderSpec, http: HTTPConfig) -> None:
        self.name = config.name
        self.type = spec.type
        self.configured_models = config.models
        self.messages_models = _messages_models(config)
        self._chat = OpenAICompatibleProvider(config, spec, http)
        self.client = self._chat.client
        self._messages = AnthropicProvider(config, spec, http, client=self.client)

    def _uses_messages(self, model: str) -> bool:
        # Tolerate a provider prefix ("opencode_go/qwen3.7-max") as GoModel does.
        return model.rpartition("/")[2] in self.messages_models

    async def list_models(self) -> list[str]:
        """OpenCode Go lists every model, whichever dialect serves it, on its OpenAI-style /models."""
        return await self._chat.list_models()

    def dialect_for(self, model: str) -> str:
        return self._messages.dialect if self._uses_messages(model) else self._chat.dialect

    async def relay_target(self, path: str, model: str) -> RelayTarget:
        if self._uses_messages(model):
            return await self._messages.relay_target(path, model)
        return await self._chat.relay_target(path, model)

    async def chat(self, request: ChatRequest) -> ChatResponse:
        if self._uses_messages(request.model):
            return await self._messages.chat(request)
        return await self._chat.chat(request)

    def chat_stream(self, request: ChatRequest) -> AsyncIterator[EventBatch]:
        if self._uses_messages(request.model):
            return self._messages.chat_stream(request)
        return self._chat.chat_stream(request)

    async def embeddings(self, request: EmbeddingsRequest) -> EmbeddingsResponse:
        # Neither half offers embeddings; the Anthropic half says so in the gateway's words.
        return await self._messages.embeddings(request)
