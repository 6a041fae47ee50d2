"""Google AI Studio's native Gemini API (``generateContent``), and the transport Vertex AI shares.

`GeminiNative` does the HTTP part of the Gemini dialect for any URL layout and credentials: JSON calls,
the SSE stream, paged model lists and batched embeddings. `GeminiProvider` points it at AI Studio:
``{base}/models/{model}:generateContent`` with the ``x-goog-api-key`` header. (The registry sends
``GEMINI_API_MODE=openai_compatible`` to the OpenAI-compatible provider instead.)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import quote

import orjson

from gomodel.config.schema import HTTPConfig, ProviderConfig
from gomodel.core.chat import (
    ChatRequest,
    ChatResponse,
    EmbeddingsRequest,
    EmbeddingsResponse,
    EventBatch,
    StreamFailed,
)
from gomodel.core.errors import GatewayError, UpstreamError
from gomodel.dialects.gemini.embeddings import (
    BATCH_EMBED_LIMIT,
    Vector,
    decode_batch_embed,
    embeddings_response,
    encode_batch_embed,
)
from gomodel.dialects.gemini.errors import error_from_google
from gomodel.dialects.gemini.models import ai_studio_page, ai_studio_resource
from gomodel.dialects.gemini.request_encode import encode_generate_request
from gomodel.dialects.gemini.response_decode import decode_generate_response
from gomodel.dialects.gemini.stream_decode import GeminiStreamDecoder
from gomodel.providers.base import PooledProvider, RelayTarget
from gomodel.providers.http import UpstreamClient
from gomodel.providers.specs import ProviderSpec

__all__ = ["GeminiNative", "GeminiProvider", "Headers"]

Headers = Callable[[], Awaitable[Mapping[str, str]]]
Page = tuple[list[str], str | None]
#: A bound on listing loops, in case an upstream keeps handing out page tokens.
_MAX_PAGES = 50
#: Embedding calls in flight at once for one request that needs several.
_EMBED_CONCURRENCY = 8


class GeminiNative:
    """The Gemini dialect over one provider's connection pool; ``headers()`` gives fresh credentials."""

    def __init__(self, provider: str, client: UpstreamClient, headers: Headers) -> None:
        self._provider = provider
        self._client = client
        self._headers = headers

    async def call(self, method: str, url: str, payload: Any = None) -> Any:
        """One JSON call; Google errors raise mapped."""
        body = orjson.dumps(payload) if payload is not None else None
        async with self._client.open(method, url, await self._headers(), body) as response:
            data = await response.read()
            if response.status >= 400:
                raise error_from_google(self._provider, response.status, data, response.headers)
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            raise UpstreamError(f"provider {self._provider} returned a response that is not JSON") from None

    async def generate(self, url: str, request: ChatRequest) -> ChatResponse:
        payload = await self.call("POST", url, encode_generate_request(request))
        return decode_generate_response(payload, self._provider, request.model)

    async def stream(self, url: str, request: ChatRequest) -> AsyncIterator[EventBatch]:
        """Events of ``streamGenerateContent?alt=sse`` at ``url``; a refused request raises at once."""
        body = orjson.dumps(encode_generate_request(request))
        async with self._client.open("POST", url, await self._headers(), body) as response:
            if response.status >= 400:
                data = await response.read()
                raise error_from_google(self._provider, response.status, data, response.headers)
            if response.content_type != "text/event-stream":
                raise UpstreamError(
                    f"provider {self._provider} answered a streaming request with {response.content_type!r}",
                    code="upstream_not_streaming",
                )
            decoder = GeminiStreamDecoder(self._provider, request.model)
            try:
                async for chunk in response.chunks():
                    events = decoder.feed(chunk)
                    failed = next((i for i, e in enumerate(events) if isinstance(e, StreamFailed)), None)
                    if failed is not None:
                        yield events[: failed + 1]  # nothing after a failure reaches the client
                        return
                    if events:
                        yield events
            except GatewayError as error:
                yield [StreamFailed(error)]
                return
            tail = decoder.flush()
            if tail:
                yield tail

    async def pages(self, url: str, read: Callable[[Any], Page], params: str) -> list[str]:
        """Every id of a paged list (``nextPageToken`` -> ``pageToken``)."""
        ids: list[str] = []
        token: str | None = None
        for _ in range(_MAX_PAGES):
            query = f"?{params}" + (f"&pageToken={quote(token, safe='')}" if token else "")
            page, token = read(await self.call("GET", url + query))
            ids.extend(page)
            if token is None:
                break
        return ids

    async def embed(
        self,
        request: EmbeddingsRequest,
        size: int,
        embed_batch: Callable[[tuple[str, ...]], Awaitable[tuple[list[Vector], int | None]]],
    ) -> EmbeddingsResponse:
        """Embed ``request.inputs`` ``size`` at a time (a few calls at once), keeping their order."""
        batches = [request.inputs[i : i + size] for i in range(0, len(request.inputs), size)]
        if len(batches) == 1:
            results = [await embed_batch(batches[0])]
        else:
            limit = asyncio.Semaphore(_EMBED_CONCURRENCY)

            async def bounded(batch: tuple[str, ...]) -> tuple[list[Vector], int | None]:
                async with limit:
                    return await embed_batch(batch)

            try:
                async with asyncio.TaskGroup() as group:
                    tasks = [group.create_task(bounded(batch)) for batch in batches]
            except ExceptionGroup as failed:
                raise failed.exceptions[0] from None  # the first failure; the other calls were cancelled
            results = [task.result() for task in tasks]
        vectors = [vector for batch_vectors, _ in results for vector in batch_vectors]
        counts = [tokens for _, tokens in results]
        tokens = None if any(count is None for count in counts) else sum(c for c in counts if c is not None)
        return embeddings_response(request, vectors, tokens)


class GeminiProvider(PooledProvider):
    """AI Studio (``generativelanguage.googleapis.com``) with an API key."""

    dialect = "gemini"
    native_responses = False

    def __init__(self, config: ProviderConfig, spec: ProviderSpec, http: HTTPConfig) -> None:
        self.name = config.name
        self.type = spec.type
        self.configured_models = config.models
        base = (config.base_url or spec.default_base_url or "").rstrip("/")
        # A base URL written for the OpenAI-compatible mode names the same service one level down.
        self.base_url = base.removesuffix("/openai")
        self.client = UpstreamClient(config.name, http)
        self._headers = {
            "Content-Type": "application/json",
            **config.headers,
            "x-goog-api-key": config.api_key or "",
        }
        self._native = GeminiNative(config.name, self.client, self._current_headers)

    async def _current_headers(self) -> Mapping[str, str]:
        return self._headers

    def _model_url(self, model: str, method: str) -> str:
        return f"{self.base_url}/{ai_studio_resource(model)}:{method}"

    async def relay_target(self, path: str, model: str) -> RelayTarget:
        return self.base_url + path, dict(self._headers)

    async def list_models(self) -> list[str]:
        return await self._native.pages(self.base_url + "/models", ai_studio_page, "pageSize=1000")

    async def chat(self, request: ChatRequest) -> ChatResponse:
        return await self._native.generate(self._model_url(request.model, "generateContent"), request)

    def chat_stream(self, request: ChatRequest) -> AsyncIterator[EventBatch]:
        return self._native.stream(
            self._model_url(request.model, "streamGenerateContent") + "?alt=sse", request
        )

    async def embeddings(self, request: EmbeddingsRequest) -> EmbeddingsResponse:
        resource = ai_studio_resource(request.model)
        url = f"{self.base_url}/{resource}:batchEmbedContents"

        async def embed_batch(texts: tuple[str, ...]) -> tuple[list[Vector], int | None]:
            payload = await self._native.call(
                "POST", url, encode_batch_embed(texts, resource, request.dimensions)
            )
            return decode_batch_embed(payload, self.name, len(texts)), None

        return await self._native.embed(request, BATCH_EMBED_LIMIT, embed_batch)
