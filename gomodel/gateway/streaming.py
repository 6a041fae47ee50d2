"""Drive a translated stream: provider events in, the client dialect's bytes out, one event at a time.

Shared by every ingress dialect (OpenAI chat, Responses, Anthropic Messages); each brings an encoder.
The first event decides between an HTTP error status (the provider refused before answering) and a
started stream; after that, a failure is written as the dialect's own error event. A `TextRun` goes
to the encoder whole if it says it writes runs (``text_runs = True``), else as one `TextDelta` per
text.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Protocol

import attrs

from gomodel.core.chat import EventBatch, LastBatch, StreamEvent, StreamFailed, StreamStart, TextRun
from gomodel.core.errors import GatewayError, UpstreamError
from gomodel.core.records import Usage
from gomodel.gateway.context import RecordBuilder, StreamSink

__all__ = ["EventEncoder", "pump"]


class EventEncoder(Protocol):
    """Stream events -> one ingress dialect's bytes. An encoder whose class sets ``text_runs = True``
    is given each `TextRun` whole; any other gets its deltas one by one."""

    usage: Usage | None

    def start(self, first: StreamStart) -> bytes: ...

    def encode(self, event: StreamEvent) -> bytes: ...

    def finish(self) -> bytes: ...

    def fail(self, error: GatewayError, message: str) -> bytes: ...


async def pump(
    batches: AsyncIterator[EventBatch],
    encoder: EventEncoder,
    sink: StreamSink,
    record: RecordBuilder,
    *,
    fallback_start: Callable[[], StreamStart],
    redact: Callable[[str], str],
) -> None:
    """Stream the provider's event batches to ``sink``, one write per batch (per upstream read: one
    write per event halved translated streams' throughput in the benchmark); a `LastBatch` leaves
    with the end of the answer. Closes the provider's iterator however this ends.

    ``fallback_start`` makes the start to write when the provider's stream has none or one without an
    id or model; it is called only then (a generated id and its event cost ~11k instructions)."""
    async with contextlib.aclosing(batches):  # type: ignore[type-var]  # provider streams are async generators
        first = await anext(batches, None)
        last = type(first) is LastBatch
        if not first:
            raise UpstreamError(f"provider {record.provider} ended the stream without a reply")
        if isinstance(first[0], StreamFailed):
            raise first[0].error
        await sink.start()
        record.first_byte()
        head = first[0]
        if isinstance(head, StreamStart):
            start = head
            if not (head.id and head.model):
                # Only when a field is missing: attrs.evolve costs ~14k instructions a stream.
                fallback = fallback_start()
                start = attrs.evolve(head, id=head.id or fallback.id, model=head.model or fallback.model)
            first = first[1:]
        else:
            start = fallback_start()
        if start.usage is not None:
            record.usage = start.usage
        out = [encoder.start(start)]
        split_runs = not getattr(encoder, "text_runs", False)
        batch: EventBatch | None = first
        while batch is not None:
            for event in batch:
                if isinstance(event, StreamFailed):
                    record.fail(event.error)
                    record.usage = encoder.usage or record.usage
                    out.append(encoder.fail(event.error, redact(event.error.message)))
                    await sink.close(b"".join(out))
                    return
                if split_runs and type(event) is TextRun:
                    out.extend(map(encoder.encode, event.deltas()))
                    continue
                out.append(encoder.encode(event))
            if last:
                break
            data = b"".join(out)
            if data:
                await sink.write(data)
            out = []
            batch = await anext(batches, None)
            last = type(batch) is LastBatch
        record.usage = encoder.usage or record.usage
        out.append(encoder.finish())
        await sink.close(b"".join(out))
