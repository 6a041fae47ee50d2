"""Google Vertex AI: Gemini on the Vertex URL layout, with OAuth tokens from Application Default Credentials.

Native mode (the default) speaks the Gemini dialect at
``{root}/projects/{project}/locations/{location}/publishers/google/models/{model}:generateContent``
(``:streamGenerateContent?alt=sse`` for streams), where ``root`` is ``base_url`` or
``https://{location}-aiplatform.googleapis.com/v1`` (``https://aiplatform.googleapis.com/v1`` for the
``global`` location). Model ids are accepted bare or as ``google/<id>``, and listed as ``google/<id>``
from the publisher model list (``{root}/../v1beta1/publishers/google/models``, billed to the quota
project); configured models (``VERTEX_MODELS``) fill in as for every provider.

``VERTEX_API_MODE=openai_compatible`` relays OpenAI requests byte for byte to Vertex's own
OpenAI-compatible endpoint, ``.../locations/{location}/endpoints/openapi/chat/completions``, with the
same bearer token; that endpoint wants ``google/<id>`` model ids, which is how they are listed.

Embeddings use ``:predict`` (``text-embedding-*``, ``gemini-embedding-001``) or ``:embedContent``
(later Gemini embedding models), as `gomodel.dialects.gemini.embeddings` describes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from urllib.parse import quote

from gomodel.config.errors import ConfigError
from gomodel.config.schema import HTTPConfig, ProviderConfig
from gomodel.core.chat import (
    ChatRequest,
    ChatResponse,
    EmbeddingsRequest,
    EmbeddingsResponse,
    EventBatch,
)
from gomodel.dialects.gemini.embeddings import (
    Vector,
    decode_vertex_embed_content,
    decode_vertex_predict,
    encode_vertex_embed_content,
    encode_vertex_predict,
    vertex_embedding_method,
)
from gomodel.dialects.gemini.models import vertex_model_id, vertex_page
from gomodel.providers.base import PooledProvider, RelayTarget
from gomodel.providers.gemini import GeminiNative
from gomodel.providers.google_auth import GoogleTokenSource
from gomodel.providers.http import UpstreamClient
from gomodel.providers.specs import ProviderSpec

__all__ = ["VertexProvider", "vertex_root"]

OPENAI_COMPATIBLE = "openai_compatible"
_AUTH_TYPES = frozenset({"gcp_adc", "adc"})


def vertex_root(location: str) -> str:
    """The default endpoint root for ``location``."""
    if location == "global":
        return "https://aiplatform.googleapis.com/v1"
    return f"https://{location}-aiplatform.googleapis.com/v1"


class VertexProvider(PooledProvider):
    """One Vertex project and location, authenticated as the ADC chain decides."""

    def __init__(self, config: ProviderConfig, spec: ProviderSpec, http: HTTPConfig) -> None:
        self.name = config.name
        self.type = spec.type
        self.configured_models = config.models
        self.project = config.options["project"]
        self.location = config.options["location"]
        auth_type = config.options.get("auth_type") or "gcp_adc"
        if auth_type not in _AUTH_TYPES:
            key = f"providers.{config.name}.options.auth_type"
            raise ConfigError([f"{key}: {auth_type!r} is not supported (supported: gcp_adc)"])
        self.dialect = "openai_chat" if config.api_mode == OPENAI_COMPATIBLE else "gemini"
        self.native_responses = False
        root = (config.base_url or vertex_root(self.location)).rstrip("/")
        self._resource = (
            f"{root}/projects/{quote(self.project, safe='')}/locations/{quote(self.location, safe='')}"
        )
        beta_root = root[: -len("/v1")] + "/v1beta1" if root.endswith("/v1") else root
        self._models_url = beta_root + "/publishers/google/models"
        self._extra_headers = dict(config.headers)
        self.client = UpstreamClient(config.name, http)
        self.tokens = GoogleTokenSource(config.name)
        self._native = GeminiNative(config.name, self.client, self._headers)
        self._listing = GeminiNative(config.name, self.client, self._listing_headers)

    async def _headers(self) -> Mapping[str, str]:
        token = await self.tokens.token()
        headers = {
            "Content-Type": "application/json",
            **self._extra_headers,
            "Authorization": f"Bearer {token}",
        }
        # As google-auth itself does: bill to the credentials' quota project when they name one.
        quota = self.tokens.quota_project
        if quota:
            headers["x-goog-user-project"] = quota
        return headers

    async def _listing_headers(self) -> Mapping[str, str]:
        # The publisher list names no project in its URL, so the project to bill must be named.
        headers = dict(await self._headers())
        headers.setdefault("x-goog-user-project", self.project)
        return headers

    def _model_url(self, model: str, method: str) -> str:
        return f"{self._resource}/publishers/google/models/{vertex_model_id(model)}:{method}"

    async def relay_target(self, path: str, model: str) -> RelayTarget:
        """Vertex's OpenAI-compatible endpoint in ``openai_compatible`` mode, else the location root."""
        base = self._resource + "/endpoints/openapi" if self.dialect == "openai_chat" else self._resource
        return base + path, dict(await self._headers())

    async def list_models(self) -> list[str]:
        return await self._listing.pages(self._models_url, vertex_page, "pageSize=1000")

    async def chat(self, request: ChatRequest) -> ChatResponse:
        return await self._native.generate(self._model_url(request.model, "generateContent"), request)

    def chat_stream(self, request: ChatRequest) -> AsyncIterator[EventBatch]:
        return self._native.stream(
            self._model_url(request.model, "streamGenerateContent") + "?alt=sse", request
        )

    async def embeddings(self, request: EmbeddingsRequest) -> EmbeddingsResponse:
        method, size = vertex_embedding_method(vertex_model_id(request.model))
        url = self._model_url(request.model, method)
        dimensions = request.dimensions

        async def embed_batch(texts: tuple[str, ...]) -> tuple[list[Vector], int | None]:
            if method == "predict":
                answer = await self._native.call("POST", url, encode_vertex_predict(texts, dimensions))
                return decode_vertex_predict(answer, self.name, len(texts))
            answer = await self._native.call("POST", url, encode_vertex_embed_content(texts[0], dimensions))
            return decode_vertex_embed_content(answer, self.name)

        return await self._native.embed(request, size, embed_batch)
