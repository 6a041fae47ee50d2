"""BedrockProvider against the fake on a real socket: credentials, signing, streams, embeddings, models."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import botocore.session
import orjson
import pytest
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import CredentialRetrievalError

from gomodel.config.schema import HTTPConfig, ProviderConfig
from gomodel.core.chat import (
    ChatRequest,
    EmbeddingsRequest,
    Message,
    StreamEvent,
    StreamFailed,
    TextPart,
    Tool,
    ToolCallDelta,
    ToolCallStart,
)
from gomodel.core.errors import (
    GatewayError,
    InvalidRequestError,
    UpstreamError,
    UpstreamRateLimitError,
    UpstreamStatusError,
)
from gomodel.providers.bedrock import BedrockProvider
from gomodel.providers.specs import SPECS
from gomodel.testing.fake_bedrock import (
    EMBEDDING_MODELS,
    TEST_ACCESS_KEY,
    TEST_REGION,
    TEST_SECRET_KEY,
    TEST_SESSION_TOKEN,
    TEXT_MODELS,
    FakeBedrock,
)
from gomodel.testing.fake_bedrock_wire import REPLY_TEXT, TOOL_INPUT

CLAUDE = TEXT_MODELS[0]
PROFILE_ARN = "arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.amazon.nova-pro-v1:0"
HELLO = (Message(role="user", content=(TextPart("Hello"),)),)

MakeProvider = Callable[..., Any]


@pytest.fixture
async def make_provider() -> AsyncIterator[MakeProvider]:
    started: list[BedrockProvider] = []

    async def factory(fake: FakeBedrock, **config: Any) -> BedrockProvider:
        config.setdefault("base_url", fake.base_url)
        provider = BedrockProvider(
            ProviderConfig(name="bedrock", type="bedrock", **config), SPECS["bedrock"], HTTPConfig()
        )
        await provider.start()
        started.append(provider)
        return provider

    yield factory
    for provider in started:
        await provider.aclose()


async def _collect(provider: BedrockProvider, request: ChatRequest) -> list[StreamEvent]:
    return [event async for batch in provider.chat_stream(request) for event in batch]


async def test_requests_are_sigv4_signed_for_the_region_and_the_fake_verifies_them(
    aws_env: pytest.MonkeyPatch, make_provider: MakeProvider, bedrock: FakeBedrock
) -> None:
    provider = await make_provider(bedrock)
    response = await provider.chat(ChatRequest(model=CLAUDE, messages=HELLO, max_tokens=50))
    assert response.content == "".join(REPLY_TEXT)
    (recorded,) = bedrock.requests
    assert recorded.path == f"/model/{CLAUDE}/converse"
    authorization = recorded.headers["Authorization"]
    assert authorization.startswith(f"AWS4-HMAC-SHA256 Credential={TEST_ACCESS_KEY}/")
    assert f"/{TEST_REGION}/bedrock/aws4_request" in authorization
    assert "SignedHeaders=accept;content-type;host;x-amz-date," in authorization
    assert recorded.json == {
        "messages": [{"role": "user", "content": [{"text": "Hello"}]}],
        "inferenceConfig": {"maxTokens": 50},
    }


async def test_a_session_token_is_sent_and_signed(
    aws_env: pytest.MonkeyPatch, make_provider: MakeProvider, make_bedrock: Callable[..., FakeBedrock]
) -> None:
    aws_env.setenv("AWS_SESSION_TOKEN", TEST_SESSION_TOKEN)
    fake = make_bedrock(session_token=TEST_SESSION_TOKEN)
    provider = await make_provider(fake)
    await provider.chat(ChatRequest(model=CLAUDE, messages=HELLO))
    headers = fake.requests[0].headers
    assert headers["X-Amz-Security-Token"] == TEST_SESSION_TOKEN
    assert "x-amz-security-token" in headers["Authorization"]


async def test_model_ids_holding_colons_and_slashes_are_signed_as_sent(
    aws_env: pytest.MonkeyPatch, make_provider: MakeProvider, make_bedrock: Callable[..., FakeBedrock]
) -> None:
    fake = make_bedrock(models=(PROFILE_ARN,))
    provider = await make_provider(fake)
    events = await _collect(provider, ChatRequest(model=PROFILE_ARN, messages=HELLO))
    assert not any(isinstance(e, StreamFailed) for e in events)
    assert fake.requests[0].path == f"/model/{PROFILE_ARN}/converse-stream"
    assert "%2F" in fake.requests[0].raw_path


async def test_the_region_may_come_from_the_aws_profile(
    clean_aws: pytest.MonkeyPatch, make_provider: MakeProvider, bedrock: FakeBedrock, tmp_path: Path
) -> None:
    (tmp_path / "aws-credentials").write_text(
        f"[work]\naws_access_key_id = {TEST_ACCESS_KEY}\naws_secret_access_key = {TEST_SECRET_KEY}\n"
    )
    (tmp_path / "aws-config").write_text(f"[profile work]\nregion = {TEST_REGION}\n")
    clean_aws.setenv("AWS_PROFILE", "work")
    provider = await make_provider(bedrock)
    assert (await provider.chat(ChatRequest(model=CLAUDE, messages=HELLO))).content


async def test_refreshable_credentials_refresh_off_the_event_loop(
    aws_env: pytest.MonkeyPatch, make_provider: MakeProvider, bedrock: FakeBedrock
) -> None:
    loop_thread = threading.get_ident()
    refreshed_in: list[int] = []

    def refresh() -> dict[str, str]:
        refreshed_in.append(threading.get_ident())
        expiry = datetime.now(UTC) + timedelta(hours=1 if refreshed_in[1:] else -1)
        return {
            "access_key": TEST_ACCESS_KEY,
            "secret_key": TEST_SECRET_KEY,
            "token": None,  # type: ignore[dict-item]
            "expiry_time": expiry.isoformat(),
        }

    credentials = RefreshableCredentials.create_from_metadata(refresh(), refresh, "test")
    aws_env.setattr(botocore.session.Session, "get_credentials", lambda self: credentials)
    provider = await make_provider(bedrock)
    await provider.chat(ChatRequest(model=CLAUDE, messages=HELLO))
    await provider.chat(ChatRequest(model=CLAUDE, messages=HELLO))
    assert len(refreshed_in) == 2  # created expired: refreshed once, then fresh for an hour
    assert refreshed_in[1] != loop_thread


async def test_a_failed_refresh_is_a_502(
    aws_env: pytest.MonkeyPatch, make_provider: MakeProvider, bedrock: FakeBedrock
) -> None:
    def refresh() -> dict[str, str]:
        raise CredentialRetrievalError(provider="sts", error_msg="STS is unreachable")

    expired = {
        "access_key": TEST_ACCESS_KEY,
        "secret_key": TEST_SECRET_KEY,
        "token": "",
        "expiry_time": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
    }
    credentials = RefreshableCredentials.create_from_metadata(expired, refresh, "test")
    aws_env.setattr(botocore.session.Session, "get_credentials", lambda self: credentials)
    provider = await make_provider(bedrock)
    with pytest.raises(UpstreamError, match="could not refresh AWS credentials") as caught:
        await provider.chat(ChatRequest(model=CLAUDE, messages=HELLO))
    assert caught.value.status == 502


async def test_a_bedrock_api_key_is_sent_as_a_bearer_token(
    clean_aws: pytest.MonkeyPatch, make_provider: MakeProvider, make_bedrock: Callable[..., FakeBedrock]
) -> None:
    clean_aws.setenv("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-abc")
    clean_aws.setenv("AWS_REGION", TEST_REGION)
    fake = make_bedrock(bearer_token="bedrock-api-key-abc")
    provider = await make_provider(fake)
    assert (await provider.chat(ChatRequest(model=CLAUDE, messages=HELLO))).content
    headers = fake.requests[0].headers
    assert headers["Authorization"] == "Bearer bedrock-api-key-abc"
    assert "X-Amz-Date" not in headers


async def test_missing_credentials_fail_requests_with_a_502_not_the_startup(
    clean_aws: pytest.MonkeyPatch, make_provider: MakeProvider, bedrock: FakeBedrock
) -> None:
    clean_aws.setenv("AWS_REGION", TEST_REGION)
    provider = await make_provider(bedrock)
    with pytest.raises(UpstreamError, match="no AWS credentials found") as caught:
        await provider.chat(ChatRequest(model=CLAUDE, messages=HELLO))
    assert caught.value.status == 502
    assert bedrock.requests == []


async def test_a_rejected_signature_never_leaks_credentials(
    aws_env: pytest.MonkeyPatch, make_provider: MakeProvider, make_bedrock: Callable[..., FakeBedrock]
) -> None:
    aws_env.setenv("AWS_SESSION_TOKEN", TEST_SESSION_TOKEN)
    fake = make_bedrock(session_token=TEST_SESSION_TOKEN, secret_key="the-fake-expects-another-secret")
    provider = await make_provider(fake)
    with pytest.raises(UpstreamStatusError) as caught:
        await provider.chat(ChatRequest(model=CLAUDE, messages=HELLO))
    assert caught.value.status == 403
    assert caught.value.code == "InvalidSignatureException"
    for secret in (TEST_SESSION_TOKEN, TEST_SECRET_KEY, "Canonical String"):
        assert secret not in str(caught.value)


async def test_a_refused_stream_raises_before_the_first_event(
    aws_env: pytest.MonkeyPatch, make_provider: MakeProvider, make_bedrock: Callable[..., FakeBedrock]
) -> None:
    provider = await make_provider(make_bedrock(retry_after="5"))
    with pytest.raises(UpstreamRateLimitError) as caught:
        await _collect(provider, ChatRequest(model="fault-throttle", messages=HELLO))
    assert caught.value.headers == {"retry-after": "5"}


@pytest.mark.parametrize(
    ("model", "status"),
    [("fault-stream-throttle", 429), ("fault-stream-error", 502), ("fault-stream-cut", 502)],
)
async def test_a_stream_failing_midway_ends_with_stream_failed(
    aws_env: pytest.MonkeyPatch, make_provider: MakeProvider, bedrock: FakeBedrock, model: str, status: int
) -> None:
    provider = await make_provider(bedrock)
    events = await _collect(provider, ChatRequest(model=model, messages=HELLO))
    assert [type(e).__name__ for e in events[:2]] == ["StreamStart", "TextDelta"]
    assert isinstance(events[-1], StreamFailed)
    assert events[-1].error.status == status


async def test_streamed_tool_calls_are_numbered_in_order(
    aws_env: pytest.MonkeyPatch, make_provider: MakeProvider, bedrock: FakeBedrock
) -> None:
    provider = await make_provider(bedrock)
    said = (Message(role="user", content=(TextPart("use get_weather and get_time"),)),)
    request = ChatRequest(
        model=CLAUDE, messages=said, tools=(Tool(name="get_weather"), Tool(name="get_time"))
    )
    events = await _collect(provider, request)
    starts = [e for e in events if isinstance(e, ToolCallStart)]
    assert [(s.index, s.name) for s in starts] == [(0, "get_weather"), (1, "get_time")]
    arguments = "".join(e.arguments for e in events if isinstance(e, ToolCallDelta) and e.index == 1)
    assert orjson.loads(arguments) == TOOL_INPUT
    assert [type(e).__name__ for e in events[-2:]] == ["Finish", "UsageReport"]


async def test_titan_embeddings_run_one_call_per_input_in_order(
    aws_env: pytest.MonkeyPatch, make_provider: MakeProvider, bedrock: FakeBedrock
) -> None:
    provider = await make_provider(bedrock)
    inputs = tuple(f"text number {i}" for i in range(20))
    response = await provider.embeddings(
        EmbeddingsRequest(model=EMBEDDING_MODELS[0], inputs=inputs, dimensions=512)
    )
    assert len(bedrock.requests) == 20
    by_text = {r.json["inputText"]: r.json for r in bedrock.requests}
    assert by_text["text number 3"] == {"inputText": "text number 3", "normalize": True, "dimensions": 512}
    single = await provider.embeddings(
        EmbeddingsRequest(model=EMBEDDING_MODELS[0], inputs=("text number 7",))
    )
    assert response.vectors[7] == single.vectors[0]
    assert response.usage is not None
    assert response.usage.prompt_tokens == 60


async def test_embeddings_refuse_other_models_and_pass_on_failures(
    aws_env: pytest.MonkeyPatch, make_provider: MakeProvider, bedrock: FakeBedrock
) -> None:
    provider = await make_provider(bedrock)
    with pytest.raises(InvalidRequestError, match="Titan"):
        await provider.embeddings(EmbeddingsRequest(model="cohere.embed-english-v3", inputs=("x",)))
    with pytest.raises(InvalidRequestError, match="dimensions"):
        await provider.embeddings(EmbeddingsRequest(model=EMBEDDING_MODELS[0], inputs=("x",), dimensions=7))
    with pytest.raises(GatewayError) as caught:
        await provider.embeddings(EmbeddingsRequest(model="unknown.titan-embed-text-v2:0", inputs=("x", "y")))
    assert (caught.value.status, caught.value.message) == (400, "The provided model identifier is invalid.")


async def test_the_model_list_is_the_configured_models_then_the_region_s_text_models(
    aws_env: pytest.MonkeyPatch, make_provider: MakeProvider, make_bedrock: Callable[..., FakeBedrock]
) -> None:
    fake = make_bedrock()
    provider = await make_provider(fake, models=("us.amazon.nova-pro-v1:0", CLAUDE))
    assert await provider.list_models() == ["us.amazon.nova-pro-v1:0", CLAUDE, TEXT_MODELS[1]]
    assert fake.requests[0].query == {"byInferenceType": "ON_DEMAND", "byOutputModality": "TEXT"}


async def test_relaying_is_refused(
    aws_env: pytest.MonkeyPatch, make_provider: MakeProvider, bedrock: FakeBedrock
) -> None:
    provider = await make_provider(bedrock)
    assert provider.dialect_for(CLAUDE) == "bedrock_converse"
    with pytest.raises(InvalidRequestError):
        await provider.relay_target("/chat/completions", CLAUDE)
