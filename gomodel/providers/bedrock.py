"""Amazon Bedrock Runtime: chat through Converse / ConverseStream, Titan embeddings through InvokeModel.

Authentication is either a Bedrock API key (``BEDROCK_API_KEY`` or ``AWS_BEARER_TOKEN_BEDROCK``, sent
as ``Authorization: Bearer``) or SigV4 with botocore's own credential chain: environment variables,
``AWS_PROFILE`` and the shared config/credentials files, SSO, container and instance roles. The chain
is resolved in a worker thread at `start()` (it may read files or call STS / the instance metadata
service), and refreshable credentials are refreshed in a worker thread too, never on the event loop.
Every request is signed with botocore's ``SigV4Auth`` over the exact bytes sent.

A provider whose credentials or region cannot be found still starts (the rest of the gateway keeps
serving); its requests fail with a 502 that says what is missing.

The model list comes from the control plane (ListFoundationModels, on-demand text models, as GoModel
does) with ``BEDROCK_MODELS`` added, because inference profiles (``us.amazon.nova-pro-v1:0``) and ARNs
are never listed there.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any

import yarl

from gomodel.config.schema import HTTPConfig, ProviderConfig
from gomodel.core.chat import (
    ChatRequest,
    ChatResponse,
    EmbeddingsRequest,
    EmbeddingsResponse,
    EventBatch,
    StreamFailed,
)
from gomodel.core.errors import GatewayError, InvalidRequestError, UpstreamError
from gomodel.core.records import Usage
from gomodel.dialects.bedrock.embeddings import titan_body, titan_embedding, titan_version
from gomodel.dialects.bedrock.endpoint import Action, model_path, resolve_endpoint
from gomodel.dialects.bedrock.errors import error_from_response
from gomodel.dialects.bedrock.models import (
    FOUNDATION_MODELS_PATH,
    FOUNDATION_MODELS_QUERY,
    foundation_model_ids,
)
from gomodel.dialects.bedrock.request_encode import encode_converse_body
from gomodel.dialects.bedrock.response_decode import decode_converse
from gomodel.dialects.bedrock.stream_decode import ConverseStreamDecoder
from gomodel.providers.base import PooledProvider
from gomodel.providers.http import UpstreamClient
from gomodel.providers.specs import ProviderSpec

try:
    import botocore.session
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.exceptions import BotoCoreError
except ModuleNotFoundError as exc:  # pragma: no cover - depends on the installed extras
    raise ModuleNotFoundError("the bedrock provider needs botocore: pip install 'gomodel[bedrock]'") from exc

__all__ = ["BedrockProvider"]

log = logging.getLogger("gomodel.providers.bedrock")
# botocore logs every canonical request, session token included, at DEBUG.
logging.getLogger("botocore.auth").setLevel(logging.INFO)

SIGNING_SERVICE = "bedrock"
EVENT_STREAM = "application/vnd.amazon.eventstream"
#: InvokeModel calls in flight per embeddings request (Titan embeds one text per call).
EMBEDDING_CONCURRENCY = 8


class _Signer:
    """SigV4 with one set of (possibly refreshable) botocore credentials."""

    def __init__(self, credentials: Any, region: str) -> None:
        self._credentials = credentials
        self._region = region
        self._refreshing = asyncio.Lock()
        #: The credentials last signed with, so error messages can be checked for them.
        self.frozen: Any = None

    @classmethod
    def resolve(cls, region: str | None) -> _Signer:
        """Runs in a worker thread: the chain may read files and call STS or the metadata service."""
        session = botocore.session.Session()
        credentials = session.get_credentials()
        if credentials is None:
            raise LookupError(
                "no AWS credentials found (environment, AWS_PROFILE, shared files, SSO, container or "
                "instance role); or set AWS_BEARER_TOKEN_BEDROCK"
            )
        region = region or session.get_config_variable("region")
        if not region:
            raise LookupError("no AWS region: set BEDROCK_BASE_URL to a region or AWS_REGION")
        return cls(credentials, region)

    async def headers(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> dict[str, str]:
        frozen = await self._frozen()
        self.frozen = frozen
        request = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
        SigV4Auth(frozen, SIGNING_SERVICE, self._region).add_auth(request)
        return dict(request.headers.items())

    async def _frozen(self) -> Any:
        refresh_needed = getattr(self._credentials, "refresh_needed", None)
        if refresh_needed is None or not refresh_needed():
            return self._credentials.get_frozen_credentials()
        # One refresh at a time; the requests queued behind it find fresh credentials.
        async with self._refreshing:
            if not refresh_needed():
                return self._credentials.get_frozen_credentials()
            try:
                return await asyncio.to_thread(self._credentials.get_frozen_credentials)
            except BotoCoreError as exc:
                raise UpstreamError(
                    f"could not refresh AWS credentials: {exc}", code="credentials_unavailable"
                ) from None


def _until_failure(events: EventBatch) -> tuple[EventBatch, StreamFailed | None]:
    """The events before a decoded failure, and the failure (which then ends the stream)."""
    for index, event in enumerate(events):
        if isinstance(event, StreamFailed):
            return events[:index], event
    return events, None


class BedrockProvider(PooledProvider):
    """One configured Bedrock account and region. `start()` resolves credentials; `aclose()` the pool."""

    dialect = "bedrock_converse"
    native_responses = False

    def __init__(self, config: ProviderConfig, spec: ProviderSpec, http: HTTPConfig) -> None:
        self.name = config.name
        self.type = spec.type
        self.configured_models = config.models
        self.client = UpstreamClient(config.name, http)
        self.endpoint = resolve_endpoint(config.base_url, os.environ)
        self._headers = {"Content-Type": "application/json", "Accept": "application/json", **config.headers}
        self._bearer = config.api_key or os.environ.get("AWS_BEARER_TOKEN_BEDROCK") or None
        self._signer: _Signer | None = None
        self._problem = "credentials were not resolved yet"

    async def start(self) -> None:
        await self.client.start()
        if self._bearer is not None:
            return
        try:
            self._signer = await asyncio.to_thread(_Signer.resolve, self.endpoint.region)
        except (LookupError, BotoCoreError) as exc:
            self._problem = str(exc)
            log.warning("provider %s cannot sign requests: %s", self.name, self._problem)

    async def relay_target(self, path: str, model: str) -> tuple[str, dict[str, str]]:
        raise InvalidRequestError(f"provider {self.name} speaks Bedrock Converse: requests are translated")

    # --- inference -------------------------------------------------------------------------------

    async def chat(self, request: ChatRequest) -> ChatResponse:
        body = encode_converse_body(request)
        url = self._model_url(request.model, "converse")
        headers = await self._auth("POST", url, body)
        async with self.client.open("POST", url, headers, body) as response:
            data = await response.read()
            if response.status >= 400:
                raise self._error(response.status, data, response.headers)
            response_id = _completion_id(response.headers.get("x-amzn-requestid"))
        return decode_converse(data, response_id=response_id, model=request.model, created=int(time.time()))

    async def chat_stream(self, request: ChatRequest) -> AsyncIterator[EventBatch]:
        body = encode_converse_body(request)
        url = self._model_url(request.model, "converse-stream")
        headers = await self._auth("POST", url, body, accept=EVENT_STREAM)
        async with self.client.open("POST", url, headers, body) as response:
            if response.status >= 400:
                raise self._error(response.status, await response.read(), response.headers)
            if response.content_type != EVENT_STREAM:
                raise UpstreamError(
                    f"provider {self.name} answered a ConverseStream request with {response.content_type!r}",
                    code="upstream_not_streaming",
                )
            decoder = ConverseStreamDecoder(
                self.name,
                response_id=_completion_id(response.headers.get("x-amzn-requestid")),
                model=request.model,
                created=int(time.time()),
            )
            started = False
            try:
                async for chunk in response.chunks():
                    events, failure = _until_failure(decoder.feed(chunk))
                    if events:
                        started = True
                        yield events
                    if failure is not None:
                        raise failure.error
                events, failure = _until_failure(decoder.flush())
                if events:
                    yield events
                if failure is not None:
                    raise failure.error
            except GatewayError as error:
                if not started:
                    raise self._scrubbed(error) from None
                yield [StreamFailed(self._scrubbed(error))]

    async def embeddings(self, request: EmbeddingsRequest) -> EmbeddingsResponse:
        version = titan_version(request.model, request.dimensions)
        url = self._model_url(request.model, "invoke")
        limit = asyncio.Semaphore(EMBEDDING_CONCURRENCY)

        async def embed(text: str) -> tuple[tuple[float, ...], int]:
            async with limit:
                return titan_embedding(await self._post(url, titan_body(version, text, request.dimensions)))

        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(embed(text)) for text in request.inputs]
        except ExceptionGroup as failed:
            raise failed.exceptions[0] from None
        results = [task.result() for task in tasks]
        tokens = sum(count for _, count in results)
        return EmbeddingsResponse(
            model=request.model,
            vectors=tuple(vector for vector, _ in results),
            usage=Usage(prompt_tokens=tokens, total_tokens=tokens),
        )

    async def list_models(self) -> list[str]:
        """On-demand text models of the region plus ``BEDROCK_MODELS``; raises when the list fails."""
        url = str(
            yarl.URL(self.endpoint.control + FOUNDATION_MODELS_PATH).with_query(FOUNDATION_MODELS_QUERY)
        )
        headers = await self._auth("GET", url, None)
        async with self.client.open("GET", url, headers) as response:
            data = await response.read()
            if response.status >= 400:
                raise self._error(response.status, data, response.headers)
        return list(dict.fromkeys([*self.configured_models, *foundation_model_ids(data)]))

    # --- transport helpers -------------------------------------------------------------------------

    def _model_url(self, model: str, action: Action) -> str:
        # Signed as aiohttp will send it: yarl unescapes characters a path may hold (":").
        return str(yarl.URL(self.endpoint.runtime + model_path(model, action)))

    async def _post(self, url: str, body: bytes) -> bytes:
        headers = await self._auth("POST", url, body)
        async with self.client.open("POST", url, headers, body) as response:
            data = await response.read()
            if response.status >= 400:
                raise self._error(response.status, data, response.headers)
        return data

    async def _auth(
        self, method: str, url: str, body: bytes | None, *, accept: str | None = None
    ) -> dict[str, str]:
        headers = dict(self._headers)
        if body is None:
            del headers["Content-Type"]
        if accept is not None:
            headers["Accept"] = accept
        if self._bearer is not None:
            headers["Authorization"] = f"Bearer {self._bearer}"
            return headers
        if self._signer is None:
            raise UpstreamError(
                f"provider {self.name} cannot sign requests: {self._problem}", code="provider_misconfigured"
            )
        return await self._signer.headers(method, url, headers, body)

    def _error(self, status: int, body: bytes, headers: Mapping[str, str]) -> GatewayError:
        return self._scrubbed(error_from_response(self.name, status, body, headers))

    def _scrubbed(self, error: GatewayError) -> GatewayError:
        """Takes every credential out of an upstream message before it can reach a client or a log."""
        frozen = self._signer.frozen if self._signer is not None else None
        secrets = [
            self._bearer,
            *(getattr(frozen, key, None) for key in ("access_key", "secret_key", "token")),
        ]
        message = error.message
        for secret in secrets:
            if secret:
                message = message.replace(secret, "[redacted]")
        if message != error.message:
            error.message = message
            error.args = (message,)
        return error


def _completion_id(request_id: str | None) -> str:
    return f"chatcmpl-{request_id or uuid.uuid4().hex}"
