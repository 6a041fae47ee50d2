"""Anthropic's Messages API as a gateway provider.

Requests are translated (`gomodel.dialects.anthropic`) and sent to ``{base}/messages`` with the
``x-api-key`` and ``anthropic-version`` headers; answers and streams come back as wire-neutral
results. The class also serves any upstream that speaks this dialect at another base URL (OpenCode
Go composes it, sharing its own connection pool through ``client``).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import orjson

from gomodel.config.errors import ConfigError
from gomodel.config.schema import HTTPConfig, ProviderConfig
from gomodel.core.chat import (
    ChatRequest,
    ChatResponse,
    EmbeddingsRequest,
    EmbeddingsResponse,
    EventBatch,
    LastBatch,
    StreamFailed,
)
from gomodel.core.errors import GatewayError, InvalidRequestError, UpstreamError
from gomodel.dialects.anthropic import (
    API_VERSION,
    DEFAULT_MAX_TOKENS,
    MessagesStreamDecoder,
    decode_messages_response,
    decode_models_page,
    encode_messages_request,
    error_from_anthropic,
    models_query,
)
from gomodel.providers.base import PooledProvider, RelayTarget
from gomodel.providers.http import UpstreamClient
from gomodel.providers.specs import ProviderSpec

__all__ = ["AnthropicProvider", "messages_headers"]

MESSAGES_PATH = "/messages"


def messages_headers(config: ProviderConfig) -> dict[str, str]:
    """Headers for an Anthropic-dialect upstream; ``api_version`` overrides ``anthropic-version``."""
    headers = {"Content-Type": "application/json", "anthropic-version": config.api_version or API_VERSION}
    headers.update(config.headers)
    if config.api_key:
        headers["x-api-key"] = config.api_key
    return headers


def _default_max_tokens(config: ProviderConfig) -> int:
    raw = config.options.get("default_max_tokens")
    if raw is None or not str(raw).strip():
        return DEFAULT_MAX_TOKENS
    try:
        value = int(str(raw).strip())
    except ValueError:
        value = 0
    if value <= 0:
        raise ConfigError(
            [f"providers.{config.name}.options.default_max_tokens: expected a positive integer, got {raw!r}"]
        )
    return value


class AnthropicProvider(PooledProvider):
    """One configured Anthropic-dialect upstream. `start()` before use, `aclose()` at shutdown."""

    dialect = "anthropic_messages"
    native_responses = False

    def __init__(
        self,
        config: ProviderConfig,
        spec: ProviderSpec,
        http: HTTPConfig,
        *,
        client: UpstreamClient | None = None,
    ) -> None:
        self.name = config.name
        self.type = spec.type
        self.configured_models = config.models
        self.base_url = (config.base_url or spec.default_base_url or "").rstrip("/")
        self.headers = messages_headers(config)
        self.default_max_tokens = _default_max_tokens(config)
        self.client = client if client is not None else UpstreamClient(config.name, http)
        self._messages_url = self.base_url + MESSAGES_PATH

    async def relay_target(self, path: str, model: str) -> RelayTarget:
        return self.base_url + path, dict(self.headers)

    async def list_models(self) -> list[str]:
        """Every page of ``GET {base}/models``; raises on failure (the caller bounds the time)."""
        headers = {k: v for k, v in self.headers.items() if k != "Content-Type"}
        ids: list[str] = []
        after: str | None = None
        while True:
            url = self.base_url + "/models" + models_query(after)
            async with self.client.open("GET", url, headers) as response:
                body = await response.read()
                if response.status >= 400:
                    raise error_from_anthropic(self.name, response.status, body, response.headers)
            page = decode_models_page(body, self.name)
            ids.extend(page.ids)
            if page.next_after is None or page.next_after == after:
                return ids
            after = page.next_after

    def _body(self, request: ChatRequest, *, stream: bool) -> bytes:
        payload = encode_messages_request(request, stream=stream, default_max_tokens=self.default_max_tokens)
        return orjson.dumps(payload)

    async def chat(self, request: ChatRequest) -> ChatResponse:
        body = self._body(request, stream=False)
        async with self.client.open("POST", self._messages_url, self.headers, body) as response:
            data = await response.read()
            if response.status >= 400:
                raise error_from_anthropic(self.name, response.status, data, response.headers)
        return decode_messages_response(data, self.name)

    async def chat_stream(self, request: ChatRequest) -> AsyncIterator[EventBatch]:
        body = self._body(request, stream=True)
        async with self.client.open("POST", self._messages_url, self.headers, body) as response:
            if response.status >= 400:
                data = await response.read()
                raise error_from_anthropic(self.name, response.status, data, response.headers)
            if response.content_type != "text/event-stream":
                raise UpstreamError(
                    f"provider {self.name} answered a streaming request with {response.content_type!r}",
                    code="upstream_not_streaming",
                )
            decoder = MessagesStreamDecoder(self.name, created=int(time.time()))
            last: EventBatch = []
            try:
                # Read on to the end after message_stop, so the connection goes back to the pool.
                async for chunk in response.chunks():
                    events = decoder.feed(chunk)
                    if response.at_eof():
                        last = events
                        break
                    if events:
                        yield events
            except GatewayError as error:
                if not decoder.done:
                    yield [StreamFailed(error)]
                return
            yield LastBatch([*last, *decoder.flush()])

    async def embeddings(self, request: EmbeddingsRequest) -> EmbeddingsResponse:
        raise InvalidRequestError(
            f"provider {self.name} does not offer embeddings", param="model", code="unsupported_endpoint"
        )
