"""A fake Google generative API for the gateway's tests: AI Studio, Vertex AI and an OAuth token endpoint.

One server answers both URL layouts:

* AI Studio: ``/v1beta/models`` (paged) and ``/v1beta/models/{model}:{method}`` with ``x-goog-api-key``;
* Vertex AI: ``/v1/projects/{p}/locations/{l}/publishers/google/models/{model}:{method}``, the publisher
  model list at ``/v1beta1/publishers/google/models`` and the OpenAI-compatible
  ``/v1/projects/{p}/locations/{l}/endpoints/openapi/chat/completions``, all with bearer tokens that
  only ``POST /token`` issues (the JWT-bearer grant google-auth performs for service accounts).

Requests are validated as strictly as the real API (see ``fake_gemini_wire``) and recorded. Replies are
deterministic: text in ``chunks`` pieces ending in non-ASCII text, a call to every callable function
when tools are on, thoughts when asked for. Fault modes are picked by model name
(``fake_gemini_wire.FAULT_MODES``).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import time
from collections.abc import Iterator, Sequence
from typing import Any

import orjson
from aiohttp import web

from gomodel.testing import fake_gemini_wire as wire
from gomodel.testing import fake_upstream_wire as openai_wire
from gomodel.testing.fake_server import MAX_BODY, FakeServer, Handler, error_response, guard
from gomodel.testing.fake_server import json_response as _json

__all__ = [
    "DEFAULT_MODELS",
    "TEST_API_KEY",
    "TEST_CLIENT_EMAIL",
    "TEST_LOCATION",
    "TEST_PROJECT",
    "FakeGemini",
    "service_account_json",
]

TEST_API_KEY = "AIzaSy-fake-gemini-key-0123456789"
TEST_PROJECT = "test-project"
TEST_LOCATION = "us-central1"
TEST_CLIENT_EMAIL = "gateway@test-project.iam.gserviceaccount.com"

DEFAULT_MODELS = (
    "gemini-2.5-flash",
    "gemini-2.5-pro",
    "gemini-3-pro-preview",
    "gemini-2.0-flash",
    "text-embedding-005",
    "gemini-embedding-001",
    "gemini-embedding-2-preview",
)
_SSE_HEADERS = {"Content-Type": "text/event-stream"}
_JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
#: The audience Google wants in the assertion, whichever ``token_uri`` it is posted to.
_GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
_PREDICT_LIMIT = 250
_BATCH_LIMIT = 100


def service_account_json(private_key_pem: str, token_uri: str) -> str:
    """A service-account key file, as ``GOOGLE_APPLICATION_CREDENTIALS`` names one, using ``token_uri``."""
    return orjson.dumps(
        {
            "type": "service_account",
            "project_id": TEST_PROJECT,
            "private_key_id": "0123456789abcdef",
            "private_key": private_key_pem,
            "client_email": TEST_CLIENT_EMAIL,
            "client_id": "1234567890",
            "token_uri": token_uri,
        }
    ).decode()


def _b64url(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


class FakeGemini(FakeServer):
    """Serve with ``with FakeGemini().serve() as fake:``; URLs from ``ai_studio_url``, ``vertex_root``."""

    def __init__(
        self,
        *,
        api_key: str = TEST_API_KEY,
        models: Sequence[str] = DEFAULT_MODELS,
        project: str = TEST_PROJECT,
        location: str = TEST_LOCATION,
        chunks: int = 3,
        embedding_dim: int = 8,
        page_size: int = 1000,
        token_lifetime: int = 3600,
        token_delay: float = 0.0,
        public_key_pem: bytes | None = None,
        split_events: int | None = None,
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.models = tuple(models)
        self.project = project
        self.location = location
        self.chunks = chunks
        self.embedding_dim = embedding_dim
        self.page_size = page_size
        self.token_lifetime = token_lifetime
        self.token_delay = token_delay
        self.public_key_pem = public_key_pem
        #: Write each stream event in pieces of this many bytes (cutting UTF-8 sequences apart).
        self.split_events = split_events
        #: Claims of every accepted token grant, in order.
        self.token_grants: list[dict[str, Any]] = []
        self.issued: dict[str, float] = {}
        self._ids = itertools.count(1)
        self._token_ids = itertools.count(1)

    # --- lifecycle -------------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        vertex = "/v1/projects/{project}/locations/{location}"
        routes: list[tuple[str, str, Handler]] = [
            ("GET", "/v1beta/models", self._studio_models),
            ("POST", "/v1beta/models/{call}", self._studio_call),
            ("GET", "/v1beta1/publishers/google/models", self._vertex_models),
            ("POST", vertex + "/publishers/google/models/{call}", self._vertex_call),
            ("POST", vertex + "/endpoints/openapi/chat/completions", self._vertex_openai),
            ("POST", "/token", self._token),
            ("*", "/{tail:.*}", self._unknown),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, path, self._guarded(handler))
        return app

    @property
    def ai_studio_url(self) -> str:
        return self.origin + "/v1beta"

    @property
    def vertex_root(self) -> str:
        return self.origin + "/v1"

    @property
    def token_uri(self) -> str:
        return self.origin + "/token"

    @staticmethod
    def _guarded(handler: Handler) -> Handler:
        # Google's error replies, and OpenAI's from the OpenAI-compatible endpoint.
        google_guarded = guard(handler, wire.GoogleError, error_response)
        return guard(google_guarded, openai_wire.UpstreamError, error_response)

    async def _admit(self, request: web.Request) -> bytes:
        body, _ = await self._capture(request)
        return body

    # --- credentials -----------------------------------------------------------------------------

    def _check_key(self, request: web.Request) -> None:
        provided = request.headers.get("x-goog-api-key") or request.query.get("key")
        if provided != self.api_key:
            raise wire.api_key_error(provided)

    def _check_token(self, request: web.Request) -> None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        expiry = self.issued.get(token) if scheme == "Bearer" else None
        if expiry is None or time.time() >= expiry:
            raise wire.token_error()

    def _check_location(self, request: web.Request) -> None:
        project, location = request.match_info["project"], request.match_info["location"]
        if (project, location) != (self.project, self.location):
            raise wire.GoogleError(
                403,
                "PERMISSION_DENIED",
                "Permission 'aiplatform.endpoints.predict' denied on resource"
                f" '//aiplatform.googleapis.com/projects/{project}/locations/{location}'"
                " (or it may not exist).",
            )

    async def _token(self, request: web.Request) -> web.StreamResponse:
        await self._admit(request)
        form = await request.post()
        try:
            claims = self._grant(str(form.get("grant_type", "")), str(form.get("assertion", "")))
        except ValueError as exc:
            body = orjson.dumps({"error": "invalid_grant", "error_description": str(exc)})
            return _json(body, 400)
        if self.token_delay:
            await asyncio.sleep(self.token_delay)
        token = f"ya29.fake-{next(self._token_ids)}"
        self.issued[token] = time.time() + self.token_lifetime
        self.token_grants.append(claims)
        answer = {"access_token": token, "expires_in": self.token_lifetime, "token_type": "Bearer"}
        return _json(orjson.dumps(answer))

    def _grant(self, grant_type: str, assertion: str) -> dict[str, Any]:
        """The claims of a valid JWT-bearer grant; ValueError names what is wrong."""
        if grant_type != _JWT_BEARER:
            raise ValueError(f"Invalid grant_type: {grant_type}")
        try:
            header_b64, claims_b64, signature_b64 = assertion.split(".")
            claims = orjson.loads(_b64url(claims_b64))
        except (ValueError, orjson.JSONDecodeError):
            raise ValueError(
                "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe"
            ) from None
        if claims.get("aud") != _GOOGLE_TOKEN_AUDIENCE or _SCOPE not in str(claims.get("scope", "")).split():
            raise ValueError("Invalid JWT: audience or scope is wrong")
        if not claims.get("exp", 0) > time.time() >= claims.get("iat", 0) - 60:
            raise ValueError("Invalid JWT: Token must be a short-lived token and in a reasonable timeframe")
        if self.public_key_pem is not None:
            self._verify(f"{header_b64}.{claims_b64}".encode(), _b64url(signature_b64))
        return dict(claims)

    def _verify(self, signed: bytes, signature: bytes) -> None:
        from cryptography.exceptions import InvalidSignature  # noqa: PLC0415 - only tests verify JWTs
        from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
        from cryptography.hazmat.primitives.asymmetric import padding, rsa  # noqa: PLC0415

        key = serialization.load_pem_public_key(self.public_key_pem or b"")
        if not isinstance(key, rsa.RSAPublicKey):
            raise ValueError("Invalid JWT Signature.")
        try:
            key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise ValueError("Invalid JWT Signature.") from None

    # --- model lists -----------------------------------------------------------------------------

    def _page(self, request: web.Request, entries: list[dict[str, Any]], key: str) -> web.Response:
        try:
            size = min(int(request.query.get("pageSize", "50")), self.page_size)
            start = int(request.query.get("pageToken", "p0")[1:])
        except ValueError:
            raise wire.invalid("Invalid page token or page size.") from None
        page: dict[str, Any] = {key: entries[start : start + size]}
        if start + size < len(entries):
            page["nextPageToken"] = f"p{start + size}"
        return _json(orjson.dumps(page))

    async def _studio_models(self, request: web.Request) -> web.StreamResponse:
        await self._admit(request)
        self._check_key(request)
        entries = [
            {
                "name": f"models/{model}",
                "displayName": model,
                "supportedGenerationMethods": self._methods(model),
            }
            for model in self.models
        ]
        entries.append(
            {"name": "models/aqa", "displayName": "AQA", "supportedGenerationMethods": ["generateAnswer"]}
        )
        return self._page(request, entries, "models")

    async def _vertex_models(self, request: web.Request) -> web.StreamResponse:
        await self._admit(request)
        self._check_token(request)
        if not request.headers.get("x-goog-user-project"):
            raise wire.GoogleError(
                403,
                "PERMISSION_DENIED",
                "Your application is authenticating by using local Application Default Credentials. The"
                " aiplatform.googleapis.com API requires a quota project, which is not set by default.",
            )
        names = [*self.models, "imagen-4.0-generate-001", "chirp-2"]
        entries = [{"name": f"publishers/google/models/{name}", "launchStage": "GA"} for name in names]
        return self._page(request, entries, "publisherModels")

    @staticmethod
    def _methods(model: str) -> list[str]:
        if "embedding" in model:
            return ["embedContent", "batchEmbedContents"]
        return ["generateContent", "streamGenerateContent", "countTokens"]

    # --- AI Studio -------------------------------------------------------------------------------

    async def _studio_call(self, request: web.Request) -> web.StreamResponse:
        body = await self._admit(request)
        self._check_key(request)
        model, _, method = request.match_info["call"].partition(":")
        payload = wire.parse_json(body)
        if method == "batchEmbedContents":
            self._known(model, method, vertex=False)
            return self._batch_embed(payload, model)
        if method not in ("generateContent", "streamGenerateContent"):
            raise wire.GoogleError(404, "NOT_FOUND", f"Method not found: {method}")
        return await self._generate(request, payload, model, method, vertex=False)

    def _known(self, model: str, method: str, *, vertex: bool) -> None:
        if model in wire.FAULT_MODES or (model in self.models and method in self._methods(model)):
            return
        if vertex and model in self.models and method in ("predict", "embedContent"):
            return
        if vertex:
            resource = f"projects/{self.project}/locations/{self.location}/publishers/google/models/{model}"
            message = (
                f"Publisher Model `{resource}` was not found or your project does not have access to it."
                " Please ensure you are using a valid model version."
            )
        else:
            message = (
                f"models/{model} is not found for API version v1beta, or is not supported for {method}. Call"
                " ListModels to see the list of available models and their supported methods."
            )
        raise wire.GoogleError(404, "NOT_FOUND", message)

    def _batch_embed(self, payload: dict[str, Any], model: str) -> web.StreamResponse:
        wire.check_fields(payload, frozenset({"requests"}))
        requests = payload.get("requests")
        if not isinstance(requests, list) or not requests:
            raise wire.invalid("* BatchEmbedContentsRequest.requests: requests is not specified")
        if len(requests) > _BATCH_LIMIT:
            raise wire.invalid(
                "* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch"
            )
        rows = []
        for index, raw in enumerate(requests):
            item = wire.as_object(raw, f"requests[{index}]")
            wire.check_fields(
                item, frozenset({"model", "content", "outputDimensionality", "taskType", "title"})
            )
            if item.get("model") != f"models/{model}":
                raise wire.invalid(
                    f"* BatchEmbedContentsRequest.requests[{index}].model: model must be models/{model}"
                    " as in the URL"
                )
            text = wire.content_text(item.get("content"), f"requests[{index}].content")
            rows.append({"values": wire.vector(text, wire.embedding_dim(item, self.embedding_dim))})
        return _json(orjson.dumps({"embeddings": rows}))

    # --- Vertex AI -------------------------------------------------------------------------------

    async def _vertex_call(self, request: web.Request) -> web.StreamResponse:
        body = await self._admit(request)
        self._check_token(request)
        self._check_location(request)
        model, _, method = request.match_info["call"].partition(":")
        payload = wire.parse_json(body)
        if method in ("predict", "embedContent"):
            self._known(model, method, vertex=True)
            return self._vertex_embed(payload, model, method)
        if method not in ("generateContent", "streamGenerateContent"):
            raise wire.GoogleError(404, "NOT_FOUND", f"Method not found: {method}")
        return await self._generate(request, payload, model, method, vertex=True)

    def _vertex_embed(self, payload: dict[str, Any], model: str, method: str) -> web.StreamResponse:
        wants_embed_content = "gemini" in model and model != "gemini-embedding-001"
        if wants_embed_content != (method == "embedContent"):
            raise wire.GoogleError(400, "FAILED_PRECONDITION", f"Model {model} does not support {method}.")
        if method == "embedContent":
            wire.check_fields(payload, frozenset({"content", "embedContentConfig"}))
            config = wire.as_object(payload.get("embedContentConfig", {}), "embed_content_config")
            text = wire.content_text(payload.get("content"), "content")
            answer = {
                "embedding": {"values": wire.vector(text, wire.embedding_dim(config, self.embedding_dim))},
                "usageMetadata": {"promptTokenCount": wire.text_tokens(text)},
                "truncated": False,
            }
            return _json(orjson.dumps(answer))
        wire.check_fields(payload, frozenset({"instances", "parameters"}))
        instances = payload.get("instances")
        limit = 1 if model == "gemini-embedding-001" else _PREDICT_LIMIT
        if not isinstance(instances, list) or not 1 <= len(instances) <= limit:
            raise wire.invalid(f"The model {model} takes 1 to {limit} instances per request.")
        parameters = wire.as_object(payload.get("parameters", {}), "parameters")
        wire.check_fields(parameters, frozenset({"outputDimensionality", "autoTruncate"}))
        dim = wire.embedding_dim(parameters, self.embedding_dim)
        predictions = []
        for index, raw in enumerate(instances):
            instance = wire.as_object(raw, f"instances[{index}]")
            wire.check_fields(instance, frozenset({"content", "task_type", "title"}))
            content = instance.get("content")
            if not isinstance(content, str) or not content:
                raise wire.invalid(f"instances[{index}].content must be a non-empty string.")
            statistics = {"truncated": False, "token_count": wire.text_tokens(content)}
            predictions.append(
                {"embeddings": {"values": wire.vector(content, dim), "statistics": statistics}}
            )
        return _json(orjson.dumps({"predictions": predictions, "metadata": {"billableCharacterCount": 1}}))

    async def _vertex_openai(self, request: web.Request) -> web.StreamResponse:
        body = await self._admit(request)
        self._check_token(request)
        self._check_location(request)
        chat = openai_wire.validate_chat(openai_wire.require_object(openai_wire.parse_json(body)))
        publisher, _, model = chat.model.partition("/")
        if publisher != "google" or model not in self.models:
            raise wire.GoogleError(
                400,
                "INVALID_ARGUMENT",
                f"Invalid model name {chat.model!r}: expected google/<model>.",
                wrap_in_list=True,
            )
        reply = openai_wire.ChatReply.build(self.chunks)
        completion_id = f"chatcmpl-vertex-{next(self._ids)}"
        if not chat.stream:
            return _json(reply.completion(completion_id, chat.model, chat.prompt_tokens))
        response = web.StreamResponse(headers=_SSE_HEADERS)
        await response.prepare(request)
        for event in reply.stream_events(completion_id, chat.model, chat.include_usage, chat.prompt_tokens):
            await response.write(event)
        await response.write_eof()
        return response

    # --- generateContent -------------------------------------------------------------------------

    async def _generate(
        self, request: web.Request, payload: dict[str, Any], model: str, method: str, *, vertex: bool
    ) -> web.StreamResponse:
        generate = wire.validate_generate(payload, model, vertex=vertex)
        if model in wire.FAULT_STATUS or model == wire.FAULT_LIST_ERROR:
            raise wire.fault_error(model)
        self._known(model, method, vertex=vertex)
        reply = wire.build_reply(generate, model, self.chunks)
        response_id = f"resp-{next(self._ids)}"
        if method == "generateContent":
            return _json(wire.response_body(reply, model, response_id))
        if request.query.get("alt") != "sse":
            # Without alt=sse Google streams one JSON array; the gateway must never ask for that.
            events = [
                e.removeprefix(b"data: ").rstrip() for e in wire.stream_events(reply, model, response_id)
            ]
            return _json(b"[" + b",\r\n".join(events) + b"]")
        return await self._stream(request, wire.stream_events(reply, model, response_id), model)

    async def _stream(self, request: web.Request, events: Iterator[bytes], model: str) -> web.StreamResponse:
        response = web.StreamResponse(headers=_SSE_HEADERS)
        await response.prepare(request)
        faulty = model in (wire.FAULT_STREAM_ERROR, wire.FAULT_STREAM_CUT)
        for event in itertools.islice(events, wire.STREAM_FAULT_AFTER if faulty else None):
            await self._write(response, event)
        if model == wire.FAULT_STREAM_CUT and request.transport is not None:
            request.transport.close()
            return response
        if model == wire.FAULT_STREAM_ERROR:
            await response.write(wire.error_event(500, "INTERNAL", "An internal error has occurred."))
        await response.write_eof()
        return response

    async def _write(self, response: web.StreamResponse, event: bytes) -> None:
        size = self.split_events
        if not size:
            await response.write(event)
            return
        for start in range(0, len(event), size):
            await response.write(event[start : start + size])
            await asyncio.sleep(0)

    async def _unknown(self, request: web.Request) -> web.StreamResponse:
        await self._admit(request)
        raise wire.GoogleError(
            404, "NOT_FOUND", f"The requested URL {request.path} was not found on this server."
        )
