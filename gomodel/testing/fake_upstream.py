"""An OpenAI-compatible fake upstream for the gateway's tests, benchmarks and local runs.

It validates requests as strictly as the real API, answers deterministically, can
impersonate Azure (``api-key`` header, ``api-version`` query), injects faults chosen by
model name, and records requests and stream lifecycles so tests can assert what the
gateway sent and whether it cancelled upstream work. Run it standalone with
``python -m gomodel.testing.fake_upstream --help``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import Any, Literal, NoReturn

import attrs
import uvloop
from aiohttp import web

from gomodel.testing import fake_upstream_wire as wire
from gomodel.testing.fake_server import (
    MAX_BODY,
    SSE_HEADERS,
    FakeServer,
    Handler,
    RecordedRequest,
    error_response,
    guard,
    json_response,
)

__all__ = ["FakeUpstream", "RecordedRequest", "StreamEvent", "main"]

StreamEvent = Literal["started", "completed", "client_disconnected"]
AuthStyle = Literal["bearer", "api-key"]


@attrs.frozen(eq=False)
class _AsyncWaiter:
    kind: StreamEvent
    stream_id: str | None
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[None]


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class FakeUpstream(FakeServer):
    """A fake OpenAI (or Azure OpenAI) endpoint.

    Replies are ``chunks`` pieces ``"tok0 "``, ``"tok1 "``, ... Fault modes, picked by
    model name (always accepted) or for every chat request by ``fault``:
    ``fault-400/401/429/500/503`` answer that error (429 with ``retry-after: 7``);
    ``fault-stall`` never answers; ``fault-cut`` closes the connection unanswered;
    for streams, ``fault-stream-stall``, ``fault-stream-cut`` and ``fault-stream-error``
    send two events and then stall, cut the connection, or send an error event.
    Stream faults are ignored by non-streaming requests; embeddings and the audio
    endpoints (``/audio/speech``, ``/audio/transcriptions``) honour the others.

    ``stream_events`` tracks streams and stalls by completion id (the chunks' ``id``):
    ``started``, then ``completed`` once the fake has sent everything it meant to, or
    ``client_disconnected`` if the client left first. A ``fault-stream-cut`` stream
    records only ``started``, since the fake itself drops the connection.
    """

    def __init__(
        self,
        *,
        api_key: str | None = "fake-key",
        auth_style: AuthStyle = "bearer",
        api_version: str | None = None,
        path_prefix: str = "/v1",
        models_path: str | None = None,
        models: Sequence[str] = ("gpt-fake", "gpt-fake-mini", "text-embedding-fake"),
        models_status: int = 200,
        models_delay: float = 0.0,
        chunks: int = 5,
        chunk_delay: float = 0.0,
        embedding_dim: int = 8,
        fault: str | None = None,
        record: bool = True,
    ) -> None:
        if fault is not None and fault not in wire.FAULT_MODES:
            raise ValueError(f"unknown fault mode {fault!r}; known: {sorted(wire.FAULT_MODES)}")
        if chunks < 0 or embedding_dim < 1:
            raise ValueError("chunks must be >= 0 and embedding_dim >= 1")
        super().__init__(path_prefix=path_prefix, record=record)
        self.api_key = api_key
        self.auth_style: AuthStyle = auth_style
        self.api_version = api_version
        self.models_path = models_path or f"{self.path_prefix}/models"
        self.models = tuple(models)
        self.models_status = models_status
        self.models_delay = models_delay
        self.chunk_delay = chunk_delay
        self.embedding_dim = embedding_dim
        self.fault = fault
        self.stream_events: list[tuple[str, StreamEvent]] = []
        self._events_changed = threading.Condition()
        self._async_waiters: list[_AsyncWaiter] = []
        self._known_models = frozenset(self.models)
        self._models_reply = wire.models_body(self.models)
        self._reply = wire.ChatReply.build(chunks)
        self._ids = itertools.count(1)
        self._app: web.Application | None = None
        self._runner: web.AppRunner | None = None

    # --- lifecycle -------------------------------------------------------------------

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_get(self.models_path, self._guarded(self._list_models))
        app.router.add_post(f"{self.path_prefix}/chat/completions", self._guarded(self._chat))
        app.router.add_post(f"{self.path_prefix}/embeddings", self._guarded(self._embeddings))
        app.router.add_post(f"{self.path_prefix}/audio/speech", self._guarded(self._speech))
        app.router.add_post(f"{self.path_prefix}/audio/transcriptions", self._guarded(self._transcriptions))
        app.router.add_route("*", "/{tail:.*}", self._guarded(self._unknown_route))
        return app

    @property
    def app(self) -> web.Application:
        if self._app is None:
            self._app = self.make_app()
        return self._app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on the running loop; returns the base URL including the path prefix."""
        if self._runner is not None:
            raise RuntimeError("FakeUpstream is already started")
        runner = web.AppRunner(self.make_app(), **self.runner_kwargs())
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        self._origin = _origin(host, int(runner.addresses[0][1]))
        return self.base_url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            self._origin = None

    # --- recording -------------------------------------------------------------------

    def _note(self, stream_id: str, event: StreamEvent) -> None:
        if not self.record:
            return
        with self._events_changed:
            self.stream_events.append((stream_id, event))
            self._events_changed.notify_all()
            for waiter in self._async_waiters:
                if waiter.kind == event and waiter.stream_id in (None, stream_id):
                    # The waiter may live on another loop (and thread) than the server.
                    waiter.loop.call_soon_threadsafe(_settle, waiter.future)

    def _seen(self, kind: StreamEvent, stream_id: str | None) -> bool:
        return any(k == kind and stream_id in (None, i) for i, k in self.stream_events)

    def wait_for_event(self, kind: StreamEvent, timeout: float, *, stream_id: str | None = None) -> bool:
        """Block until a stream event of ``kind`` (for ``stream_id`` if given) is recorded.

        Safe from any thread except the one running the fake's loop, which it would
        freeze; code on that loop awaits ``wait_for_event_async`` instead.
        """
        with self._events_changed:
            return self._events_changed.wait_for(lambda: self._seen(kind, stream_id), timeout)

    async def wait_for_event_async(self, kind: StreamEvent, *, stream_id: str | None = None) -> None:
        """Wait for a stream event like ``wait_for_event``; bound it with ``asyncio.timeout``."""
        loop = asyncio.get_running_loop()
        waiter = _AsyncWaiter(kind, stream_id, loop, loop.create_future())
        with self._events_changed:
            if self._seen(kind, stream_id):
                return
            self._async_waiters.append(waiter)
        try:
            await waiter.future
        finally:
            with self._events_changed:
                if waiter in self._async_waiters:
                    self._async_waiters.remove(waiter)

    def clear(self) -> None:
        """Forget recorded requests and stream events."""
        with self._events_changed:
            self.requests.clear()
            self.stream_events.clear()

    # --- request handling ------------------------------------------------------------

    def _guarded(self, handler: Handler) -> Handler:
        return guard(handler, wire.UpstreamError, error_response)

    async def _admit(self, request: web.Request) -> Any:
        """Read and record the request, enforce api-version and auth; returns parsed JSON."""
        _, parsed = await self._capture(request)
        if self.api_version is not None and request.query.get("api-version") != self.api_version:
            raise wire.UpstreamError(404, wire.AZURE_NOT_FOUND)
        if self.api_key is not None:
            provided = self._provided_key(request)
            if provided != self.api_key:
                raise wire.auth_error(provided)
        return parsed

    def _provided_key(self, request: web.Request) -> str | None:
        if self.auth_style == "api-key":
            return request.headers.get("api-key")
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" else None

    async def _unknown_route(self, request: web.Request) -> web.StreamResponse:
        await self._admit(request)
        if self.api_version is not None:
            raise wire.UpstreamError(404, wire.AZURE_NOT_FOUND)
        raise wire.invalid_url(request.method, request.path)

    async def _list_models(self, request: web.Request) -> web.StreamResponse:
        await self._admit(request)
        if self.models_delay:
            await asyncio.sleep(self.models_delay)
        if self.models_status != 200:
            raise wire.status_error(
                self.models_status, f"Injected model list failure (HTTP {self.models_status})."
            )
        return json_response(self._models_reply)

    def _check_model(self, model: str) -> None:
        if model not in self._known_models and not model.startswith(wire.FAULT_PREFIX):
            raise wire.model_not_found(model)

    async def _embeddings(self, request: web.Request) -> web.StreamResponse:
        payload = wire.require_object(await self._admit(request))
        embedding = wire.validate_embeddings(payload)
        if embedding.model in wire.FAULT_MODES:
            reply = await self._early_fault(request, embedding.model, f"embd-fake-{next(self._ids)}")
            if reply is not None:
                return reply
        self._check_model(embedding.model)
        return json_response(wire.embeddings_body(embedding, self.embedding_dim))

    async def _speech(self, request: web.Request) -> web.StreamResponse:
        speech = wire.validate_speech(wire.require_object(await self._admit(request)))
        if speech.model in wire.FAULT_MODES:
            reply = await self._early_fault(request, speech.model, f"speech-fake-{next(self._ids)}")
            if reply is not None:
                return reply
        self._check_model(speech.model)
        if speech.stream_format == "sse":
            return web.Response(body=wire.speech_sse(speech), headers=SSE_HEADERS)
        content_type = wire.SPEECH_FORMATS[speech.response_format]
        return web.Response(body=wire.speech_audio(speech), headers={"Content-Type": content_type})

    async def _transcriptions(self, request: web.Request) -> web.StreamResponse:
        await self._admit(request)
        # aiohttp keeps the body _admit read, so this second read costs nothing.
        parts = wire.parse_multipart(await request.read(), request.headers.get("Content-Type", ""))
        transcription = wire.validate_transcription(parts)
        if transcription.model in wire.FAULT_MODES:
            reply = await self._early_fault(request, transcription.model, f"stt-fake-{next(self._ids)}")
            if reply is not None:
                return reply
        self._check_model(transcription.model)
        body, content_type = wire.transcription_body(transcription)
        return web.Response(body=body, headers={"Content-Type": content_type})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        chat = wire.validate_chat(wire.require_object(await self._admit(request)))
        completion_id = f"chatcmpl-fake-{next(self._ids)}"
        fault = self.fault or (chat.model if chat.model in wire.FAULT_MODES else None)
        if fault is not None:
            reply = await self._early_fault(request, fault, completion_id)
            if reply is not None:
                return reply
        self._check_model(chat.model)
        if not chat.stream:
            return json_response(self._reply.completion(completion_id, chat.model, chat.prompt_tokens))
        events = self._reply.stream_events(completion_id, chat.model, chat.include_usage, chat.prompt_tokens)
        return await self._stream(request, completion_id, events, fault)

    async def _early_fault(
        self, request: web.Request, fault: str, stream_id: str
    ) -> web.StreamResponse | None:
        """Act out a fault that strikes before any reply; None lets stream faults through."""
        if fault in wire.FAULT_STATUS:
            raise wire.fault_error(fault)
        if fault == wire.FAULT_STALL:
            self._note(stream_id, "started")
            try:
                await _park()
            finally:
                self._note(stream_id, "client_disconnected")
        if fault == wire.FAULT_CUT:
            _cut(request)
            return _unsent()
        return None

    async def _stream(
        self,
        request: web.Request,
        stream_id: str,
        events: Iterator[bytes],
        fault: str | None,
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers=SSE_HEADERS)
        self._note(stream_id, "started")
        # Stream faults misbehave after a couple of events; other faults never get here.
        limit = wire.STREAM_FAULT_AFTER if fault in wire.STREAM_FAULTS else None
        try:
            await response.prepare(request)
            for index, event in enumerate(itertools.islice(events, limit)):
                if index and self.chunk_delay:
                    await asyncio.sleep(self.chunk_delay)
                await response.write(event)
            if fault == wire.FAULT_STREAM_STALL:
                await _park()
            if fault == wire.FAULT_STREAM_CUT:
                _cut(request)
                return response
            if fault == wire.FAULT_STREAM_ERROR:
                await response.write(wire.STREAM_ERROR_EVENT)
            await response.write_eof()
        except asyncio.CancelledError:
            self._note(stream_id, "client_disconnected")
            raise
        except ConnectionError:
            self._note(stream_id, "client_disconnected")
            return response
        self._note(stream_id, "completed")
        return response


def _origin(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _unsent() -> web.Response:
    """A reply for a client that has already gone; aiohttp fails to write it and drops it."""
    return web.Response(status=499)


async def _park() -> NoReturn:
    """Never return: a stalled handler ends when aiohttp cancels it as its client leaves.

    That needs a runner with ``handler_cancellation=True`` (see ``runner_kwargs``).
    """
    forever: asyncio.Future[NoReturn] = asyncio.get_running_loop().create_future()
    await forever


def _cut(request: web.Request) -> None:
    # close() rather than abort(): whatever was already written still reaches the
    # client, then the connection ends without a complete reply.
    if request.transport is not None:
        request.transport.close()


# --- command line --------------------------------------------------------------------


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m gomodel.testing.fake_upstream",
        description="Run an OpenAI-compatible fake upstream.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--chunks", type=int, default=5, help="stream pieces per reply")
    parser.add_argument("--chunk-delay-ms", type=float, default=0.0)
    auth = parser.add_mutually_exclusive_group()
    auth.add_argument("--api-key", default="fake-key")
    auth.add_argument("--no-auth", action="store_true", help="accept requests without a key")
    parser.add_argument("--auth-style", choices=("bearer", "api-key"), default="bearer")
    parser.add_argument("--api-version", help="Azure mode: required api-version query value")
    parser.add_argument("--path-prefix", default="/v1")
    parser.add_argument("--models", default="gpt-fake,gpt-fake-mini,text-embedding-fake")
    parser.add_argument("--embedding-dim", type=int, default=8)
    parser.add_argument("--fault", choices=sorted(wire.FAULT_MODES), help="fault for every chat")
    parser.add_argument("--record", action="store_true", help="keep requests in memory")
    return parser.parse_args(argv)


async def _serve_forever(args: argparse.Namespace) -> None:
    fake = FakeUpstream(
        api_key=None if args.no_auth else args.api_key,
        auth_style=args.auth_style,
        api_version=args.api_version,
        path_prefix=args.path_prefix,
        models=[m for m in args.models.split(",") if m],
        chunks=args.chunks,
        chunk_delay=args.chunk_delay_ms / 1000,
        embedding_dim=args.embedding_dim,
        fault=args.fault,
        record=args.record,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    url = await fake.start(args.host, args.port)
    print(f"fake upstream listening on {url}", flush=True)
    try:
        await stop.wait()
    finally:
        await fake.close()


def main(argv: Sequence[str] | None = None) -> int:
    uvloop.run(_serve_forever(_parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
