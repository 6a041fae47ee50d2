"""A record sink that writes each finished request as one structured log line, off the request path.

`submit` only enqueues (the request never waits on logging I/O); a background task drains the queue in
batches. A full queue drops the record and counts it, rather than slowing traffic down. `aclose`
drains what is queued, so records survive a normal shutdown.
"""

from __future__ import annotations

import asyncio
import logging

import attrs

from gomodel.core.records import RequestRecord

__all__ = ["LogRecordSink"]

log = logging.getLogger("gomodel.requests")

_BATCH = 256


class LogRecordSink:
    def __init__(self, capacity: int) -> None:
        self._queue: asyncio.Queue[RequestRecord] = asyncio.Queue(maxsize=capacity)
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0
        self.written = 0

    def submit(self, record: RequestRecord) -> None:
        try:
            self._queue.put_nowait(record)
        except asyncio.QueueFull:
            self.dropped += 1

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="record-log-writer")

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            self._write(first)
            for _ in range(_BATCH):
                try:
                    self._write(self._queue.get_nowait())
                except asyncio.QueueEmpty:
                    break

    def _write(self, record: RequestRecord) -> None:
        fields = attrs.asdict(record, recurse=True)
        fields["latency_ms"] = round(record.latency_ms, 3)
        if record.ttft_ms is not None:
            fields["ttft_ms"] = round(record.ttft_ms, 3)
        log.info(
            "%s %s model=%s provider=%s status=%d",
            record.method,
            record.endpoint,
            record.model or record.requested_model,
            record.provider,
            record.status,
            extra={"fields": fields, "record_request_id": record.request_id},
        )
        self.written += 1

    async def aclose(self) -> None:
        """Stop the writer after flushing everything already submitted."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        while not self._queue.empty():
            self._write(self._queue.get_nowait())
        if self.dropped:
            log.warning("%d request record(s) were dropped because the queue was full", self.dropped)
