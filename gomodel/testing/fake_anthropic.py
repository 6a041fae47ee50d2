"""A fake Anthropic Messages API for the gateway's tests and local runs.

It is as strict as the real API about what the gateway must get right: unknown top-level fields,
a missing ``max_tokens``, roles that do not alternate or do not open with ``user``, empty content,
``tool_result`` blocks without a matching ``tool_use`` in the previous assistant turn (and the
reverse), thinking budgets, open object schemas in structured output, a missing or wrong
``x-api-key`` (401; a bearer token is taken too, as the current SDKs send one) and a missing
``anthropic-version`` (400), all in Anthropic's error shape.

Answers are deterministic: text in ``chunks`` pieces (``"tok0 "``, ``"tok1 "``... or ``reply_text``
cut into that many pieces), a thinking block when thinking is on, one ``tool_use`` per offered tool
when tools are offered and the last user turn is not already answering tool calls (arguments built
from the tool's schema and streamed in ``json_pieces`` pieces), and JSON matching the schema under
``output_config.format``. Streams are one SSE event per piece; ``write_size`` re-cuts the whole body
into writes of that many bytes, splitting events and UTF-8 sequences anywhere.

Faults, picked by model name: ``fault-429`` (with ``retry-after: 7``), ``fault-500``, ``fault-529``
answer that error; ``fault-stall`` never answers; for streams, ``fault-stream-error`` and
``fault-stream-rate-limit`` send a few events and then an ``error`` event (overloaded / rate limit),
``fault-stream-stall`` stalls and ``fault-stream-cut`` closes the connection after a few events.

Run it standalone with ``python -m gomodel.testing.fake_anthropic --help``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
from collections.abc import Iterator, Sequence
from typing import Any, Literal

import orjson
from aiohttp import web

from gomodel.testing import fake_anthropic_wire as wire
from gomodel.testing.fake_server import MAX_BODY, SSE_HEADERS, FakeServer, Handler, guard, json_response

__all__ = ["FakeAnthropic", "StreamLifecycle", "main"]

StreamLifecycle = Literal["started", "completed", "client_disconnected"]


def _error_response(error: wire.Rejected) -> web.Response:
    return json_response(wire.error_body(error.error_type, error.message), error.status, error.headers)


class FakeAnthropic(FakeServer):
    """A fake ``https://api.anthropic.com/v1``. Run it with ``serve()`` or mount it with ``add_routes``."""

    def __init__(
        self,
        *,
        api_key: str | None = "fake-anthropic-key",
        models: Sequence[str] = ("claude-fake", "claude-fake-haiku"),
        chunks: int = 5,
        reply_text: str | None = None,
        json_pieces: int = 4,
        write_size: int | None = None,
        chunk_delay: float = 0.0,
        max_page_size: int = 1000,
        cache_read_tokens: int = 0,
        cache_creation_tokens: int = 0,
        path_prefix: str = "/v1",
        record: bool = True,
    ) -> None:
        super().__init__(path_prefix=path_prefix, record=record)
        self.api_key = api_key
        self.models = tuple(models)
        self._known = frozenset(self.models)
        pieces = wire.split(reply_text, chunks) if reply_text is not None else None
        self._style = wire.AnswerStyle(
            pieces=pieces or tuple(f"tok{i} " for i in range(chunks)),
            json_pieces=json_pieces,
            cache_read_tokens=cache_read_tokens,
            cache_creation_tokens=cache_creation_tokens,
        )
        self.write_size = write_size
        self.chunk_delay = chunk_delay
        self.max_page_size = max_page_size
        #: Stream lifecycles, kept like ``requests`` only while ``record`` is on.
        self.stream_events: list[tuple[str, StreamLifecycle]] = []
        self._ids = itertools.count(1)

    # --- lifecycle -----------------------------------------------------------------------------

    def add_routes(self, app: web.Application, *, models: bool = True) -> None:
        """Mount the Messages (and, with ``models``, the Models) API on ``app`` under the path prefix."""
        app.router.add_post(f"{self.path_prefix}/messages", self._guarded(self._messages))
        if models:
            app.router.add_get(f"{self.path_prefix}/models", self._guarded(self._list_models))

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        self.add_routes(app)
        app.router.add_route("*", "/{tail:.*}", self._guarded(self._unknown_route))
        return app

    # --- requests ------------------------------------------------------------------------------

    def _guarded(self, handler: Handler) -> Handler:
        return guard(handler, wire.Rejected, _error_response)

    async def _admit(self, request: web.Request) -> Any:
        _, parsed = await self._capture(request)
        if self.api_key is not None:
            self._authenticate(request)
        if not request.headers.get("anthropic-version"):
            raise wire.invalid("anthropic-version: header is required")
        if request.method == "POST" and parsed is None:
            raise wire.invalid("There was an issue with the request body: it is not valid JSON")
        return parsed

    def _authenticate(self, request: web.Request) -> None:
        # The API takes the key as x-api-key and, as the current SDKs send it, as a bearer token.
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        provided = request.headers.get("x-api-key") or (token.strip() if scheme.lower() == "bearer" else None)
        if not provided:
            raise wire.Rejected(401, "authentication_error", "x-api-key header is required")
        if provided != self.api_key:
            raise wire.Rejected(401, "authentication_error", "invalid x-api-key")

    async def _unknown_route(self, request: web.Request) -> web.StreamResponse:
        await self._admit(request)
        raise wire.Rejected(404, "not_found_error", "Not Found")

    async def _list_models(self, request: web.Request) -> web.StreamResponse:
        await self._admit(request)
        try:
            limit = int(request.query.get("limit", "20"))
        except ValueError:
            raise wire.invalid("limit: Input should be a valid integer") from None
        if not 1 <= limit <= 1000:
            raise wire.invalid("limit: Input should be between 1 and 1000")
        start = 0
        after = request.query.get("after_id")
        if after is not None:
            if after not in self._known:
                raise wire.invalid(f"after_id: unknown model id {after}")
            start = self.models.index(after) + 1
        page = self.models[start : start + min(limit, self.max_page_size)]
        data = [
            {"type": "model", "id": m, "display_name": m, "created_at": "2025-05-14T00:00:00Z"} for m in page
        ]
        body = {
            "data": data,
            "has_more": start + len(page) < len(self.models),
            "first_id": page[0] if page else None,
            "last_id": page[-1] if page else None,
        }
        return web.json_response(body, dumps=lambda v: orjson.dumps(v).decode())

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        call = wire.validate(await self._admit(request), self._known)
        message_id = f"msg_fake_{next(self._ids)}"
        status = wire.FAULT_STATUS.get(call.model)
        if status is not None:
            headers = {"retry-after": str(wire.RETRY_AFTER_SECONDS)} if status[0] == 429 else None
            raise wire.Rejected(*status, headers=headers)
        if call.model == "fault-stall":
            self._note(message_id, "started")
            try:
                await _park()
            finally:
                self._note(message_id, "client_disconnected")
        answer = wire.build_answer(call, message_id, self._style)
        if not call.stream:
            return web.Response(body=orjson.dumps(answer.message()), content_type="application/json")
        return await self._stream(request, message_id, answer.events(), call.model)

    async def _stream(
        self, request: web.Request, message_id: str, events: Iterator[bytes], model: str
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers=SSE_HEADERS)
        self._note(message_id, "started")
        faulty = model in wire.STREAM_ERRORS or model in ("fault-stream-stall", "fault-stream-cut")
        sent = list(itertools.islice(events, wire.STREAM_FAULT_AFTER) if faulty else events)
        try:
            await response.prepare(request)
            await self._write(response, sent)
            if model in wire.STREAM_ERRORS:
                error_type, message = wire.STREAM_ERRORS[model]
                await response.write(
                    wire.sse_event({"type": "error", "error": {"type": error_type, "message": message}})
                )
            elif model == "fault-stream-stall":
                await _park()
            elif model == "fault-stream-cut":
                if request.transport is not None:
                    request.transport.close()
                return response
            await response.write_eof()
        except (asyncio.CancelledError, ConnectionError):
            self._note(message_id, "client_disconnected")
            raise
        self._note(message_id, "completed")
        return response

    async def _write(self, response: web.StreamResponse, events: list[bytes]) -> None:
        writes = events
        if self.write_size:
            body = b"".join(events)
            writes = [body[i : i + self.write_size] for i in range(0, len(body), self.write_size)]
        for index, data in enumerate(writes):
            if index and self.chunk_delay:
                await asyncio.sleep(self.chunk_delay)
            await response.write(data)

    def _note(self, message_id: str, event: StreamLifecycle) -> None:
        if self.record:
            self.stream_events.append((message_id, event))


async def _park() -> None:
    """Wait until the client leaves: aiohttp then cancels the handler (``handler_cancellation``)."""
    await asyncio.get_running_loop().create_future()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gomodel.testing.fake_anthropic", description="Run a fake Anthropic Messages API."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--api-key", default="fake-anthropic-key")
    parser.add_argument("--models", default="claude-fake,claude-fake-haiku")
    parser.add_argument("--chunks", type=int, default=5, help="text pieces per answer")
    parser.add_argument("--chunk-delay-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    fake = FakeAnthropic(
        api_key=args.api_key,
        models=[m for m in args.models.split(",") if m],
        chunks=args.chunks,
        chunk_delay=args.chunk_delay_ms / 1000,
        record=False,
    )
    web.run_app(fake.make_app(), host=args.host, port=args.port, **fake.runner_kwargs())
    return 0


if __name__ == "__main__":
    sys.exit(main())
