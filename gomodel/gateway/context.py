"""Per-request bookkeeping: what the caller is, and the record the request will leave behind."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

from gomodel.core.errors import GatewayError
from gomodel.core.records import RecordSink, RequestRecord, Usage

__all__ = ["CallContext", "RecordBuilder", "StreamSink"]

#: Status recorded when the client went away before the response was complete (nginx's convention).
CLIENT_CLOSED = 499


class CallContext:
    """Who asked, and when. A plain slotted class: built on every request, where attrs' generated
    ``__init__`` with two factories cost more than the rest of this module's bookkeeping."""

    __slots__ = ("endpoint", "method", "request_id", "started", "timestamp", "user_path")

    def __init__(self, request_id: str, method: str, endpoint: str, user_path: str | None) -> None:
        self.request_id = request_id
        self.method = method
        self.endpoint = endpoint
        self.user_path = user_path
        self.started = time.perf_counter()
        self.timestamp = time.time()


class StreamSink(Protocol):
    """Where a streamed answer goes: headers once, then bytes; each write waits for the client."""

    async def start(self) -> None: ...

    async def write(self, data: bytes) -> None: ...

    async def close(self, data: bytes) -> None:
        """The last bytes and the end of the answer, in one write."""


class RecordBuilder:
    """Collects facts while a request runs; `finish` hands exactly one record to the sink.

    ``with RecordBuilder(ctx, sink) as record:`` finishes it on the way out.
    """

    __slots__ = (
        "_ctx",
        "_done",
        "_sink",
        "error_message",
        "error_type",
        "model",
        "provider",
        "provider_type",
        "requested_model",
        "status",
        "stream",
        "ttft",
        "usage",
    )

    def __init__(self, ctx: CallContext, sink: RecordSink) -> None:
        self._ctx = ctx
        self._sink = sink
        self._done = False
        self.requested_model: str | None = None
        self.model: str | None = None
        self.provider: str | None = None
        self.provider_type: str | None = None
        self.stream = False
        self.status = 200
        self.ttft: float | None = None
        self.usage: Usage | None = None
        self.error_type: str | None = None
        self.error_message: str | None = None

    def __enter__(self) -> RecordBuilder:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, _: object) -> None:
        """Exactly one record however the block ends: a gateway error is noted with its status, a
        cancelled handler (the client went away) as 499; the exception continues."""
        if error is not None:
            if isinstance(error, GatewayError):
                self.fail(error)
            elif isinstance(error, asyncio.CancelledError | ConnectionResetError):
                self.client_gone()
        self.finish()

    def first_byte(self) -> None:
        if self.ttft is None:
            self.ttft = time.perf_counter()

    def fail(self, error: GatewayError) -> None:
        self.status = error.status
        self.error_type = error.error_type
        self.error_message = error.message

    def client_gone(self) -> None:
        self.status = CLIENT_CLOSED
        self.error_type = "client_disconnected"
        self.error_message = "client closed the connection before the response was complete"

    def finish(self) -> None:
        if self._done:
            return
        self._done = True
        ctx = self._ctx
        now = time.perf_counter()
        self._sink.submit(
            # Positional, in field order (see `RequestRecord`).
            RequestRecord(
                ctx.request_id,
                ctx.timestamp,
                ctx.endpoint,
                ctx.method,
                self.requested_model,
                self.model,
                self.provider,
                self.provider_type,
                ctx.user_path,
                self.stream,
                self.status,
                (now - ctx.started) * 1000.0,
                (self.ttft - ctx.started) * 1000.0 if self.ttft is not None else None,
                self.usage,
                self.error_type,
                self.error_message,
            )
        )
