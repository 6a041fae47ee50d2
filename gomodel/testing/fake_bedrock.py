"""A strict fake Amazon Bedrock Runtime for tests: Converse, ConverseStream, InvokeModel (Titan
embeddings) and the control plane's ListFoundationModels, on a real socket.

Strict like the real service, in the real service's order:

* authentication first: SigV4 is recomputed with botocore's own signer from the request as received
  (the signed headers, the raw path, the body) and the test credentials, and compared with the
  ``Authorization`` header; a mismatch is a 403 ``InvalidSignatureException`` whose message, as AWS's
  does, quotes the canonical request (session token included). With ``bearer_token`` set, a Bedrock
  API key is expected instead;
* then the body against botocore's model of ``bedrock-runtime`` (unknown fields, missing members,
  enums such as roles, ranges, patterns, unions), then Converse's own rules (starts with a user turn,
  roles alternate, no blank text, ``toolConfig`` whenever tool blocks appear, every ``toolUse``
  answered); all as 400 ``ValidationException`` with the ``x-amzn-ErrorType`` header.

Replies (`gomodel.testing.fake_bedrock_wire.plan_reply`) are deterministic. A user turn offered tools
calls the tools its text names (else the forced or first tool); a turn holding tool results answers with
their text; otherwise the reply is ``REPLY_TEXT``. A ``thinking`` field adds reasoning with a signature,
``outputConfig`` a JSON answer, ``maxTokens`` truncates (one token per piece). Streams are real
event-stream frames written `write_size` bytes at a time, so frames and UTF-8 sequences split across
reads; tool input arrives in several deltas.

Faults by model id (always routable): ``fault-throttle`` (429 ``ThrottlingException``, with
``retry-after`` when `retry_after` is set), ``fault-not-ready`` (429 ``ModelNotReadyException``),
``fault-timeout`` (408), ``fault-unavailable`` (503), ``fault-internal`` (500), ``fault-denied`` (403);
for streams ``fault-stream-throttle`` / ``fault-stream-error`` send a few events, then a
``throttlingException`` / ``modelStreamErrorException`` frame, and ``fault-stream-cut`` ends the body
inside a frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import hashlib
import itertools
import re
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any
from urllib.parse import unquote

import attrs
import orjson
from aiohttp import web
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

from gomodel.testing.fake_bedrock_wire import (
    AwsError,
    ShapeValidator,
    converse_rules,
    exception_frame,
    invalid,
    plan_reply,
)
from gomodel.testing.fake_server import MAX_BODY, raw_headers, read_json, runner_kwargs
from gomodel.testing.threaded_server import ThreadedServer

__all__ = [
    "EMBEDDING_MODELS",
    "FAULT_MODELS",
    "TEST_ACCESS_KEY",
    "TEST_REGION",
    "TEST_SECRET_KEY",
    "TEST_SESSION_TOKEN",
    "TEXT_MODELS",
    "FakeBedrock",
    "RecordedRequest",
]

TEST_ACCESS_KEY = "AKIAFAKEBEDROCK00001"
TEST_SECRET_KEY = "fakeSecret/K7MDENG+bPxRfiCYFAKEKEY0001"
TEST_SESSION_TOKEN = "IQoJb3JpZ2luX2VjFAKESESSIONTOKEN//0001"
TEST_REGION = "us-west-2"
TEXT_MODELS = (
    "anthropic.claude-3-5-sonnet-20240620-v1:0",
    "anthropic.claude-sonnet-4-20250514-v1:0",
    "us.amazon.nova-pro-v1:0",
)
EMBEDDING_MODELS = ("amazon.titan-embed-text-v2:0",)
EMBEDDING_SIZE = 8

_ERROR_NAMESPACE = "http://internal.amazon.com/coral/com.amazon.bedrock/"
_STATUS_FAULTS = {
    "fault-throttle": (429, "ThrottlingException", "Too many requests, please wait before trying again."),
    "fault-not-ready": (429, "ModelNotReadyException", "Model is not ready for inference. Retry later."),
    "fault-timeout": (408, "ModelTimeoutException", "Model has timed out in processing the request."),
    "fault-unavailable": (503, "ServiceUnavailableException", "Service Unavailable. Please try again."),
    "fault-internal": (500, "InternalServerException", "The server encountered an internal error."),
    "fault-denied": (
        403,
        "AccessDeniedException",
        "You don't have access to the model with the specified ID.",
    ),
}
_STREAM_FAULTS = {
    "fault-stream-throttle": ("throttlingException", "Too many tokens, please wait before trying again."),
    "fault-stream-error": ("modelStreamErrorException", "Model stream error: the model failed mid-answer."),
}
FAULT_MODELS = (*_STATUS_FAULTS, *_STREAM_FAULTS, "fault-stream-cut")
_SKEW = datetime.timedelta(minutes=5)


# --- the server ----------------------------------------------------------------------------------


@attrs.frozen
class RecordedRequest:
    """Like `gomodel.testing.fake_server.RecordedRequest`, with the raw path next to the unescaped one."""

    method: str
    #: As sent, still escaped (``/model/anthropic.claude-v2%3A1/converse`` or with ``:``).
    raw_path: str
    #: Unescaped, for assertions: ``/model/anthropic.claude-v2:1/converse``.
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    json: Any


_Handler = Callable[[web.Request, bytes], Awaitable[web.StreamResponse]]


class FakeBedrock:
    """Serve with ``with FakeBedrock().serve() as fake:``; point ``BEDROCK_BASE_URL`` at ``fake.base_url``."""

    def __init__(
        self,
        *,
        region: str = TEST_REGION,
        access_key: str = TEST_ACCESS_KEY,
        secret_key: str = TEST_SECRET_KEY,
        session_token: str | None = None,
        bearer_token: str | None = None,
        models: tuple[str, ...] = TEXT_MODELS + EMBEDDING_MODELS,
        write_size: int = 9,
        write_delay: float = 0.0,
        retry_after: str | None = None,
        cache_tokens: tuple[int, int] = (0, 0),
    ) -> None:
        self.region = region
        self.credentials = ReadOnlyCredentials(access_key, secret_key, session_token)
        self.bearer_token = bearer_token
        self.models = models
        self.write_size = write_size
        self.write_delay = write_delay
        self.retry_after = retry_after
        self.cache_tokens = cache_tokens
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._validator = ShapeValidator()
        self._call_ids = itertools.count(1)
        self._server: ThreadedServer | None = None

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post("/model/{model}/converse", self._admitted(self._converse))
        app.router.add_post("/model/{model}/converse-stream", self._admitted(self._converse))
        app.router.add_post("/model/{model}/invoke", self._admitted(self._invoke))
        app.router.add_get("/foundation-models", self._admitted(self._foundation_models))
        app.router.add_route("*", "/{tail:.*}", self._admitted(self._unknown))
        return app

    # Not a FakeServer: serve() takes no address and base_url is the bare origin (no path prefix).
    @contextlib.contextmanager
    def serve(self) -> Iterator[FakeBedrock]:
        server = ThreadedServer()
        server.start(self.make_app(), **runner_kwargs())
        self._server = server
        try:
            yield self
        finally:
            server.stop()
            self._server = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeBedrock is not running")
        return self._server.base_url

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    # --- admission: record, authenticate -----------------------------------------------------------

    def _admitted(self, handler: _Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def admitted(request: web.Request) -> web.StreamResponse:
            body, parsed = await read_json(request)
            raw_path = request.raw_path.partition("?")[0]
            with self._lock:
                self.requests.append(
                    RecordedRequest(
                        method=request.method,
                        raw_path=raw_path,
                        path=unquote(raw_path),
                        query=dict(request.query),
                        headers=raw_headers(request),
                        body=body,
                        json=parsed,
                    )
                )
            try:
                self._authenticate(request, body)
                return await handler(request, body)
            except AwsError as error:
                return _error_response(error)

        return admitted

    def _authenticate(self, request: web.Request, body: bytes) -> None:
        authorization = request.headers.get("Authorization", "")
        if self.bearer_token is not None:
            if authorization != f"Bearer {self.bearer_token}":
                raise AwsError(
                    403,
                    "UnrecognizedClientException",
                    "Invalid API Key format: Must start with pre-defined prefix or the key is not valid.",
                )
            return
        match = re.fullmatch(
            r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
            r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})",
            authorization,
        )
        if match is None:
            raise AwsError(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
        key, day, region, service, signed, signature = match.groups()
        if key != self.credentials.access_key:
            raise AwsError(
                403, "UnrecognizedClientException", "The security token included in the request is invalid."
            )
        if request.headers.get("X-Amz-Security-Token") != self.credentials.token:
            raise AwsError(
                403, "UnrecognizedClientException", "The security token included in the request is invalid."
            )
        if (region, service) != (self.region, "bedrock"):
            raise AwsError(
                403,
                "InvalidSignatureException",
                f"Credential should be scoped to a valid region "
                f"and to the correct service: '{self.region}'/'bedrock', not '{region}'/'{service}'.",
            )
        stamp = request.headers.get("X-Amz-Date", "")
        try:
            when = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)
        except ValueError:
            raise AwsError(
                403, "IncompleteSignatureException", "X-Amz-Date is missing or malformed."
            ) from None
        if abs(datetime.datetime.now(datetime.UTC) - when) > _SKEW or day != stamp[:8]:
            raise AwsError(403, "InvalidSignatureException", "Signature expired or not yet current.")
        names = signed.split(";")
        if "host" not in names or "x-amz-date" not in names:
            raise AwsError(
                403, "InvalidSignatureException", "The host and x-amz-date headers must be signed."
            )
        aws = AWSRequest(
            method=request.method,
            url=f"{request.scheme}://{request.host}{request.raw_path}",
            data=body,
            headers={name: request.headers.get(name, "") for name in names},
        )
        aws.context["timestamp"] = stamp
        signer = SigV4Auth(self.credentials, "bedrock", self.region)
        canonical = signer.canonical_request(aws)
        string_to_sign = signer.string_to_sign(aws, canonical)
        if signer.signature(string_to_sign, aws) != signature:
            raise AwsError(
                403,
                "InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided. Check your "
                "AWS Secret Access Key and signing method. Consult the service documentation for details."
                f"\n\nThe Canonical String for this request should have been\n'{canonical}'\n\n"
                f"The String-to-Sign should have been\n'{string_to_sign}'\n",
            )

    # --- operations ----------------------------------------------------------------------------------

    def _model(self, request: web.Request) -> str:
        model = request.match_info["model"]
        if model not in self.models and model not in FAULT_MODELS:
            raise invalid("The provided model identifier is invalid.")
        if model in _STATUS_FAULTS:
            status, kind, message = _STATUS_FAULTS[model]
            retry = {"retry-after": self.retry_after} if self.retry_after and status == 429 else None
            raise AwsError(status, kind, message, retry)
        return model

    async def _converse(self, request: web.Request, body: bytes) -> web.StreamResponse:
        stream = request.path.endswith("/converse-stream")
        payload = _json_object(body)
        self._validator.check("ConverseStream" if stream else "Converse", payload)
        converse_rules(payload)
        model = self._model(request)
        reply = plan_reply(payload, self._call_ids, self.cache_tokens)
        if not stream:
            answer = {
                "output": {"message": reply.message()},
                "stopReason": reply.stop_reason,
                "usage": reply.usage,
                "metrics": {"latencyMs": 42},
            }
            return _json_response(answer)
        frames = list(reply.frames(42))
        if model in _STREAM_FAULTS:
            frames = [*frames[:3], exception_frame(*_STREAM_FAULTS[model])]
        elif model == "fault-stream-cut":
            frames = [*frames[:3], frames[3][: len(frames[3]) // 2]]
        return await self._write_stream(request, b"".join(frames))

    async def _write_stream(self, request: web.Request, data: bytes) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "application/vnd.amazon.eventstream", **_request_id()}
        )
        await response.prepare(request)
        for start in range(0, len(data), self.write_size):
            await response.write(data[start : start + self.write_size])
            if self.write_delay:
                await asyncio.sleep(self.write_delay)
        await response.write_eof()
        return response

    async def _invoke(self, request: web.Request, body: bytes) -> web.StreamResponse:
        payload = _json_object(body)
        model = self._model(request)
        if "titan-embed-text-v2" not in model:
            raise invalid("This fake serves InvokeModel for amazon.titan-embed-text-v2:0 only.")
        extra = sorted(payload.keys() - {"inputText", "dimensions", "normalize", "embeddingTypes"})
        if extra or not isinstance(payload.get("inputText"), str) or not payload["inputText"]:
            raise invalid(
                f"Malformed input request: #: extraneous key [{', '.join(extra)}] is not permitted"
                if extra
                else "Malformed input request: #: required key [inputText] not found"
            )
        if payload.get("dimensions", 1024) not in (256, 512, 1024):
            raise invalid("Malformed input request: #/dimensions: 7 is not a valid enum value")
        digest = hashlib.sha256(payload["inputText"].encode()).digest()
        vector = [round(b / 255, 6) for b in digest[:EMBEDDING_SIZE]]
        tokens = len(payload["inputText"].split())
        answer = {"embedding": vector, "inputTextTokenCount": tokens, "embeddingsByType": {"float": vector}}
        return _json_response(answer)

    async def _foundation_models(self, request: web.Request, body: bytes) -> web.StreamResponse:
        unknown = request.query.keys() - {
            "byProvider",
            "byCustomizationType",
            "byOutputModality",
            "byInferenceType",
        }
        if unknown:
            raise invalid(f"Unknown query parameter: {sorted(unknown)[0]}")
        wanted = request.query.get("byOutputModality")
        summaries = [
            _model_summary(model, self.region)
            for model in self.models
            # Inference profiles are not foundation models: the control plane lists them elsewhere.
            if not model.startswith(("us.", "eu.", "apac.", "global."))
            and wanted in (None, "EMBEDDING" if "embed" in model else "TEXT")
        ]
        return _json_response({"modelSummaries": summaries})

    async def _unknown(self, request: web.Request, body: bytes) -> web.StreamResponse:
        raise AwsError(404, "UnknownOperationException", f"No operation at {request.method} {request.path}")


def _model_summary(model: str, region: str) -> dict[str, Any]:
    embeds = "embed" in model
    return {
        "modelArn": f"arn:aws:bedrock:{region}::foundation-model/{model}",
        "modelId": model,
        "providerName": model.split(".", maxsplit=1)[0].capitalize(),
        "inputModalities": ["TEXT"],
        "outputModalities": ["EMBEDDING" if embeds else "TEXT"],
        "responseStreamingSupported": not embeds,
        "inferenceTypesSupported": ["ON_DEMAND"],
        "modelLifecycle": {"status": "ACTIVE"},
    }


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise AwsError(400, "SerializationException", "Unexpected character in request body.") from None
    if not isinstance(payload, dict):
        raise AwsError(400, "SerializationException", "Start of structure or map found where not expected.")
    return payload


def _request_id() -> dict[str, str]:
    return {"x-amzn-RequestId": str(uuid.uuid4())}


def _json_response(payload: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(
        body=orjson.dumps(payload),
        status=status,
        content_type="application/json",
        headers={**_request_id(), **(headers or {})},
    )


def _error_response(error: AwsError) -> web.Response:
    headers = {"x-amzn-ErrorType": f"{error.kind}:{_ERROR_NAMESPACE}", **error.headers}
    return _json_response({"message": error.message}, error.status, headers)
