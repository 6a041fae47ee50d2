"""Converse response JSON -> ChatResponse, on examples shaped like the Bedrock API reference's."""

from __future__ import annotations

from pathlib import Path

import attrs
import orjson
import pytest

from gomodel.core.errors import UpstreamError
from gomodel.dialects.bedrock.response_decode import decode_converse, finish_reason, usage_from

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize(
    "name",
    [
        "response_text.json",
        "response_tool_use.json",
        "response_reasoning_cache.json",
        "response_guardrail.json",
    ],
)
def test_converse_responses_decode_to_the_golden_answer(name: str) -> None:
    fixture = orjson.loads((FIXTURES / name).read_bytes())
    response = decode_converse(
        orjson.dumps(fixture["converse"]), response_id="chatcmpl-1", model="m", created=1700000000
    )
    assert (response.id, response.model, response.created) == ("chatcmpl-1", "m", 1700000000)
    decoded = attrs.asdict(response)
    for key in ("id", "model", "created"):
        del decoded[key]
    decoded["tool_calls"] = list(decoded["tool_calls"])
    assert decoded == fixture["expected"]


def test_tool_arguments_are_the_input_as_compact_json() -> None:
    fixture = orjson.loads((FIXTURES / "response_tool_use.json").read_bytes())
    response = decode_converse(orjson.dumps(fixture["converse"]), response_id="x", model="m", created=0)
    assert orjson.loads(response.tool_calls[1].arguments) == {"sign": "WKRP", "note": "Zürich ✓"}


def test_a_tool_only_answer_has_no_content() -> None:
    body = {
        "output": {
            "message": {
                "role": "assistant",
                "content": [{"toolUse": {"toolUseId": "t", "name": "f", "input": {}}}],
            }
        },
        "stopReason": "tool_use",
        "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
    }
    response = decode_converse(orjson.dumps(body), response_id="x", model="m", created=0)
    assert response.content is None
    assert response.tool_calls[0].arguments == "{}"


@pytest.mark.parametrize(
    ("stop", "reason"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        ("tool_use", "tool_calls"),
        ("guardrail_intervened", "content_filter"),
        ("content_filtered", "content_filter"),
        ("malformed_tool_use", "error"),
        ("malformed_model_output", "error"),
        ("something_new", "stop"),
        (None, "stop"),
    ],
)
def test_stop_reasons_map_to_openai_finish_reasons(stop: str | None, reason: str) -> None:
    assert finish_reason(stop) == reason


def test_usage_counts_cache_reads_and_writes_as_prompt_tokens() -> None:
    usage = usage_from(
        {"inputTokens": 5, "outputTokens": 7, "cacheReadInputTokens": 100, "cacheWriteInputTokens": 0}
    )
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (105, 7, 112)
    assert (usage.cached_tokens, usage.cache_creation_tokens) == (100, 0)
    assert usage_from(None) is None


@pytest.mark.parametrize(
    "body",
    [
        b"<html>oops</html>",
        b"[]",
        b'{"output": {}}',
        b'{"output": {"message": {"content": "x"}}}',
        b'{"output": 3}',
    ],
)
def test_a_body_that_is_not_a_converse_answer_is_a_502(body: bytes) -> None:
    with pytest.raises(UpstreamError) as caught:
        decode_converse(body, response_id="x", model="m", created=0)
    assert caught.value.status == 502
