"""`LogRecordSink`: one log line per record, written in batches off the request path, none lost."""

from __future__ import annotations

import asyncio
import io
import logging

import orjson
import pytest

from gomodel.core.records import RequestRecord, Usage
from gomodel.observability.logging import LineOutput, Redactor
from gomodel.usage.log_sink import LogRecordSink


def _record(n: int, **changes: object) -> RequestRecord:
    fields: dict[str, object] = {
        "request_id": f"req-{n}",
        "timestamp": 1_780_000_000.25,
        "endpoint": "/v1/chat/completions",
        "method": "POST",
        "requested_model": "gpt-4o-mini",
        "model": "gpt-4o-mini",
        "provider": "openai",
        "provider_type": "openai",
        "user_path": None,
        "stream": False,
        "status": 200,
        "latency_ms": 12.34567,
        "ttft_ms": None,
        "usage": Usage(prompt_tokens=3, completion_tokens=4, total_tokens=7),
        "error_type": None,
        "error_message": None,
    }
    fields.update(changes)
    return RequestRecord(**fields)  # type: ignore[arg-type]


class _CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


@pytest.fixture(autouse=True)
def _info_enabled() -> None:
    logging.getLogger("gomodel.requests").setLevel(logging.INFO)


async def test_records_become_json_lines_written_in_one_batch() -> None:
    stream = _CountingStream()
    sink = LogRecordSink(100, LineOutput(stream, json=True, redact=Redactor()))
    sink.start()
    for n in range(20):
        sink.submit(_record(n))
    assert stream.getvalue() == ""  # nothing on the request path
    await asyncio.sleep(0.1)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 20
    assert stream.writes == 1
    first = orjson.loads(lines[0])
    assert first["request_id"] == "req-0"
    assert first["level"] == "info"
    assert first["logger"] == "gomodel.requests"
    assert first["message"] == "POST /v1/chat/completions model=gpt-4o-mini provider=openai status=200"
    assert first["latency_ms"] == 12.346
    assert first["usage"]["total_tokens"] == 7
    assert first["time"].endswith("Z")
    await sink.aclose()
    assert sink.written == 20


async def test_close_writes_what_is_buffered() -> None:
    stream = io.StringIO()
    sink = LogRecordSink(100, LineOutput(stream, json=True, redact=Redactor()))
    sink.start()
    sink.submit(_record(1))
    sink.submit(_record(2))
    await sink.aclose()
    assert [orjson.loads(line)["request_id"] for line in stream.getvalue().splitlines()] == ["req-1", "req-2"]


async def test_a_full_buffer_drops_and_counts_instead_of_blocking() -> None:
    stream = io.StringIO()
    sink = LogRecordSink(3, LineOutput(stream, json=True, redact=Redactor()))
    sink.start()
    for n in range(5):
        sink.submit(_record(n))
    assert sink.dropped == 2
    await sink.aclose()
    assert len(stream.getvalue().splitlines()) == 3


async def test_secrets_in_upstream_error_text_are_redacted() -> None:
    stream = io.StringIO()
    sink = LogRecordSink(10, LineOutput(stream, json=True, redact=Redactor(["upstream-secret-123"])))
    sink.start()
    sink.submit(
        _record(
            1,
            status=401,
            error_type="authentication_error",
            error_message="Incorrect API key provided: upstream-secret-123 (also sk-abcdefghijkl)",
        )
    )
    await sink.aclose()
    text = stream.getvalue()
    assert "upstream-secret-123" not in text
    assert "sk-abcdefghijkl" not in text
    assert orjson.loads(text)["error_message"].startswith("Incorrect API key provided: [REDACTED]")


async def test_text_format_matches_the_log_handlers_layout() -> None:
    stream = io.StringIO()
    sink = LogRecordSink(10, LineOutput(stream, json=False, redact=Redactor()))
    sink.start()
    sink.submit(_record(7))
    await sink.aclose()
    line = stream.getvalue().rstrip("\n")
    assert " INFO  [req-7] gomodel.requests: POST /v1/chat/completions model=gpt-4o-mini" in line
    assert "status=200" in line  # None fields are left out
    assert "user_path" not in line


async def test_nothing_is_written_when_the_requests_logger_is_off() -> None:
    logging.getLogger("gomodel.requests").setLevel(logging.WARNING)
    stream = io.StringIO()
    sink = LogRecordSink(10, LineOutput(stream, json=True, redact=Redactor()))
    sink.start()
    sink.submit(_record(1))
    await sink.aclose()
    assert stream.getvalue() == ""
    assert sink.written == 1


async def test_lines_go_to_the_byte_stream_in_order_with_ordinary_log_lines() -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="utf-8", line_buffering=True)
    sink = LogRecordSink(10, LineOutput(stream, json=True, redact=Redactor()))
    sink.start()
    stream.write("an ordinary log line\n")  # what the logging handler does, flushed per line
    sink.submit(_record(1))
    await sink.aclose()
    stream.flush()
    first, second = raw.getvalue().decode().splitlines()
    assert first == "an ordinary log line"
    assert orjson.loads(second)["request_id"] == "req-1"
