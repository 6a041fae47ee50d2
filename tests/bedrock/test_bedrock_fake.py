"""The fake Bedrock against the real SDK (botocore's clients sign, serialize and parse its frames) and
against raw signed requests it must refuse the way Bedrock does."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import botocore.session
import orjson
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError, EventStreamError

from gomodel.testing.fake_bedrock import (
    TEST_ACCESS_KEY,
    TEST_REGION,
    TEST_SECRET_KEY,
    TEST_SESSION_TOKEN,
    FakeBedrock,
)
from gomodel.testing.fake_bedrock_wire import REPLY_TEXT, TOOL_INPUT

CLAUDE = "anthropic.claude-3-5-sonnet-20240620-v1:0"
HELLO = [{"role": "user", "content": [{"text": "Hello"}]}]


def _client(fake: FakeBedrock, service: str = "bedrock-runtime", **credentials: str) -> Any:
    return botocore.session.Session().create_client(
        service,
        region_name=TEST_REGION,
        endpoint_url=fake.base_url,
        aws_access_key_id=credentials.get("key", TEST_ACCESS_KEY),
        aws_secret_access_key=credentials.get("secret", TEST_SECRET_KEY),
        aws_session_token=credentials.get("token"),
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def _send(
    fake: FakeBedrock,
    payload: Any,
    *,
    path: str = f"/model/{CLAUDE}/converse",
    secret: str = TEST_SECRET_KEY,
    region: str = TEST_REGION,
    tamper: bool = False,
    sign: bool = True,
) -> tuple[int, dict[str, str], dict[str, Any]]:
    url = fake.base_url + path
    body = orjson.dumps(payload)
    request = AWSRequest(method="POST", url=url, data=body, headers={"Content-Type": "application/json"})
    if sign:
        SigV4Auth(Credentials(TEST_ACCESS_KEY, secret), "bedrock", region).add_auth(request)
    sent = urllib.request.Request(
        url, data=body + b" " if tamper else body, headers=dict(request.headers.items()), method="POST"
    )
    try:
        with urllib.request.urlopen(sent) as answer:
            return answer.status, dict(answer.headers), orjson.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), orjson.loads(error.read())


def test_the_sdk_converses_with_the_fake(aws_env: pytest.MonkeyPatch, bedrock: FakeBedrock) -> None:
    answer = _client(bedrock).converse(
        modelId=CLAUDE, messages=HELLO, system=[{"text": "Be brief."}], inferenceConfig={"maxTokens": 100}
    )
    assert answer["output"]["message"]["content"] == [{"text": "".join(REPLY_TEXT)}]
    assert answer["stopReason"] == "end_turn"
    assert answer["usage"]["outputTokens"] == len(REPLY_TEXT)
    (recorded,) = bedrock.requests
    assert recorded.path == f"/model/{CLAUDE}/converse"
    assert recorded.raw_path.endswith("v1%3A0/converse")  # botocore escapes ':'; the signature still holds


def test_the_sdk_parses_the_fake_s_event_stream(aws_env: pytest.MonkeyPatch, bedrock: FakeBedrock) -> None:
    tools = {"tools": [{"toolSpec": {"name": "get_weather", "inputSchema": {"json": {"type": "object"}}}}]}
    answer = _client(bedrock).converse_stream(modelId=CLAUDE, messages=HELLO, toolConfig=tools)
    events = list(answer["stream"])
    names = [next(iter(event)) for event in events]
    assert names[0] == "messageStart"
    assert names[-2:] == ["messageStop", "metadata"]
    pieces = [
        e["contentBlockDelta"]["delta"]["toolUse"]["input"]
        for e in events
        if "contentBlockDelta" in e and "toolUse" in e["contentBlockDelta"]["delta"]
    ]
    assert len(pieces) > 3
    assert orjson.loads("".join(pieces)) == TOOL_INPUT
    assert events[-2]["messageStop"]["stopReason"] == "tool_use"


def test_the_sdk_sees_a_throttling_exception_mid_stream(
    aws_env: pytest.MonkeyPatch, bedrock: FakeBedrock
) -> None:
    answer = _client(bedrock).converse_stream(modelId="fault-stream-throttle", messages=HELLO)
    with pytest.raises(EventStreamError, match=r"\(throttlingException\)"):
        list(answer["stream"])


def test_the_sdk_sees_a_429_throttling_exception(make_bedrock: Any, aws_env: pytest.MonkeyPatch) -> None:
    fake = make_bedrock(retry_after="2")
    with pytest.raises(ClientError) as caught:
        _client(fake).converse(modelId="fault-throttle", messages=HELLO)
    assert caught.value.response["Error"]["Code"] == "ThrottlingException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert caught.value.response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "2"


def test_the_sdk_lists_foundation_models_and_embeds(
    aws_env: pytest.MonkeyPatch, bedrock: FakeBedrock
) -> None:
    listed = _client(bedrock, "bedrock").list_foundation_models(
        byInferenceType="ON_DEMAND", byOutputModality="TEXT"
    )
    assert [m["modelId"] for m in listed["modelSummaries"]] == [
        "anthropic.claude-3-5-sonnet-20240620-v1:0",
        "anthropic.claude-sonnet-4-20250514-v1:0",
    ]
    answer = _client(bedrock).invoke_model(
        modelId="amazon.titan-embed-text-v2:0",
        body=orjson.dumps({"inputText": "hi there", "dimensions": 256}),
    )
    assert orjson.loads(answer["body"].read())["inputTextTokenCount"] == 2


def test_a_session_token_is_required_when_the_fake_has_one(
    make_bedrock: Any, aws_env: pytest.MonkeyPatch
) -> None:
    fake = make_bedrock(session_token=TEST_SESSION_TOKEN)
    _client(fake, token=TEST_SESSION_TOKEN).converse(modelId=CLAUDE, messages=HELLO)
    with pytest.raises(ClientError, match="UnrecognizedClientException"):
        _client(fake).converse(modelId=CLAUDE, messages=HELLO)


@pytest.mark.parametrize(
    ("options", "kind"),
    [
        ({"sign": False}, "MissingAuthenticationTokenException"),
        ({"secret": "wrong-secret"}, "InvalidSignatureException"),
        ({"tamper": True}, "InvalidSignatureException"),
        ({"region": "eu-central-1"}, "InvalidSignatureException"),
    ],
)
def test_requests_that_are_not_signed_right_are_403(
    bedrock: FakeBedrock, options: dict[str, Any], kind: str
) -> None:
    status, headers, body = _send(bedrock, {"messages": HELLO}, **options)
    assert status == 403
    assert headers["x-amzn-ErrorType"].startswith(kind + ":")
    assert body["message"]


def test_a_bad_signature_quotes_the_canonical_request_like_aws(bedrock: FakeBedrock) -> None:
    _, _, body = _send(bedrock, {"messages": HELLO}, secret="wrong-secret")
    assert "\n\nThe Canonical String for this request should have been\n'POST\n/model/" in body["message"]


def test_a_bearer_token_fake_takes_api_keys_only(make_bedrock: Any) -> None:
    fake = make_bedrock(bearer_token="bedrock-api-key-123")
    assert _send(fake, {"messages": HELLO})[0] == 403
    request = urllib.request.Request(
        fake.base_url + f"/model/{CLAUDE}/converse",
        data=orjson.dumps({"messages": HELLO}),
        headers={"Authorization": "Bearer bedrock-api-key-123", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 200


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"messages": HELLO, "temprature": 1}, "Unknown field 'temprature' at 'body'"),
        (
            # "tool" is outside every botocore release's ConversationRole enum ("system" joined it in 1.44).
            {"messages": [{"role": "tool", "content": [{"text": "x"}]}]},
            "Value 'tool' at 'messages.1.member.role' failed to satisfy constraint: "
            "Member must satisfy enum value set: [user, assistant",
        ),
        ({"messages": [{"role": "user", "content": [{"text": "x", "image": {}}]}]}, "exactly one member"),
        ({"messages": HELLO, "inferenceConfig": {"temperature": 1.5}}, "less than or equal to 1"),
        ({"messages": HELLO, "inferenceConfig": {"maxTokens": "10"}}, "Member must be a integer"),
        ({"messages": [{"role": "user"}]}, "Value null at 'messages.1.member.content'"),
        (
            {
                "messages": [
                    {"role": "user", "content": [{"image": {"format": "png", "source": {"bytes": "%%%"}}}]}
                ]
            },
            "base64",
        ),
        (
            {
                "messages": HELLO,
                "toolConfig": {"tools": [{"toolSpec": {"name": "a.b", "inputSchema": {"json": {}}}}]},
            },
            "regular expression pattern",
        ),
        ({"messages": [{"role": "assistant", "content": [{"text": "x"}]}]}, "must start with a user message"),
        ({"messages": HELLO + HELLO}, "must alternate between user and assistant"),
        ({"messages": [{"role": "user", "content": [{"text": "  "}]}]}, "is blank"),
        (
            {
                "messages": [
                    *HELLO,
                    {
                        "role": "assistant",
                        "content": [{"toolUse": {"toolUseId": "t1", "name": "f", "input": {}}}],
                    },
                ]
            },
            "toolConfig field must be defined",
        ),
        (
            {
                "messages": [
                    *HELLO,
                    {
                        "role": "assistant",
                        "content": [{"toolUse": {"toolUseId": "t1", "name": "f", "input": {}}}],
                    },
                    *HELLO,
                ],
                "toolConfig": {"tools": [{"toolSpec": {"name": "f", "inputSchema": {"json": {}}}}]},
            },
            "Expected toolResult blocks at messages.2.content for the following Ids: t1",
        ),
        (
            {
                "messages": HELLO,
                "toolConfig": {
                    "tools": [{"toolSpec": {"name": "f", "inputSchema": {"json": {}}}}],
                    "toolChoice": {"tool": {"name": "g"}},
                },
            },
            "not defined in toolConfig.tools",
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"document": {"name": "a.pdf", "format": "pdf", "source": {"bytes": "JVBE"}}}
                        ],
                    }
                ]
            },
            "document file name",
        ),
    ],
)
def test_invalid_bodies_are_validation_exceptions(bedrock: FakeBedrock, payload: Any, fragment: str) -> None:
    status, headers, body = _send(bedrock, payload)
    assert status == 400
    assert headers["x-amzn-ErrorType"].startswith("ValidationException:")
    assert fragment in body["message"]


def test_unknown_models_and_titan_bodies_are_validated(bedrock: FakeBedrock) -> None:
    assert _send(bedrock, {"messages": HELLO}, path="/model/nope.model-v1/converse")[0] == 400
    status, _, body = _send(
        bedrock, {"inputText": "x", "extra": 1}, path="/model/amazon.titan-embed-text-v2:0/invoke"
    )
    assert status == 400
    assert "extraneous key [extra]" in body["message"]
