"""The one implementation behind every OpenAI-compatible provider, configured by its `ProviderSpec`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson

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
from gomodel.core.errors import GatewayError, UpstreamError
from gomodel.dialects.openai_chat_request import encode_chat_request
from gomodel.dialects.openai_chat_response import decode_chat_response
from gomodel.dialects.openai_chat_stream_decode import ChunkDecoder
from gomodel.dialects.openai_errors import error_from_upstream
from gomodel.dialects.openai_usage import usage_from_mapping
from gomodel.providers.base import PooledProvider, RelayTarget
from gomodel.providers.http import UpstreamClient
from gomodel.providers.specs import ProviderSpec

__all__ = ["OpenAICompatibleProvider"]


class OpenAICompatibleProvider(PooledProvider):
    """URLs, credentials and headers of one configured provider instance; sends through its own pool."""

    dialect = "openai_chat"

    def __init__(self, config: ProviderConfig, spec: ProviderSpec, http: HTTPConfig) -> None:
        self.name = config.name
        self.type = spec.type
        self.spec = spec
        self.configured_models = config.models
        base = (config.base_url or spec.default_base_url or "").rstrip("/")
        self.base_url = base
        version = config.api_version or spec.default_api_version
        self._query = f"?api-version={version}" if version else ""
        self.headers = self._headers(config, spec)
        self.native_responses = spec.native_responses
        self.client = UpstreamClient(config.name, http)
        root = self._resource_root(base) + "/openai" if spec.models_at_resource_root else base
        self._models_url = root + "/models"
        self._responses_url = root + "/responses" + self._query

    @staticmethod
    def _headers(config: ProviderConfig, spec: ProviderSpec) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        for extra in spec.extra_headers:
            headers[extra.header] = extra.default
        headers.update(config.headers)
        if config.api_key:
            if spec.auth == "api-key":
                headers["api-key"] = config.api_key
            else:
                headers["Authorization"] = f"Bearer {config.api_key}"
        return headers

    @staticmethod
    def _resource_root(base: str) -> str:
        """Azure: ``https://r.openai.azure.com/openai/deployments/x`` -> ``https://r.openai.azure.com``."""
        parts = urlsplit(base)
        path = parts.path
        for marker in ("/openai/deployments/", "/deployments/"):
            index = path.find(marker)
            if index >= 0:
                path = path[:index]
                break
        else:
            path = path.removesuffix("/openai")
        return urlunsplit((parts.scheme, parts.netloc, path.rstrip("/"), "", ""))

    def url(self, path: str) -> str:
        """Full upstream URL for an OpenAI path such as ``/chat/completions``."""
        return self.base_url + path + self._query

    async def relay_target(self, path: str, model: str) -> RelayTarget:
        if path == "/responses":
            return self._responses_url, self.headers
        return self.url(path), self.headers

    async def chat(self, request: ChatRequest) -> ChatResponse:
        body = orjson.dumps(encode_chat_request(request, max_tokens_field=self.spec.max_tokens_field))
        async with self.client.open("POST", self.url("/chat/completions"), self.headers, body) as response:
            data = await response.read()
            if response.status >= 400:
                raise error_from_upstream(self.name, response.status, data, response.headers)
        return decode_chat_response(data, self.name)

    async def chat_stream(self, request: ChatRequest) -> AsyncIterator[EventBatch]:
        body = orjson.dumps(encode_chat_request(request, max_tokens_field=self.spec.max_tokens_field))
        async with self.client.open("POST", self.url("/chat/completions"), self.headers, body) as response:
            if response.status >= 400:
                data = await response.read()
                raise error_from_upstream(self.name, response.status, data, response.headers)
            decoder = ChunkDecoder(self.name)
            last: EventBatch = []
            try:
                async for chunk in response.chunks():
                    events = decoder.feed(chunk)
                    if response.at_eof():
                        last = events
                        break
                    if events:
                        yield events
            except GatewayError as error:
                yield [StreamFailed(error)]
                return
            yield LastBatch([*last, *decoder.flush()])

    async def embeddings(self, request: EmbeddingsRequest) -> EmbeddingsResponse:
        payload: dict[str, Any] = {"model": request.model, "input": list(request.inputs)}
        if request.dimensions is not None:
            payload["dimensions"] = request.dimensions
        async with self.client.open(
            "POST", self.url("/embeddings"), self.headers, orjson.dumps(payload)
        ) as response:
            data = await response.read()
            if response.status >= 400:
                raise error_from_upstream(self.name, response.status, data, response.headers)
        try:
            answer = orjson.loads(data)
            rows = sorted(answer["data"], key=lambda row: row.get("index", 0))
            vectors = tuple(tuple(float(x) for x in row["embedding"]) for row in rows)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise UpstreamError(f"provider {self.name} returned an unreadable embeddings response") from None
        return EmbeddingsResponse(
            model=request.model, vectors=vectors, usage=usage_from_mapping(answer.get("usage"))
        )

    async def list_models(self) -> list[str]:
        """Model ids the upstream serves; raises `UpstreamError` on failure. The caller bounds the time."""
        async with self.client.open("GET", self._models_url + self._query, self._list_headers) as response:
            body = await response.read()
            if response.status >= 400:
                raise error_from_upstream(self.name, response.status, body, response.headers)
        return self._model_ids(body)

    @property
    def _list_headers(self) -> Mapping[str, str]:
        return {k: v for k, v in self.headers.items() if k != "Content-Type"}

    def _model_ids(self, body: bytes) -> list[str]:
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise UpstreamError(f"provider {self.name} returned a model list that is not JSON") from None
        entries = payload.get("data") if isinstance(payload, dict) else payload
        if not isinstance(entries, list):
            raise UpstreamError(f"provider {self.name} returned a model list without 'data'")
        prefix = self.spec.model_id_prefix
        ids = []
        for entry in entries:
            model_id = entry.get("id") if isinstance(entry, dict) else None
            if isinstance(model_id, str) and model_id:
                ids.append(model_id.removeprefix(prefix) if prefix else model_id)
        return ids
