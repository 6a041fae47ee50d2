"""`gomodel.config.discovery.discover`: provider instances named by environment variables."""

from __future__ import annotations

import pytest

from gomodel.config.discovery import EnvProvider, discover


def one(env: dict[str, str]) -> EnvProvider:
    (found,) = discover(env)
    return found


@pytest.mark.parametrize(
    ("variable", "provider_type"),
    [
        ("OPENAI_API_KEY", "openai"),
        ("GROQ_API_KEY", "groq"),
        ("DEEPSEEK_API_KEY", "deepseek"),
        ("OPENROUTER_API_KEY", "openrouter"),
        ("AZURE_API_KEY", "azure"),
        ("ORACLE_API_KEY", "oracle"),
        ("OPENCODE_GO_API_KEY", "opencode_go"),
        ("GEMINI_API_KEY", "gemini"),
        ("XAI_API_KEY", "xai"),
    ],
)
def test_api_key_names_a_provider_of_that_type(variable: str, provider_type: str) -> None:
    found = one({variable: "secret"})

    assert (found.name, found.spec.type, found.suffix) == (provider_type, provider_type, "")
    assert found.values == {"API_KEY": "secret"}
    assert found.registers


def test_every_field_is_collected_with_its_variable_name() -> None:
    found = one(
        {
            "AZURE_API_KEY": "k",
            "AZURE_BASE_URL": "https://r.openai.azure.com/openai/deployments/d",
            "AZURE_API_VERSION": "2025-01-01-preview",
            "AZURE_MODELS": "gpt-4o",
        }
    )

    assert found.variables == {
        "API_KEY": "AZURE_API_KEY",
        "BASE_URL": "AZURE_BASE_URL",
        "API_VERSION": "AZURE_API_VERSION",
        "MODELS": "AZURE_MODELS",
    }
    assert found.values["API_VERSION"] == "2025-01-01-preview"


def test_suffix_makes_a_separate_instance() -> None:
    found = one({"OPENAI_EAST_API_KEY": "k", "OPENAI_EAST_BASE_URL": "https://east.example/v1"})

    assert (found.name, found.spec.type, found.suffix) == ("openai-east", "openai", "EAST")
    assert found.variable("BASE_URL") == "OPENAI_EAST_BASE_URL"


def test_multi_word_suffix_becomes_a_dashed_name() -> None:
    found = one({"OPENAI_US_WEST_API_KEY": "k", "OPENAI_US_WEST_API_VERSION": "v1"})

    assert (found.name, found.suffix) == ("openai-us-west", "US_WEST")
    assert found.variables == {
        "API_KEY": "OPENAI_US_WEST_API_KEY",
        "API_VERSION": "OPENAI_US_WEST_API_VERSION",
    }


def test_order_is_type_declaration_order_then_base_instance_then_suffix() -> None:
    env = {
        "GEMINI_API_KEY": "g",
        "OPENAI_WEST_API_KEY": "w",
        "GROQ_API_KEY": "q",
        "OPENAI_API_KEY": "o",
        "OPENAI_EAST_API_KEY": "e",
    }

    assert [p.name for p in discover(env)] == ["openai", "openai-east", "openai-west", "groq", "gemini"]


def test_blank_values_and_unrelated_variables_are_ignored() -> None:
    env = {"OPENAI_API_KEY": "   ", "OPENAI_ORG_ID": "org", "PATH": "/bin", "GROQ_TOKEN": "x"}

    assert discover(env) == []


def test_values_are_stripped() -> None:
    assert one({"GROQ_API_KEY": "  k \n"}).values == {"API_KEY": "k"}


def test_longer_prefix_claims_its_variables() -> None:
    found = one({"OPENCODE_GO_API_KEY": "k", "OPENCODE_GO_BASE_URL": "https://x.example/v1"})

    assert (found.name, found.spec.type, found.suffix) == ("opencode_go", "opencode_go", "")


@pytest.mark.parametrize(
    ("env", "registers"),
    [
        ({"OLLAMA_BASE_URL": "http://h:11434/v1"}, True),
        ({"VLLM_BASE_URL": "http://h:8000/v1"}, True),
        ({"VLLM_API_KEY": "k"}, True),
        ({"OLLAMA_MODELS": "llama3"}, False),
        ({"AZURE_BASE_URL": "https://r.example"}, False),
        ({"OPENAI_MODELS": "gpt-4o"}, False),
    ],
)
def test_registers_needs_a_key_or_a_keyless_base_url(env: dict[str, str], registers: bool) -> None:
    assert one(env).registers is registers


def test_openrouter_attribution_variables_become_headers() -> None:
    found = one(
        {"OPENROUTER_API_KEY": "k", "OPENROUTER_SITE_URL": "https://me.example", "OPENROUTER_APP_NAME": "Me"}
    )

    assert found.headers == {"HTTP-Referer": "https://me.example", "X-Title": "Me"}


def test_suffixed_openrouter_prefers_its_own_attribution_then_the_base_one() -> None:
    env = {
        "OPENROUTER_EU_API_KEY": "k",
        "OPENROUTER_EU_APP_NAME": "EU app",
        "OPENROUTER_SITE_URL": "https://me.example",
    }

    assert one(env).headers == {"HTTP-Referer": "https://me.example", "X-Title": "EU app"}


def test_attribution_variables_alone_do_not_name_a_provider() -> None:
    assert discover({"OPENROUTER_SITE_URL": "https://me.example", "OPENROUTER_APP_NAME": "Me"}) == []
