"""The block check of the native-relay observers: blocks with nothing to read pass whole, the rest
are read event by event, and what they read is the same either way."""

from __future__ import annotations

import orjson

from gomodel.core.records import Usage
from gomodel.dialects.anthropic.observe import AnthropicStreamObserver
from gomodel.dialects.openai_responses.observe import ResponsesStreamObserver
from gomodel.dialects.sse import END_TAIL, read_block


def named(kind: str, payload: dict[str, object]) -> bytes:
    return f"event: {kind}\ndata: ".encode() + orjson.dumps({"type": kind, **payload}) + b"\n\n"


DELTAS = b"".join(
    named("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": f"error {n} "}})
    for n in range(3)
)
START = named("message_start", {"message": {"id": "msg_1", "usage": {"input_tokens": 9, "output_tokens": 1}}})
END = named("message_delta", {"delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 5}})


def relay(observer: AnthropicStreamObserver | ResponsesStreamObserver, blocks: list[bytes]) -> bytes:
    return b"".join(read_block(block, observer) for block in blocks)


def test_anthropic_deltas_pass_whole_even_when_the_text_says_error() -> None:
    assert AnthropicStreamObserver().next_to_read(DELTAS, 0) == len(DELTAS)


def test_anthropic_usage_halves_are_read_from_mixed_blocks() -> None:
    observer = AnthropicStreamObserver()
    blocks = [START, DELTAS, DELTAS + END + named("message_stop", {})]

    assert relay(observer, blocks) == b"".join(blocks)
    assert observer.usage == Usage(prompt_tokens=9, completion_tokens=5, total_tokens=14)


def test_anthropic_error_event_is_noticed() -> None:
    observer = AnthropicStreamObserver()
    error = named("error", {"error": {"type": "overloaded_error", "message": "Overloaded"}})

    assert observer.next_to_read(DELTAS + error, 0) == len(DELTAS)
    relay(observer, [DELTAS + error])
    assert observer.error == "Overloaded"


def test_anthropic_stream_in_one_large_block_reads_its_opening_and_closing_events_only() -> None:
    many = DELTAS * 40
    assert len(many) > 2 * END_TAIL
    observer = AnthropicStreamObserver()
    block = START + many + END + named("message_stop", {})

    assert observer.next_to_read(block, 0) == 0
    assert observer.next_to_read(block, len(START)) == len(START) + len(many)  # the deltas are skipped
    fresh = AnthropicStreamObserver()
    assert relay(fresh, [block]) == block
    assert fresh.usage == Usage(prompt_tokens=9, completion_tokens=5, total_tokens=14)


def test_anthropic_message_start_is_found_in_a_later_block_too() -> None:
    observer = AnthropicStreamObserver()

    relay(observer, [b": keep-alive\n\n", START + DELTAS, DELTAS + END])

    assert observer.usage == Usage(prompt_tokens=9, completion_tokens=5, total_tokens=14)


def responses_event(kind: str, sequence: int, **payload: object) -> bytes:
    return named(kind, {"sequence_number": sequence, **payload})


def test_responses_blocks_count_their_events_whether_passed_or_read() -> None:
    observer = ResponsesStreamObserver()
    deltas = b"".join(responses_event("response.output_text.delta", n, delta="error") for n in range(4))
    usage = {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}
    final = responses_event("response.completed", 4, response={"status": "completed", "usage": usage})

    assert relay(observer, [deltas, final]) == deltas + final
    assert observer.events == 5
    assert observer.usage == Usage(prompt_tokens=3, completion_tokens=4, total_tokens=7)
