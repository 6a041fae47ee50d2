"""`pump`: provider event batches in, one write per batch out; a `TextRun` split for encoders that
write one delta at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator

from gomodel.core.chat import (
    EventBatch,
    Finish,
    LastBatch,
    StreamEvent,
    StreamFailed,
    StreamStart,
    TextDelta,
    TextRun,
)
from gomodel.core.errors import GatewayError, UpstreamError
from gomodel.core.records import RequestRecord, Usage
from gomodel.dialects.openai_chat_stream_encode import ChunkEncoder
from gomodel.gateway.context import CallContext, RecordBuilder
from gomodel.gateway.streaming import pump

FALLBACK = StreamStart(id="chatcmpl-fallback", model="fallback-model", created=1)


class Recorder:
    """An encoder that writes each event's repr, one per line."""

    def __init__(self) -> None:
        self.usage: Usage | None = None
        self.events: list[StreamEvent] = []
        self.start_event: StreamStart | None = None

    def start(self, first: StreamStart) -> bytes:
        self.start_event = first
        return b"start\n"

    def encode(self, event: StreamEvent) -> bytes:
        self.events.append(event)
        return repr(event).encode() + b"\n"

    def finish(self) -> bytes:
        return b"end\n"

    def fail(self, error: GatewayError, message: str) -> bytes:
        return b"failed: " + message.encode() + b"\n"


class RunRecorder(Recorder):
    text_runs = True


class Sink:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed_with: bytes | None = None

    async def start(self) -> None:
        pass

    async def write(self, data: bytes) -> None:
        assert self.closed_with is None, "written after close"
        self.writes.append(data)

    async def close(self, data: bytes) -> None:
        await self.write(data)
        self.closed_with = data


class Records:
    def submit(self, record: RequestRecord) -> None:
        pass


async def batches(*items: EventBatch) -> AsyncIterator[EventBatch]:
    for item in items:
        yield item


async def run(encoder: Recorder | ChunkEncoder, *items: EventBatch) -> Sink:
    sink = Sink()
    ctx = CallContext(request_id="r1", method="POST", endpoint="/v1/chat/completions", user_path=None)
    record = RecordBuilder(ctx, Records())
    await pump(
        batches(*items), encoder, sink, record, fallback_start=lambda: FALLBACK, redact=lambda text: text
    )
    return sink


RUN = TextRun("abc", ("a", "b", "c"))
START = StreamStart(id="msg_1", model="claude-x", created=2)


async def test_a_run_reaches_an_encoder_of_single_deltas_as_its_deltas() -> None:
    encoder = Recorder()

    await run(encoder, [START, TextDelta("x"), RUN], [Finish("stop")])

    assert encoder.events == [TextDelta("x"), TextDelta("a"), TextDelta("b"), TextDelta("c"), Finish("stop")]


async def test_a_run_reaches_an_encoder_of_runs_whole() -> None:
    encoder = RunRecorder()

    await run(encoder, [START, RUN], [Finish("stop")])

    assert encoder.events == [RUN, Finish("stop")]


async def test_chunk_encoder_output_is_the_same_for_a_run_or_its_deltas() -> None:
    whole = await run(ChunkEncoder(include_usage=False), [START, RUN, Finish("stop")])
    split = await run(ChunkEncoder(include_usage=False), [START, *RUN.deltas(), Finish("stop")])

    assert whole.writes == split.writes


async def test_the_start_event_is_kept_when_whole_and_completed_from_the_fallback() -> None:
    whole, partial = Recorder(), Recorder()

    await run(whole, [START, Finish("stop")])
    await run(partial, [StreamStart(id="", model="", created=3), Finish("stop")])

    assert whole.start_event is START
    assert partial.start_event == StreamStart(id=FALLBACK.id, model=FALLBACK.model, created=3)


async def test_a_failure_ends_the_stream_after_the_events_before_it() -> None:
    encoder = Recorder()
    failure = StreamFailed(UpstreamError("boom"))

    sink = await run(encoder, [START, RUN, failure, TextDelta("never")])

    assert encoder.events == RUN.deltas()
    assert sink.closed_with is not None
    assert sink.closed_with.endswith(b"failed: boom\n")


async def test_the_closing_events_go_with_the_end_of_the_stream() -> None:
    sink = await run(Recorder(), [START, TextDelta("x")], [Finish("stop")])

    assert sink.closed_with == sink.writes[-1] == Recorder().finish()


async def test_a_last_batch_leaves_with_the_end_of_the_stream() -> None:
    sink = await run(Recorder(), [START, TextDelta("x")], LastBatch([TextDelta("y"), Finish("stop")]))

    assert sink.writes == [b"start\n" + b"TextDelta(text='x')\n", sink.closed_with]
    assert sink.closed_with == b"TextDelta(text='y')\nFinish(reason='stop')\nend\n"


async def test_an_answer_in_one_last_batch_is_one_write() -> None:
    sink = await run(Recorder(), LastBatch([START, TextDelta("x"), Finish("stop")]))

    assert sink.writes == [b"start\nTextDelta(text='x')\nFinish(reason='stop')\nend\n"]
    assert sink.closed_with == sink.writes[0]
