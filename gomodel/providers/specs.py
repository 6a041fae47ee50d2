"""What distinguishes one provider type from another, as data.

Every OpenAI-compatible upstream is served by the same code (`openai_compatible.py`); a type is only
a record here: where it lives, how it authenticates, which environment variables configure it.
"""

from __future__ import annotations

from typing import Literal

import attrs

__all__ = ["SPECS", "HeaderFromEnv", "ProviderSpec", "spec_for"]

AuthStyle = Literal["bearer", "api-key"]


@attrs.frozen(slots=True)
class HeaderFromEnv:
    """An extra upstream header whose value comes from ``<PREFIX>_<suffix>`` (e.g. OpenRouter attribution)."""

    env_suffix: str
    header: str
    default: str


OPENAI_COMPATIBLE = "gomodel.providers.openai_compatible:OpenAICompatibleProvider"


@attrs.frozen(slots=True, kw_only=True)
class ProviderSpec:
    type: str
    env_prefix: str
    #: None: the operator gives it (Azure deployments, Oracle tenancies) or it is derived (Vertex).
    default_base_url: str | None
    #: ``module:Class`` implementing `gomodel.providers.base.Provider`, imported only when configured.
    implementation: str = OPENAI_COMPATIBLE
    #: Fields whose presence in the environment registers the provider (the first is named when missing).
    registers_on: tuple[str, ...] = ("API_KEY",)
    api_key_required: bool = True
    needs_base_url: bool = False
    #: Bedrock takes a bare region ("us-east-1") as well as an endpoint URL.
    base_url_may_be_region: bool = False
    #: Type-specific settings read from ``<PREFIX>_<FIELD>`` into ``ProviderConfig.options``.
    option_fields: tuple[str, ...] = ()
    required_options: tuple[str, ...] = ()
    auth: AuthStyle = "bearer"
    #: Azure puts ``api-version`` on every call.
    default_api_version: str | None = None
    #: Azure lists models and serves the Responses API at the resource root, not under the deployment.
    models_at_resource_root: bool = False
    #: The upstream has OpenAI's Responses API, so ``/v1/responses`` is relayed rather than translated.
    native_responses: bool = False
    #: How translated requests spell the output cap (OpenAI's reasoning models want the newer name).
    max_tokens_field: str = "max_tokens"
    #: Gemini's OpenAI-compatible list answers ``models/gemini-2.5-flash``; routing wants the bare id.
    model_id_prefix: str = ""
    extra_headers: tuple[HeaderFromEnv, ...] = ()
    #: API modes this build can speak for the type; the first is the default.
    api_modes: tuple[str, ...] = ()
    #: Base URL of the OpenAI-compatible mode, for types whose default mode is native.
    openai_compatible_base_url: str | None = None


_OPENROUTER_HEADERS = (
    HeaderFromEnv("SITE_URL", "HTTP-Referer", "https://github.com/ENTERPILOT/GoModel"),
    HeaderFromEnv("APP_NAME", "X-Title", "GoModel"),
)

SPECS: dict[str, ProviderSpec] = {
    spec.type: spec
    for spec in (
        ProviderSpec(
            type="openai",
            env_prefix="OPENAI",
            default_base_url="https://api.openai.com/v1",
            native_responses=True,
            max_tokens_field="max_completion_tokens",
        ),
        ProviderSpec(type="deepseek", env_prefix="DEEPSEEK", default_base_url="https://api.deepseek.com"),
        ProviderSpec(type="groq", env_prefix="GROQ", default_base_url="https://api.groq.com/openai/v1"),
        ProviderSpec(
            type="openrouter",
            env_prefix="OPENROUTER",
            default_base_url="https://openrouter.ai/api/v1",
            extra_headers=_OPENROUTER_HEADERS,
        ),
        ProviderSpec(type="zai", env_prefix="ZAI", default_base_url="https://api.z.ai/api/paas/v4"),
        ProviderSpec(
            type="xai", env_prefix="XAI", default_base_url="https://api.x.ai/v1", native_responses=True
        ),
        ProviderSpec(
            type="bailian",
            env_prefix="BAILIAN",
            default_base_url="https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
        ),
        ProviderSpec(type="minimax", env_prefix="MINIMAX", default_base_url="https://api.minimax.io/v1"),
        ProviderSpec(type="xiaomi", env_prefix="XIAOMI", default_base_url="https://api.xiaomimimo.com/v1"),
        ProviderSpec(
            type="azure",
            env_prefix="AZURE",
            default_base_url=None,
            needs_base_url=True,
            auth="api-key",
            default_api_version="2024-10-21",
            models_at_resource_root=True,
            native_responses=True,
            max_tokens_field="max_completion_tokens",
        ),
        ProviderSpec(type="oracle", env_prefix="ORACLE", default_base_url=None, needs_base_url=True),
        ProviderSpec(
            type="ollama",
            env_prefix="OLLAMA",
            default_base_url="http://localhost:11434/v1",
            registers_on=("BASE_URL", "API_KEY"),
            api_key_required=False,
        ),
        ProviderSpec(
            type="vllm",
            env_prefix="VLLM",
            default_base_url="http://localhost:8000/v1",
            registers_on=("BASE_URL", "API_KEY"),
            api_key_required=False,
        ),
        ProviderSpec(
            type="opencode_go",
            env_prefix="OPENCODE_GO",
            default_base_url="https://opencode.ai/zen/go/v1",
            implementation="gomodel.providers.opencode_go:OpenCodeGoProvider",
            option_fields=("MESSAGES_MODELS",),
        ),
        ProviderSpec(
            type="anthropic",
            env_prefix="ANTHROPIC",
            default_base_url="https://api.anthropic.com/v1",
            implementation="gomodel.providers.anthropic:AnthropicProvider",
            option_fields=("DEFAULT_MAX_TOKENS",),
        ),
        ProviderSpec(
            type="gemini",
            env_prefix="GEMINI",
            default_base_url="https://generativelanguage.googleapis.com/v1beta",
            implementation="gomodel.providers.gemini:GeminiProvider",
            model_id_prefix="models/",
            api_modes=("native", "openai_compatible"),
            openai_compatible_base_url="https://generativelanguage.googleapis.com/v1beta/openai",
        ),
        ProviderSpec(
            type="vertex",
            env_prefix="VERTEX",
            default_base_url=None,
            implementation="gomodel.providers.vertex:VertexProvider",
            registers_on=("PROJECT",),
            api_key_required=False,
            option_fields=("PROJECT", "LOCATION", "AUTH_TYPE"),
            required_options=("PROJECT", "LOCATION"),
            api_modes=("native", "openai_compatible"),
        ),
        ProviderSpec(
            type="bedrock",
            env_prefix="BEDROCK",
            default_base_url=None,
            implementation="gomodel.providers.bedrock:BedrockProvider",
            registers_on=("BASE_URL",),
            api_key_required=False,
            needs_base_url=True,
            base_url_may_be_region=True,
        ),
    )
}


def spec_for(provider_type: str) -> ProviderSpec | None:
    return SPECS.get(provider_type)
