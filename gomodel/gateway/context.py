"""Per-request bookkeeping: what the caller is, and the record the request will leave behind."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from typing import Protocol

import attrs

from gomodel.core.errors import GatewayError
from gomodel.core.records import RecordSink, RequestRecord, Usage

__all__ = ["CallContext", "RecordBuilder", "StreamSink", "recording"]

#: Status recorded when the client went away before the response was complete (nginx's convention).
CLIENT_CLOSED = 499


@attrs.frozen(slots=True, kw_only=True)
class CallContext:
    request_id: str
    method: str
    endpoint: str
    user_path: str | None
    started: float = attrs.field(factory=time.perf_counter)
    timestamp: float = attrs.field(factory=time.time)


class StreamSink(Protocol):
    """Where a streamed answer goes: headers once, then bytes; each write waits for the client."""

    async def start(self) -> None: ...

    async def write(self, data: bytes) -> None: ...


class RecordBuilder:
    """Collects facts while a request runs; `finish` hands exactly one record to the sink."""

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
            RequestRecord(
                request_id=ctx.request_id,
                timestamp=ctx.timestamp,
                endpoint=ctx.endpoint,
                method=ctx.method,
                requested_model=self.requested_model,
                model=self.model,
                provider=self.provider,
                provider_type=self.provider_type,
                user_path=ctx.user_path,
                stream=self.stream,
                status=self.status,
                latency_ms=(now - ctx.started) * 1000.0,
                ttft_ms=(self.ttft - ctx.started) * 1000.0 if self.ttft is not None else None,
                usage=self.usage,
                error_type=self.error_type,
                error_message=self.error_message,
            )
        )


@contextlib.contextmanager
def recording(ctx: CallContext, sink: RecordSink) -> Iterator[RecordBuilder]:
    """``with recording(ctx, sink) as record:``: exactly one record however the block ends.

    A gateway error is noted with its status, a cancelled handler (the client went away) as 499;
    either way the record goes to the sink in ``finally`` and the exception continues.
    """
    record = RecordBuilder(ctx, sink)
    try:
        yield record
    except GatewayError as error:
        record.fail(error)
        raise
    except (asyncio.CancelledError, ConnectionResetError):
        record.client_gone()
        raise
    finally:
        record.finish()
