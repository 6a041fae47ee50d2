"""`gomodel.dialects.openai_chat.ChatStreamFilter`: observe an OpenAI chat stream event by event."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from gomodel.core.errors import UpstreamError
from gomodel.core.records import Usage
from gomodel.dialects.openai_chat import ChatStreamFilter
from gomodel.dialects.openai_errors import stream_error_event
from gomodel.dialects.sse import END_TAIL, SSEFramer, read_block

FIXTURES = Path(__file__).parent / "fixtures"
RECORDED_USAGE = Usage(
    prompt_tokens=19, completion_tokens=12, total_tokens=31, cached_tokens=0, reasoning_tokens=0
)


def events_of(fixture: str) -> list[bytes]:
    framer = SSEFramer()
    events = framer.feed((FIXTURES / fixture).read_bytes())
    assert framer.flush() == []
    return events


def event(payload: object) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


def chunk(content: str | None = None, **extra: object) -> bytes:
    """An OpenAI chat chunk event; ``extra`` adds or replaces top-level fields."""
    choices = [] if content is None else [{"index": 0, "delta": {"content": content}, "finish_reason": None}]
    return event({"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": choices, **extra})


USAGE = {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}


@pytest.fixture
def dropping() -> ChatStreamFilter:
    """A filter for a client that did not ask for usage (the gateway forced it upstream)."""
    return ChatStreamFilter(client_wants_usage=False)


# --- the recorded stream --------------------------------------------------------------------------


def test_recorded_stream_drops_only_the_usage_chunk_the_client_did_not_ask_for(
    dropping: ChatStreamFilter,
) -> None:
    events = events_of("chat_stream_include_usage.sse")

    kept = [e for e in events if dropping.keep(e)]

    assert kept == events[:-2] + events[-1:]
    assert dropping.usage == RECORDED_USAGE
    assert dropping.error is None


def test_a_block_is_read_from_the_first_usage_or_error_event_on(dropping: ChatStreamFilter) -> None:
    events = events_of("chat_stream_include_usage.sse")
    content, usage_and_done = b"".join(events[:-2]), b"".join(events[-2:])
    error = event({"error": {"message": "boom"}})

    assert dropping.next_to_read(content, 0) == len(content)
    spaced = chunk("a", usage=None).replace(b'"usage":null', b'"usage": null')
    assert dropping.next_to_read(spaced, 0) == len(spaced)
    assert dropping.next_to_read(content + usage_and_done, 0) == len(content)
    assert dropping.next_to_read(content + usage_and_done + error, 0) == len(content)
    # A key written as text inside content is escaped, so it never looks like a usage object.
    quoted = chunk('say "usage": {"x": 1} and "error"')
    assert dropping.next_to_read(quoted, 0) == len(quoted)


def test_only_the_end_of_a_large_block_is_searched(dropping: ChatStreamFilter) -> None:
    """Usage and errors end a stream, so events more than END_TAIL bytes before the end of a
    block are relayed without a look, however they read."""
    content = b"".join(chunk(f"word {n} ", usage=None) for n in range(40))
    assert len(content) > 2 * END_TAIL
    early_error = event({"error": {"message": "not the end"}}) + content
    usage_and_done = chunk(None, usage=USAGE) + b"data: [DONE]\n\n"

    assert dropping.next_to_read(early_error, 0) == len(early_error)
    block = content + usage_and_done
    assert read_block(block, dropping) == content + b"data: [DONE]\n\n"
    assert dropping.usage == Usage(prompt_tokens=5, completion_tokens=7, total_tokens=12)
    assert dropping.error is None
    late_error = content + event({"error": {"message": "boom"}})
    assert dropping.next_to_read(late_error, 0) == len(content)


def test_recorded_stream_as_one_block_loses_only_the_forced_usage_chunk(dropping: ChatStreamFilter) -> None:
    events = events_of("chat_stream_include_usage.sse")

    assert read_block(b"".join(events), dropping) == b"".join(events[:-2] + events[-1:])
    assert dropping.usage == RECORDED_USAGE


def test_a_block_of_just_the_usage_chunk_is_read_from_its_start(dropping: ChatStreamFilter) -> None:
    assert dropping.next_to_read(chunk(None, usage=USAGE), 0) == 0
    assert dropping.next_to_read(event({"error": {"message": "boom"}}), 0) == 0


def test_two_usage_objects_are_read_from_the_first(dropping: ChatStreamFilter) -> None:
    first = chunk("a", usage=USAGE)
    block = chunk("x", usage=None) + first + chunk("b", usage=None) + chunk(None, usage=USAGE)

    assert dropping.next_to_read(block, 0) == len(chunk("x", usage=None))


def test_recorded_stream_is_relayed_whole_when_the_client_asked_for_usage() -> None:
    events = events_of("chat_stream_include_usage.sse")
    observer = ChatStreamFilter(client_wants_usage=True)

    assert all(observer.keep(e) for e in events)
    assert observer.usage == RECORDED_USAGE


def test_recorded_error_event_is_noticed_and_kept(dropping: ChatStreamFilter) -> None:
    events = events_of("chat_stream_error.sse")

    assert all(dropping.keep(e) for e in events)
    assert dropping.error == "The server had an error while processing your request. Sorry about that!"


def test_openrouter_mid_stream_error_is_noticed(dropping: ChatStreamFilter) -> None:
    for e in events_of("openrouter_stream_error.sse"):
        dropping.keep(e)

    assert dropping.error == "Provider disconnected unexpectedly"


# --- usage ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "usage_chunk",
    [
        pytest.param(chunk(usage=USAGE), id="choices empty"),
        pytest.param(event({"id": "c", "choices": None, "usage": USAGE}), id="choices null (vLLM)"),
        pytest.param(event({"id": "c", "usage": USAGE}), id="choices absent"),
        pytest.param(b'data: {"id":"c","choices":[],"usage" : {"prompt_tokens":5}}\n\n', id="spaced colon"),
    ],
)
def test_usage_only_chunk_is_recorded_and_dropped(dropping: ChatStreamFilter, usage_chunk: bytes) -> None:
    assert dropping.keep(usage_chunk) is False
    assert dropping.usage is not None
    assert dropping.usage.prompt_tokens == 5


def test_usage_only_chunk_is_kept_when_the_client_asked() -> None:
    observer = ChatStreamFilter(client_wants_usage=True)

    assert observer.keep(chunk(usage=USAGE)) is True
    assert observer.usage == Usage(prompt_tokens=5, completion_tokens=7, total_tokens=12)


def test_chunk_with_choices_and_usage_is_kept(dropping: ChatStreamFilter) -> None:
    assert dropping.keep(chunk("last words", usage=USAGE)) is True
    assert dropping.usage == Usage(prompt_tokens=5, completion_tokens=7, total_tokens=12)


def test_usage_null_is_not_usage(dropping: ChatStreamFilter) -> None:
    assert dropping.keep(chunk("hi", usage=None)) is True
    assert dropping.keep(chunk(usage=None)) is True
    assert dropping.usage is None


def test_later_usage_null_does_not_erase_recorded_usage(dropping: ChatStreamFilter) -> None:
    dropping.keep(chunk(usage=USAGE))
    dropping.keep(chunk("more", usage=None))

    assert dropping.usage is not None


@pytest.mark.parametrize(
    "content",
    ['"usage": {"prompt_tokens": 1}', '{"usage": {', 'say \\"usage\\": {x}'],
)
def test_usage_text_inside_content_is_not_usage(dropping: ChatStreamFilter, content: str) -> None:
    assert dropping.keep(chunk(content)) is True
    assert dropping.usage is None


def test_usage_text_inside_content_with_real_usage_after_it(dropping: ChatStreamFilter) -> None:
    assert dropping.keep(chunk('"usage": {', usage=USAGE)) is True
    assert dropping.usage == Usage(prompt_tokens=5, completion_tokens=7, total_tokens=12)


def test_unparseable_chunk_is_passed_through(dropping: ChatStreamFilter) -> None:
    assert dropping.keep(b'data: {"usage": {"prompt_tokens": \n\n') is True
    assert dropping.usage is None


# --- control events -------------------------------------------------------------------------------


def test_done_marker(dropping: ChatStreamFilter) -> None:
    assert dropping.keep(b"data: [DONE]\n\n") is True


@pytest.mark.parametrize("keepalive", [b": ping\n\n", b": OPENROUTER PROCESSING\n\n", b"event: ping\n\n"])
def test_keepalives_pass(dropping: ChatStreamFilter, keepalive: bytes) -> None:
    assert dropping.keep(keepalive) is True
    assert dropping.usage is None


def test_error_event_message(dropping: ChatStreamFilter) -> None:
    error = {"error": {"message": "context too long", "type": "invalid_request_error", "code": None}}

    assert dropping.keep(event(error)) is True
    assert dropping.error == "context too long"


def test_error_event_with_a_plain_string_error(dropping: ChatStreamFilter) -> None:
    assert dropping.keep(b'data: {"error": "overloaded"}\n\n') is True
    assert dropping.error == "overloaded"


@pytest.mark.parametrize("raw", [b'data: {"error": {"code": 500}}\n\n', b'data: {"error": \n\n'])
def test_error_event_without_a_message(dropping: ChatStreamFilter, raw: bytes) -> None:
    assert dropping.keep(raw) is True
    assert dropping.error == "upstream sent an error event"


def test_gateway_stream_error_event_is_recognised(dropping: ChatStreamFilter) -> None:
    dropping.keep(stream_error_event(UpstreamError("provider p failed")))

    assert dropping.error == "provider p failed"
