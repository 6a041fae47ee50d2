"""Drive a translated stream: provider events in, the client dialect's bytes out, one event at a time.

Shared by every ingress dialect (OpenAI chat, Responses, Anthropic Messages); each brings an encoder.
The first event decides between an HTTP error status (the provider refused before answering) and a
started stream; after that, a failure is written as the dialect's own error event.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Protocol

import attrs

from gomodel.core.chat import StreamEvent, StreamFailed, StreamStart
from gomodel.core.errors import GatewayError, UpstreamError
from gomodel.core.records import Usage
from gomodel.gateway.context import RecordBuilder, StreamSink

__all__ = ["EventEncoder", "pump"]


class EventEncoder(Protocol):
    usage: Usage | None

    def start(self, first: StreamStart) -> bytes: ...

    def encode(self, event: StreamEvent) -> bytes: ...

    def finish(self) -> bytes: ...

    def fail(self, error: GatewayError, message: str) -> bytes: ...


async def pump(
    events: AsyncIterator[StreamEvent],
    encoder: EventEncoder,
    sink: StreamSink,
    record: RecordBuilder,
    *,
    fallback_start: StreamStart,
    redact: Callable[[str], str],
) -> None:
    """Stream ``events`` to ``sink``; closes the provider's iterator however this ends."""
    async with contextlib.aclosing(events):  # type: ignore[type-var]  # provider streams are async generators
        first = await anext(events, None)
        if first is None:
            raise UpstreamError(f"provider {record.provider} ended the stream without a reply")
        if isinstance(first, StreamFailed):
            raise first.error
        await sink.start()
        record.first_byte()
        event: StreamEvent | None = first
        if isinstance(first, StreamStart):
            start = attrs.evolve(
                first, id=first.id or fallback_start.id, model=first.model or fallback_start.model
            )
            event = await anext(events, None)
        else:
            start = fallback_start
        if start.usage is not None:
            record.usage = start.usage
        await sink.write(encoder.start(start))
        while event is not None:
            if isinstance(event, StreamFailed):
                record.fail(event.error)
                record.usage = encoder.usage or record.usage
                await sink.write(encoder.fail(event.error, redact(event.error.message)))
                return
            data = encoder.encode(event)
            if data:
                await sink.write(data)
            event = await anext(events, None)
        record.usage = encoder.usage or record.usage
        await sink.write(encoder.finish())
