"""OpenCode Go: per-model routing between its OpenAI-style and Anthropic-style endpoints.

The upstream is one fake server with both halves on one base URL, as OpenCode Go has them:
``/chat/completions`` and ``/models`` from the OpenAI fake (bearer auth), ``/messages`` from the
Anthropic fake (``x-api-key``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import openai
import pytest

from gomodel.config.schema import HTTPConfig, ProviderConfig
from gomodel.core.chat import EmbeddingsRequest
from gomodel.core.errors import InvalidRequestError
from gomodel.providers.opencode_go import OpenCodeGoProvider
from gomodel.providers.specs import SPECS
from gomodel.testing.fake_anthropic import FakeAnthropic
from gomodel.testing.fake_upstream import FakeUpstream
from gomodel.testing.threaded_server import ThreadedServer
from tests.harness import MASTER_KEY, Gateway

KEY = "oc-go-fake-key"
CHAT_MODELS = ("glm-5.1", "kimi-k2.6")
MESSAGES_MODELS = ("qwen3.7-max", "minimax-m3", "fault-429")
HELLO: list[Any] = [{"role": "user", "content": "Hello there"}]


@attrs.frozen
class Upstream:
    chat: FakeUpstream
    messages: FakeAnthropic
    base_url: str

    def paths(self) -> list[str]:
        return sorted(
            r.path for r in [*self.chat.requests, *self.messages.requests] if r.path != "/v1/models"
        )


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    chat = FakeUpstream(api_key=KEY, models=(*CHAT_MODELS, *MESSAGES_MODELS))
    messages = FakeAnthropic(api_key=KEY, models=MESSAGES_MODELS, json_pieces=2)
    app = chat.make_app()
    # The more specific /v1/messages route wins over the OpenAI fake's catch-all.
    messages.add_routes(app, models=False)
    with ThreadedServer() as server:
        server.start(app, **FakeUpstream.runner_kwargs())
        yield Upstream(chat, messages, server.base_url + "/v1")


def provider_for(**options: str) -> OpenCodeGoProvider:
    config = ProviderConfig(name="opencode_go", type="opencode_go", api_key=KEY, options=options)
    return OpenCodeGoProvider(config, SPECS["opencode_go"], HTTPConfig())


@pytest.fixture
def gateway(make_gateway: Callable[..., Gateway], upstream: Upstream) -> Gateway:
    yaml = f"""
providers:
  opencode_go:
    type: opencode_go
    api_key: {KEY}
    base_url: {upstream.base_url}
    options:
      messages_models: "{",".join(MESSAGES_MODELS)}"
"""
    return make_gateway({"GOMODEL_MASTER_KEY": MASTER_KEY}, yaml)


# --- routing ------------------------------------------------------------------------------------------


def test_default_messages_model_is_routed_to_the_anthropic_dialect() -> None:
    provider = provider_for()

    assert provider.messages_models == frozenset({"qwen3.7-max"})
    assert provider.dialect_for("qwen3.7-max") == "anthropic_messages"
    assert provider.dialect_for("opencode_go/qwen3.7-max") == "anthropic_messages"
    assert provider.dialect_for("glm-5.1") == "openai_chat"


def test_messages_models_option_replaces_the_default() -> None:
    provider = provider_for(messages_models=" minimax-m3 , qwen3.8-max,, ")

    assert provider.messages_models == frozenset({"minimax-m3", "qwen3.8-max"})
    assert provider.dialect_for("qwen3.7-max") == "openai_chat"


async def test_relay_targets_use_each_dialects_url_and_auth() -> None:
    provider = provider_for()

    chat_url, chat_headers = await provider.relay_target("/chat/completions", "glm-5.1")
    messages_url, messages_headers = await provider.relay_target("/messages", "qwen3.7-max")

    assert chat_url == "https://opencode.ai/zen/go/v1/chat/completions"
    assert chat_headers["Authorization"] == f"Bearer {KEY}"
    assert "x-api-key" not in chat_headers
    assert messages_url == "https://opencode.ai/zen/go/v1/messages"
    assert (messages_headers["x-api-key"], messages_headers["anthropic-version"]) == (KEY, "2023-06-01")
    assert "Authorization" not in messages_headers


def test_both_halves_share_one_connection_pool() -> None:
    provider = provider_for()

    assert provider._messages.client is provider.client is provider._chat.client


async def test_embeddings_are_refused() -> None:
    with pytest.raises(InvalidRequestError, match="opencode_go does not offer embeddings"):
        await provider_for().embeddings(EmbeddingsRequest(model="glm-5.1", inputs=("x",)))


# --- through the gateway ---------------------------------------------------------------------------------


def test_model_list_comes_from_the_openai_style_endpoint(gateway: Gateway, upstream: Upstream) -> None:
    models = {model.id for model in gateway.client().models.list()}

    assert {*CHAT_MODELS, *MESSAGES_MODELS} <= models
    assert upstream.chat.requests[0].headers["Authorization"] == f"Bearer {KEY}"


def test_chat_model_is_relayed_to_chat_completions(gateway: Gateway, upstream: Upstream) -> None:
    completion = gateway.client().chat.completions.create(model="glm-5.1", messages=HELLO)
    chunks = list(gateway.client().chat.completions.create(model="kimi-k2.6", messages=HELLO, stream=True))

    assert completion.choices[0].message.content == "tok0 tok1 tok2 tok3 tok4 "
    assert (
        "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "tok0 tok1 tok2 tok3 tok4 "
    )
    assert upstream.paths() == ["/v1/chat/completions", "/v1/chat/completions"]
    sent = upstream.chat.requests[-1]
    assert sent.headers["Authorization"] == f"Bearer {KEY}"
    assert sent.json["messages"] == HELLO


def test_messages_model_is_translated_to_the_messages_api(gateway: Gateway, upstream: Upstream) -> None:
    completion = gateway.client().chat.completions.create(model="qwen3.7-max", messages=HELLO, max_tokens=64)

    assert completion.choices[0].message.content == "tok0 tok1 tok2 tok3 tok4 "
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 5
    assert upstream.paths() == ["/v1/messages"]
    sent = upstream.messages.requests[-1]
    assert sent.headers["x-api-key"] == KEY
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert "Authorization" not in sent.headers
    assert sent.json == {
        "model": "qwen3.7-max",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hello there"}]}],
        "max_tokens": 64,
    }


async def test_messages_model_streams_tool_calls_to_an_async_client(
    gateway: Gateway, upstream: Upstream
) -> None:
    weather = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
    stream = await gateway.async_client().chat.completions.create(
        model="minimax-m3",
        messages=HELLO,
        tools=[weather],
        stream=True,  # type: ignore[list-item]
    )
    arguments = ""
    finish = None
    async for chunk in stream:
        if not chunk.choices:
            continue
        for call in chunk.choices[0].delta.tool_calls or []:
            arguments += (call.function.arguments or "") if call.function else ""
        finish = chunk.choices[0].finish_reason or finish

    assert json.loads(arguments) == {"city": "city-value"}
    assert finish == "tool_calls"
    assert upstream.messages.requests[-1].json["stream"] is True


def test_messages_model_errors_keep_status_and_retry_after(gateway: Gateway, upstream: Upstream) -> None:
    with pytest.raises(openai.RateLimitError) as info:
        gateway.client().chat.completions.create(model="fault-429", messages=HELLO)

    assert info.value.response.headers["retry-after"] == "7"
    assert upstream.paths() == ["/v1/messages"]


def test_default_routing_without_the_option(make_gateway: Callable[..., Gateway], upstream: Upstream) -> None:
    gateway = make_gateway({"OPENCODE_GO_API_KEY": KEY, "OPENCODE_GO_BASE_URL": upstream.base_url})
    client = gateway.client()

    client.chat.completions.create(model="qwen3.7-max", messages=HELLO)
    client.chat.completions.create(model="minimax-m3", messages=HELLO)

    assert upstream.paths() == ["/v1/chat/completions", "/v1/messages"]


def test_messages_models_environment_variable(
    make_gateway: Callable[..., Gateway], upstream: Upstream
) -> None:
    env = {"OPENCODE_GO_API_KEY": KEY, "OPENCODE_GO_BASE_URL": upstream.base_url}
    gateway = make_gateway({**env, "OPENCODE_GO_MESSAGES_MODELS": "minimax-m3"})
    client = gateway.client()

    client.chat.completions.create(model="qwen3.7-max", messages=HELLO)
    client.chat.completions.create(model="minimax-m3", messages=HELLO)

    assert upstream.paths() == ["/v1/chat/completions", "/v1/messages"]
