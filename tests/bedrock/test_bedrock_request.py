"""ChatRequest -> Converse body: golden fixtures decoded from OpenAI requests, and what cannot be sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from gomodel.core.chat import ChatRequest, ImagePart, Message, ResponseFormat, TextPart, Tool, ToolCall
from gomodel.core.errors import InvalidRequestError
from gomodel.dialects.bedrock.endpoint import model_path, resolve_endpoint
from gomodel.dialects.bedrock.reasoning import reasoning_config
from gomodel.dialects.bedrock.request_encode import encode_converse, encode_converse_body
from gomodel.dialects.openai_chat_request import decode_chat_request

FIXTURES = Path(__file__).parent / "fixtures"
CLAUDE = "anthropic.claude-3-5-sonnet-20240620-v1:0"


def _fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = orjson.loads((FIXTURES / name).read_bytes())
    return loaded


def _user(text: str) -> Message:
    return Message(role="user", content=(TextPart(text),))


@pytest.mark.parametrize(
    "name",
    ["request_basic.json", "request_tools.json", "request_tool_choice_none.json", "request_media.json"],
)
def test_openai_requests_encode_to_the_golden_converse_body(name: str) -> None:
    fixture = _fixture(name)
    request = decode_chat_request(fixture["openai"])
    assert encode_converse(request) == fixture["converse"]
    assert orjson.loads(encode_converse_body(request)) == fixture["converse"]


def test_tools_without_tool_choice_are_offered_with_auto_left_implicit() -> None:
    request = decode_chat_request(
        {**_fixture("request_tools.json")["openai"], "tool_choice": "auto"},
    )
    assert "toolChoice" not in encode_converse(request)["toolConfig"]


def test_a_named_tool_choice_forces_that_tool() -> None:
    payload = {**_fixture("request_tools.json")["openai"]}
    payload["tool_choice"] = {"type": "function", "function": {"name": "get_time"}}
    assert encode_converse(decode_chat_request(payload))["toolConfig"]["toolChoice"] == {
        "tool": {"name": "get_time"}
    }


def test_a_tool_history_without_tools_on_offer_is_written_out_as_text() -> None:
    payload = {**_fixture("request_tool_choice_none.json")["openai"]}
    del payload["tools"], payload["tool_choice"]
    body = encode_converse(decode_chat_request(payload))
    assert "toolConfig" not in body
    assert all("toolUse" not in b and "toolResult" not in b for m in body["messages"] for b in m["content"])


def test_failed_tool_results_carry_the_error_status() -> None:
    request = ChatRequest(
        model=CLAUDE,
        messages=(
            _user("go"),
            Message(role="assistant", tool_calls=(ToolCall(id="t1", name="f", arguments="{}"),)),
            Message(role="tool", tool_call_id="t1", content=(TextPart("boom"),), is_error=True),
        ),
        tools=(Tool(name="f"),),
    )
    result = encode_converse(request)["messages"][2]["content"][0]["toolResult"]
    assert result == {"toolUseId": "t1", "content": [{"text": "boom"}], "status": "error"}


def test_a_legacy_function_result_answers_the_latest_call_of_that_name() -> None:
    payload = {
        "model": CLAUDE,
        "messages": [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": None, "function_call": {"name": "lookup", "arguments": "{}"}},
            {"role": "function", "name": "lookup", "content": "found"},
        ],
        "functions": [{"name": "lookup", "parameters": {"type": "object"}}],
    }
    body = encode_converse(decode_chat_request(payload))
    assert body["messages"][2]["content"][0]["toolResult"]["toolUseId"] == "call_0"


def test_signed_reasoning_is_replayed_before_the_assistant_text() -> None:
    request = ChatRequest(
        model=CLAUDE,
        messages=(
            _user("hi"),
            Message(role="assistant", content=(TextPart("4"),), reasoning="2+2", reasoning_signature="sig"),
            Message(
                role="assistant",
                content=(
                    TextPart(
                        "unsigned",
                    ),
                ),
                reasoning="dropped",
            ),
            _user("again"),
        ),
    )
    assert encode_converse(request)["messages"][1]["content"] == [
        {"reasoningContent": {"reasoningText": {"text": "2+2", "signature": "sig"}}},
        {"text": "4"},
        {"text": "unsigned"},
    ]


def test_empty_text_parts_and_empty_turns_are_left_out() -> None:
    request = ChatRequest(
        model=CLAUDE, messages=(_user(""), Message(role="assistant"), _user("real"), Message(role="system"))
    )
    assert encode_converse(request) == {"messages": [{"role": "user", "content": [{"text": "real"}]}]}


@pytest.mark.parametrize(
    ("request_", "param"),
    [
        (
            ChatRequest(
                model=CLAUDE, messages=(Message(role="user", content=(ImagePart(url="https://x/a.png"),)),)
            ),
            "messages[0].content",
        ),
        (
            ChatRequest(
                model=CLAUDE,
                messages=(Message(role="user", content=(ImagePart(url="data:image/bmp;base64,Qk0="),)),),
            ),
            "messages[0].content",
        ),
        (
            ChatRequest(
                model=CLAUDE, messages=(_user("x"),), response_format=ResponseFormat(type="json_object")
            ),
            "response_format",
        ),
        (
            ChatRequest(
                model=CLAUDE,
                messages=(Message(role="system", content=(ImagePart(url="data:image/png;base64,AA=="),)),),
            ),
            "messages[0].content",
        ),
        (
            ChatRequest(
                model=CLAUDE,
                messages=(
                    _user("x"),
                    Message(role="assistant", tool_calls=(ToolCall(id="c", name="f", arguments="{oops"),)),
                ),
                tools=(Tool(name="f"),),
            ),
            "messages[1].tool_calls",
        ),
        (
            ChatRequest(model=CLAUDE, messages=(_user("x"), Message(role="tool", content=(TextPart("r"),)))),
            "messages[1]",
        ),
    ],
    ids=["image-url", "image-bmp", "json-object", "system-image", "bad-arguments", "orphan-result"],
)
def test_what_converse_cannot_carry_is_a_400_naming_the_parameter(request_: ChatRequest, param: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        encode_converse(request_)
    assert caught.value.status == 400
    assert caught.value.param == param


def test_documents_by_url_are_refused() -> None:
    payload = {
        "model": CLAUDE,
        "messages": [
            {
                "role": "user",
                "content": [{"type": "file", "file": {"file_data": "data:application/zip;base64,UEs="}}],
            }
        ],
    }
    with pytest.raises(InvalidRequestError, match="inline"):
        encode_converse(decode_chat_request(payload))


# (model, reasoning_effort, reasoning_budget, max_tokens) -> (additionalModelRequestFields, maxTokens sent)
REASONING_CASES = [
    ((CLAUDE, None, None, 100), ({}, 100)),
    ((CLAUDE, "none", None, None), ({}, None)),
    (
        ("anthropic.claude-3-7-sonnet-20250219-v1:0", "high", None, None),
        ({"thinking": {"type": "enabled", "budget_tokens": 16384}}, 16384 + 8192),
    ),
    (
        ("us.anthropic.claude-sonnet-4-20250514-v1:0", "medium", None, 2000),
        ({"thinking": {"type": "enabled", "budget_tokens": 1999}}, 2000),
    ),
    (
        ("anthropic.claude-sonnet-4-5-20250929-v1:0", None, 3000, 8000),
        ({"thinking": {"type": "enabled", "budget_tokens": 3000}}, 8000),
    ),
    (
        ("global.anthropic.claude-opus-4-6-v1", "low", None, None),
        ({"thinking": {"type": "adaptive"}, "output_config": {"effort": "low"}}, None),
    ),
    (
        ("anthropic.claude-opus-4-7", "xhigh", None, 64000),
        ({"thinking": {"type": "adaptive"}, "output_config": {"effort": "max"}}, 64000),
    ),
    (("anthropic.claude-sonnet-4-6", None, 5000, None), ({"thinking": {"type": "adaptive"}}, None)),
    (
        ("us.amazon.nova-2-lite-v1:0", "minimal", None, None),
        ({"reasoningConfig": {"type": "enabled", "maxReasoningEffort": "low"}}, None),
    ),
    (("openai.gpt-oss-120b-1:0", "high", None, None), ({"reasoning_effort": "high"}, None)),
    (("us.deepseek.r1-v1:0", "high", None, None), ({}, None)),
]


@pytest.mark.parametrize(("args", "expected"), REASONING_CASES)
def test_reasoning_effort_maps_to_each_family_s_own_field(
    args: tuple[str, str | None, int | None, int | None], expected: tuple[dict[str, Any], int | None]
) -> None:
    assert reasoning_config(*args) == expected


def test_reasoning_lands_in_additional_model_request_fields() -> None:
    request = ChatRequest(
        model="anthropic.claude-3-7-sonnet-20250219-v1:0", messages=(_user("x"),), reasoning_effort="low"
    )
    body = encode_converse(request)
    assert body["additionalModelRequestFields"] == {"thinking": {"type": "enabled", "budget_tokens": 1024}}
    assert body["inferenceConfig"] == {"maxTokens": 1024 + 8192}


@pytest.mark.parametrize(
    ("base_url", "env", "runtime", "control", "region"),
    [
        (
            "us-east-1",
            {},
            "https://bedrock-runtime.us-east-1.amazonaws.com",
            "https://bedrock.us-east-1.amazonaws.com",
            "us-east-1",
        ),
        (
            "cn-north-1",
            {},
            "https://bedrock-runtime.cn-north-1.amazonaws.com.cn",
            "https://bedrock.cn-north-1.amazonaws.com.cn",
            "cn-north-1",
        ),
        (
            "https://bedrock-runtime.eu-west-3.amazonaws.com/",
            {"AWS_REGION": "us-east-1"},
            "https://bedrock-runtime.eu-west-3.amazonaws.com",
            "https://bedrock.eu-west-3.amazonaws.com",
            "eu-west-3",
        ),
        (
            "https://bedrock-runtime-fips.us-gov-west-1.amazonaws.com",
            {},
            "https://bedrock-runtime-fips.us-gov-west-1.amazonaws.com",
            "https://bedrock-fips.us-gov-west-1.amazonaws.com",
            "us-gov-west-1",
        ),
        (
            "https://vpce-0a1b-xyz.bedrock-runtime.ap-south-1.vpce.amazonaws.com",
            {},
            "https://vpce-0a1b-xyz.bedrock-runtime.ap-south-1.vpce.amazonaws.com",
            "https://vpce-0a1b-xyz.bedrock-runtime.ap-south-1.vpce.amazonaws.com",
            "ap-south-1",
        ),
        (
            "http://127.0.0.1:9000/proxy",
            {"AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "eu-west-1"},
            "http://127.0.0.1:9000/proxy",
            "http://127.0.0.1:9000/proxy",
            "us-west-2",
        ),
        (
            "http://127.0.0.1:9000",
            {"AWS_DEFAULT_REGION": "eu-west-1"},
            "http://127.0.0.1:9000",
            "http://127.0.0.1:9000",
            "eu-west-1",
        ),
        ("https://proxy.example.com", {}, "https://proxy.example.com", "https://proxy.example.com", None),
    ],
)
def test_the_endpoint_and_signing_region_come_from_the_base_url_then_the_environment(
    base_url: str, env: dict[str, str], runtime: str, control: str, region: str | None
) -> None:
    endpoint = resolve_endpoint(base_url, env)
    assert (endpoint.runtime, endpoint.control, endpoint.region) == (runtime, control, region)


def test_model_ids_are_escaped_whole_in_the_path() -> None:
    assert model_path(CLAUDE, "converse") == "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
    arn = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-pro-v1:0"
    assert model_path(arn, "converse-stream") == (
        "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.amazon.nova-pro-v1%3A0"
        "/converse-stream"
    )
