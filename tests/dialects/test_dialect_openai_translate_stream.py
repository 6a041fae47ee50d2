"""OpenAI SSE bytes <-> wire-neutral stream events (`openai_chat_stream_decode`, `_encode`).

The key properties: decoding does not depend on where the upstream split its bytes, and encoding the
decoded events gives back chunks a client reads exactly as it would read the original stream.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
import pytest

from gomodel.core.chat import (
    Finish,
    ReasoningDelta,
    StreamEvent,
    StreamFailed,
    StreamStart,
    TextDelta,
    TextRun,
    ToolCallDelta,
    ToolCallStart,
    UsageReport,
)
from gomodel.core.errors import UpstreamError, UpstreamRateLimitError
from gomodel.core.records import Usage
from gomodel.dialects.openai_chat_stream_decode import ChunkDecoder
from gomodel.dialects.openai_chat_stream_encode import ChunkEncoder

FIXTURES = Path(__file__).parent / "fixtures"
TRANSCRIPT = (FIXTURES / "openai_translate" / "stream_text_and_tools.sse").read_bytes()
DONE = b"data: [DONE]\n\n"

ID = "chatcmpl-C4pX7tQm2LwE9vNa1Rk3Jd8sHfYbZ"
MODEL = "gpt-4o-2024-08-06"
CREATED = 1755001234
TEXT = [
    "Je",
    " vérifie",
    " la",
    " météo",
    " à",
    " Zürich",
    " et",
    " à",
    " 東京",
    "…",
    " 🌦️",
    " un",
    " instant",
    ".",
]
ZURICH_ARGS = ['{"', "location", '":"', "Z", "ürich", ",", " CH", '","', "unit", '":"', "c", "elsius", '"}']
TOKYO_ARGS = ['{"', "location", '":"', "東", "京", ",", " JP", '","', "unit", '":"', "celsius", '"}']
ZURICH_ID = "call_9pLq2mXf8R1sT4vW6yZ0aB3c"
TOKYO_ID = "call_Hk3nD7eQ2jM5pR8tV1wX4yZ6"
RECORDED_USAGE = Usage(
    prompt_tokens=154, completion_tokens=71, total_tokens=225, cached_tokens=128, reasoning_tokens=0
)
EXPECTED_EVENTS: list[StreamEvent] = [
    StreamStart(id=ID, model=MODEL, created=CREATED),
    *(TextDelta(t) for t in TEXT),
    ToolCallStart(index=0, id=ZURICH_ID, name="get_current_weather"),
    *(ToolCallDelta(index=0, arguments=a) for a in ZURICH_ARGS),
    ToolCallStart(index=1, id=TOKYO_ID, name="get_current_weather"),
    *(ToolCallDelta(index=1, arguments=a) for a in TOKYO_ARGS),
    Finish("tool_calls"),
    UsageReport(RECORDED_USAGE),
]


def decode(pieces: Iterable[bytes], provider: str = "openai") -> list[StreamEvent]:
    """The events, each `TextRun` as its deltas (what the pump hands an encoder that writes no runs)."""
    decoder = ChunkDecoder(provider)
    events: list[StreamEvent] = []
    for piece in pieces:
        events.extend(decoder.feed(piece))
    return split_runs(events + decoder.flush())


def split_runs(events: Iterable[StreamEvent]) -> list[StreamEvent]:
    split: list[StreamEvent] = []
    for event in events:
        if type(event) is TextRun:
            split.extend(event.deltas())
        else:
            split.append(event)
    return split


def encode(events: Iterable[StreamEvent], *, include_usage: bool) -> bytes:
    encoder = ChunkEncoder(include_usage=include_usage)
    return b"".join(encoder.encode(e) for e in events) + encoder.finish()


def sse_payloads(data: bytes) -> list[Any]:
    """Every event's data, JSON-decoded with orjson; ``[DONE]`` stays the string "[DONE]"."""
    payloads = []
    for raw in data.replace(b"\r\n", b"\n").split(b"\n\n"):
        if not raw.strip():
            continue
        assert raw.startswith(b"data: "), raw
        assert b"\n" not in raw, "one data line per event"
        body = raw[len(b"data: ") :]
        payloads.append("[DONE]" if body == b"[DONE]" else orjson.loads(body))
    return payloads


def usage_view(usage: dict[str, Any] | None) -> tuple[int | None, ...] | None:
    if usage is None:
        return None
    return (
        usage["prompt_tokens"],
        usage["completion_tokens"],
        usage["total_tokens"],
        (usage.get("prompt_tokens_details") or {}).get("cached_tokens"),
        (usage.get("completion_tokens_details") or {}).get("reasoning_tokens"),
    )


def summarise(data: bytes) -> dict[str, Any]:
    """What a client assembles from an OpenAI chat stream."""
    chunks = sse_payloads(data)
    assert chunks[-1] == "[DONE]"
    assert "[DONE]" not in chunks[:-1]
    chunks = chunks[:-1]
    content, reasoning, finish, usages = [], [], [], []
    calls: dict[int, dict[str, str]] = {}
    for chunk in chunks:
        assert chunk["object"] == "chat.completion.chunk"
        if chunk.get("usage") is not None:
            usages.append(usage_view(chunk["usage"]))
        for choice in chunk["choices"]:
            delta = choice["delta"]
            if delta.get("content"):
                content.append(delta["content"])
            if delta.get("reasoning_content"):
                reasoning.append(delta["reasoning_content"])
            for call in delta.get("tool_calls") or []:
                slot = calls.setdefault(call["index"], {"id": "", "name": "", "arguments": ""})
                slot["id"] += call.get("id") or ""
                slot["name"] += (call.get("function") or {}).get("name") or ""
                slot["arguments"] += (call.get("function") or {}).get("arguments") or ""
            if choice["finish_reason"] is not None:
                finish.append(choice["finish_reason"])
    return {
        "ids": {(c["id"], c["model"], c["created"]) for c in chunks},
        "content": content,
        "reasoning": reasoning,
        "calls": calls,
        "finish": finish,
        "usage": usages,
    }


# --- decoding the recorded stream -----------------------------------------------------------------


def test_decode_recorded_stream_whole() -> None:
    assert decode([TRANSCRIPT]) == EXPECTED_EVENTS


def test_transcript_really_has_multibyte_text_and_split_tool_calls() -> None:
    # Guards the fixture: the property tests below are only as strong as what it contains.
    assert any(len(t.encode()) > len(t) for t in TEXT)
    assert any(len(ch.encode()) == 4 for t in TEXT for ch in t), "a 4-byte UTF-8 character"
    assert len(ZURICH_ARGS) > 10
    assert len(TOKYO_ARGS) > 10
    assert orjson.loads("".join(ZURICH_ARGS)) == {"location": "Zürich, CH", "unit": "celsius"}
    assert orjson.loads("".join(TOKYO_ARGS)) == {"location": "東京, JP", "unit": "celsius"}


def test_finish_and_usage_come_out_at_flush_in_that_order() -> None:
    decoder = ChunkDecoder("openai")

    fed = decoder.feed(TRANSCRIPT)

    assert not any(isinstance(e, Finish | UsageReport) for e in fed)
    assert decoder.flush() == [Finish("tool_calls"), UsageReport(RECORDED_USAGE)]
    assert decoder.flush() == []


def test_every_two_way_split_decodes_like_the_whole() -> None:
    for cut in range(len(TRANSCRIPT) + 1):
        assert decode([TRANSCRIPT[:cut], TRANSCRIPT[cut:]]) == EXPECTED_EVENTS, f"split at byte {cut}"


def test_crlf_stream_split_around_every_line_break_decodes_like_the_whole() -> None:
    transcript = TRANSCRIPT.replace(b"\n", b"\r\n")
    assert decode([transcript]) == EXPECTED_EVENTS
    # Every cut touching a line break, including between the "\r" and "\n" of one "\r\n".
    cuts = {k + d for k, byte in enumerate(transcript) if byte in b"\r\n" for d in (0, 1)}

    for cut in sorted(cuts):
        assert decode([transcript[:cut], transcript[cut:]]) == EXPECTED_EVENTS, f"split at byte {cut}"


@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
def test_byte_at_a_time_decodes_like_the_whole(crlf: bool) -> None:
    transcript = TRANSCRIPT.replace(b"\n", b"\r\n") if crlf else TRANSCRIPT

    events = decode(transcript[i : i + 1] for i in range(len(transcript)))

    assert events == EXPECTED_EVENTS


@pytest.mark.parametrize("seed", range(20))
def test_random_chunkings_decode_like_the_whole(seed: int) -> None:
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(TRANSCRIPT)), rng.randint(1, 200)))
    pieces = [TRANSCRIPT[a:b] for a, b in zip([0, *cuts], [*cuts, len(TRANSCRIPT)], strict=True)]

    assert decode(pieces) == EXPECTED_EVENTS


def test_stream_without_final_newlines_still_decodes() -> None:
    assert decode([TRANSCRIPT.removesuffix(DONE).rstrip(b"\n")]) == EXPECTED_EVENTS


# --- decode -> encode gives the same stream back --------------------------------------------------


def test_reencoded_stream_reads_like_the_original() -> None:
    original = summarise(TRANSCRIPT)

    again = summarise(encode(decode([TRANSCRIPT]), include_usage=True))

    assert again == original
    assert again["content"] == TEXT
    assert again["calls"] == {
        0: {"id": ZURICH_ID, "name": "get_current_weather", "arguments": "".join(ZURICH_ARGS)},
        1: {"id": TOKYO_ID, "name": "get_current_weather", "arguments": "".join(TOKYO_ARGS)},
    }
    assert again["finish"] == ["tool_calls"]
    assert again["ids"] == {(ID, MODEL, CREATED)}


def test_reencoded_stream_with_usage_has_openai_chunk_layout() -> None:
    chunks = sse_payloads(encode(decode([TRANSCRIPT]), include_usage=True))

    *body, usage_chunk, done = chunks
    assert done == "[DONE]"
    assert body[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert all("usage" in c and c["usage"] is None for c in body), 'every chunk carries "usage":null'
    assert all(len(c["choices"]) == 1 and c["choices"][0]["index"] == 0 for c in body)
    assert [c["choices"][0]["finish_reason"] for c in body].count("tool_calls") == 1
    assert body[-1]["choices"][0] == {
        "index": 0,
        "delta": {},
        "logprobs": None,
        "finish_reason": "tool_calls",
    }
    assert usage_chunk["choices"] == []
    assert usage_view(usage_chunk["usage"]) == (154, 71, 225, 128, 0)


def test_reencoded_stream_without_usage_has_no_usage_at_all() -> None:
    data = encode(decode([TRANSCRIPT]), include_usage=False)

    chunks = sse_payloads(data)[:-1]
    assert all("usage" not in c for c in chunks)
    assert all(c["choices"] for c in chunks), "no usage-only chunk"
    summary = summarise(data)
    assert summary["usage"] == []
    assert {k: v for k, v in summary.items() if k != "usage"} == {
        k: v for k, v in summarise(TRANSCRIPT).items() if k != "usage"
    }


@pytest.mark.parametrize("include_usage", [True, False])
def test_encoded_stream_decodes_to_the_same_events(include_usage: bool) -> None:
    data = encode(EXPECTED_EVENTS, include_usage=include_usage)

    expected = EXPECTED_EVENTS if include_usage else EXPECTED_EVENTS[:-1]
    assert decode([data]) == expected
    assert decode(data[i : i + 1] for i in range(len(data))) == expected


# --- the encoder, event by event ------------------------------------------------------------------


def started(include_usage: bool = False, **start: Any) -> tuple[ChunkEncoder, dict[str, Any]]:
    encoder = ChunkEncoder(include_usage=include_usage)
    fields = {"id": "chatcmpl-1", "model": "m", "created": 7, **start}
    (first,) = sse_payloads(encoder.encode(StreamStart(**fields)))
    return encoder, first


def one(encoder: ChunkEncoder, event: StreamEvent) -> dict[str, Any]:
    (payload,) = sse_payloads(encoder.encode(event))
    assert isinstance(payload, dict)
    return payload


def test_first_chunk_is_the_assistant_role() -> None:
    _, first = started()

    assert first == {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 7,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "delta": {"role": "assistant", "content": ""},
                "logprobs": None,
                "finish_reason": None,
            }
        ],
    }


def test_ids_and_models_needing_json_escapes_survive() -> None:
    encoder, first = started(id='chat"cmpl\\1\n', model="modèle/東京")

    text = one(encoder, TextDelta("x"))

    assert (first["id"], first["model"]) == ('chat"cmpl\\1\n', "modèle/東京")
    assert (text["id"], text["model"]) == ('chat"cmpl\\1\n', "modèle/東京")


def test_text_and_reasoning_deltas() -> None:
    encoder, _ = started()

    assert one(encoder, TextDelta('say "hi" ☕'))["choices"][0]["delta"] == {"content": 'say "hi" ☕'}
    assert one(encoder, ReasoningDelta(text="hmm"))["choices"][0]["delta"] == {"reasoning_content": "hmm"}
    assert encoder.encode(TextDelta("")) == b""
    assert encoder.encode(ReasoningDelta(text="")) == b""
    signed = one(encoder, ReasoningDelta(text="", signature="sig"))["choices"][0]["delta"]
    assert signed == {"reasoning_signature": "sig"}, "the thinking signature travels for replay"


def test_tool_call_start_and_deltas_carry_the_index() -> None:
    encoder, _ = started()

    start = one(encoder, ToolCallStart(index=2, id="call_1", name="lookup"))
    delta = one(encoder, ToolCallDelta(index=2, arguments='{"q":'))

    assert start["choices"][0]["delta"] == {
        "tool_calls": [
            {"index": 2, "id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": ""}}
        ]
    }
    assert delta["choices"][0]["delta"] == {"tool_calls": [{"index": 2, "function": {"arguments": '{"q":'}}]}


@pytest.mark.parametrize("reason", ["stop", "length", "tool_calls", "content_filter"])
def test_finish_chunk(reason: str) -> None:
    encoder, _ = started(include_usage=True)

    chunk = one(encoder, Finish(reason))  # type: ignore[arg-type]

    assert chunk["choices"] == [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": reason}]
    assert chunk["usage"] is None


def test_usage_chunk_only_when_asked() -> None:
    usage = Usage(prompt_tokens=3, completion_tokens=4, total_tokens=7, reasoning_tokens=2)
    with_usage, _ = started(include_usage=True)
    without, _ = started(include_usage=False)

    chunk = one(with_usage, UsageReport(usage))

    assert chunk["choices"] == []
    assert chunk["usage"] == {
        "prompt_tokens": 3,
        "completion_tokens": 4,
        "total_tokens": 7,
        "completion_tokens_details": {"reasoning_tokens": 2},
    }
    assert (chunk["id"], chunk["model"], chunk["created"]) == ("chatcmpl-1", "m", 7)
    assert without.encode(UsageReport(usage)) == b""


def test_stream_failed_is_an_openai_error_event() -> None:
    encoder, _ = started(include_usage=True)
    error = UpstreamRateLimitError("slow down", headers={"retry-after": "3"})

    data = encoder.encode(StreamFailed(error))

    assert sse_payloads(data) == [
        {
            "error": {
                "message": "slow down",
                "type": "rate_limit_error",
                "param": None,
                "code": "rate_limit_exceeded",
            }
        }
    ]


def test_done_is_the_openai_terminator() -> None:
    assert ChunkEncoder(include_usage=True).finish() == DONE


# --- the decoder, in detail -----------------------------------------------------------------------


def event(payload: Any) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


def chunk(delta: dict[str, Any] | None = None, finish: str | None = None, **extra: Any) -> bytes:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return event(
        {
            "id": "c-1",
            "object": "chat.completion.chunk",
            "created": 5,
            "model": "m",
            "choices": choices,
            **extra,
        }
    )


START = StreamStart(id="c-1", model="m", created=5)


def test_reasoning_content_and_reasoning_fields() -> None:
    events = decode(
        [
            chunk({"role": "assistant", "content": None, "reasoning_content": "Let me think"}),
            chunk({"reasoning": " more"}),
            chunk({"content": "42"}),
            chunk({}, "stop"),
        ]
    )

    assert events == [
        START,
        ReasoningDelta(text="Let me think"),
        ReasoningDelta(text=" more"),
        TextDelta("42"),
        Finish("stop"),
    ]


def test_usage_with_or_before_the_finish_still_comes_last() -> None:
    usage = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}

    together = decode([chunk({"content": "a"}), chunk({}, "length", usage=usage), DONE])
    before = decode([chunk({"content": "a"}), chunk(None, usage=usage), chunk({}, "stop")])

    assert together[-2:] == [Finish("length"), UsageReport(Usage(1, 2, 3))]
    assert before[-2:] == [Finish("stop"), UsageReport(Usage(1, 2, 3))]


def test_whole_tool_call_in_one_delta_and_two_calls_in_one_delta() -> None:
    calls = [
        {"index": 0, "id": "a", "type": "function", "function": {"name": "f", "arguments": '{"x":1}'}},
        {"index": 1, "id": "b", "type": "function", "function": {"name": "g", "arguments": "{}"}},
    ]

    events = decode([chunk({"tool_calls": calls}), chunk({}, "tool_calls")])

    assert events == [
        START,
        ToolCallStart(index=0, id="a", name="f"),
        ToolCallDelta(index=0, arguments='{"x":1}'),
        ToolCallStart(index=1, id="b", name="g"),
        ToolCallDelta(index=1, arguments="{}"),
        Finish("tool_calls"),
    ]


def test_comments_other_choices_and_junk_are_ignored() -> None:
    other_choice = event({"id": "c-1", "choices": [{"index": 1, "delta": {"content": "second"}}]})

    events = decode(
        [
            b": OPENROUTER PROCESSING\n\n",
            chunk({"content": "a"}),
            other_choice,
            b"data: {not json\n\n",
            b"data: 5\n\n",
        ]
    )

    assert events == [START, TextDelta("a")]


def test_recorded_mid_stream_error_event() -> None:
    events = decode([(FIXTURES / "chat_stream_error.sse").read_bytes()], provider="openai")

    *body, failed = events
    assert body == [
        StreamStart(
            id="chatcmpl-BwoiPTGRbKkY5rncfaM0s9KtWrq5N", model="gpt-4.1-2025-04-14", created=1753357673
        ),
        TextDelta("The"),
        TextDelta(" question"),
    ]
    assert isinstance(failed, StreamFailed)
    assert isinstance(failed.error, UpstreamError)
    assert "openai" in failed.error.message
    assert "server had an error" in failed.error.message


def test_recorded_openrouter_error_chunk() -> None:
    events = decode([(FIXTURES / "openrouter_stream_error.sse").read_bytes()], provider="openrouter")

    assert events[:2] == [
        StreamStart(id="gen-1754822900-Qm3vT8yLp2Rw6XzN4bKc", model="openai/gpt-4o", created=1754822900),
        TextDelta("Once"),
    ]
    assert isinstance(events[2], StreamFailed)
    assert "Provider disconnected unexpectedly" in events[2].error.message
    assert len(events) == 3


def test_error_before_anything_else_is_the_first_event() -> None:
    events = decode([event({"error": {"message": "overloaded", "type": "server_error"}})])

    assert len(events) == 1
    assert isinstance(events[0], StreamFailed)


def test_stream_without_usage_ends_with_finish() -> None:
    assert decode([chunk({"content": "hi"}), chunk({}, "stop"), DONE]) == [
        START,
        TextDelta("hi"),
        Finish("stop"),
    ]


def test_parallel_tool_calls_without_index_stay_separate() -> None:
    calls = [
        {
            "id": "function-call-1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
        },
        {
            "id": "function-call-2",
            "type": "function",
            "function": {"name": "get_time", "arguments": '{"tz":"CET"}'},
        },
    ]

    events = decode([chunk({"tool_calls": [call]}) for call in calls] + [chunk({}, "tool_calls")])

    starts = [e for e in events if isinstance(e, ToolCallStart)]
    assert [(s.id, s.name) for s in starts] == [
        ("function-call-1", "get_weather"),
        ("function-call-2", "get_time"),
    ]
    assert len({s.index for s in starts}) == 2
