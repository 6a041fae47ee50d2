"""`gomodel.config.load`: defaults, then config.yaml, then the environment (which always wins).

Every test passes an explicit env dict and runs in an empty working directory, so neither the
developer's environment nor a stray ./config.yaml can leak in.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from gomodel.config import Config, ProviderConfig, load

OPENAI = {"OPENAI_API_KEY": "sk-test"}

WriteYaml = Callable[..., str]


@pytest.fixture(autouse=True)
def _empty_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def write_yaml(tmp_path: Path) -> WriteYaml:
    """``write_yaml(text, name=...)`` -> path of a dedented YAML file in tmp_path."""

    def write(text: str, name: str = "gomodel.yaml") -> str:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return str(path)

    return write


def provider(config: Config, name: str) -> ProviderConfig:
    by_name = {p.name: p for p in config.providers}
    assert name in by_name, f"no provider {name!r} in {sorted(by_name)}"
    return by_name[name]


# --- defaults -------------------------------------------------------------------------------------


def test_defaults() -> None:
    config = load(None, OPENAI)

    assert config.server.port == 8080
    assert config.server.base_path == "/"
    assert config.server.user_path_header == "X-GoModel-User-Path"
    assert config.server.master_key is None
    assert config.server.body_size_limit == 10 * 1024 * 1024
    assert config.server.shutdown_timeout == 30.0
    assert config.models.configured_provider_models_mode == "fallback"
    assert config.logging.format == "auto"
    assert config.logging.level == "info"
    assert config.logging.access_log is True
    assert config.usage.enforce_returning_usage_data is True


def test_an_empty_yaml_file_means_defaults(write_yaml: WriteYaml) -> None:
    assert load(write_yaml(""), OPENAI) == load(None, OPENAI)


# --- scalar settings from the environment ---------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "section", "key", "expected"),
    [
        ("PORT", "9000", "server", "port", 9000),
        ("BASE_PATH", "/gateway", "server", "base_path", "/gateway"),
        ("USER_PATH_HEADER", "X-Team", "server", "user_path_header", "X-Team"),
        ("BODY_SIZE_LIMIT", "512K", "server", "body_size_limit", 512 * 1024),
        ("BODY_SIZE_LIMIT", "1048576", "server", "body_size_limit", 1048576),
        ("SHUTDOWN_TIMEOUT", "5m", "server", "shutdown_timeout", 300.0),
        ("GOMODEL_WORKERS", "4", "server", "workers", 4),
        ("HTTP_TIMEOUT", "250ms", "http", "timeout", 0.25),
        ("HTTP_CONNECT_TIMEOUT", "3", "http", "connect_timeout", 3.0),
        ("HTTP_MAX_CONNECTIONS_PER_PROVIDER", "64", "http", "max_connections_per_provider", 64),
        (
            "CONFIGURED_PROVIDER_MODELS_MODE",
            "allowlist",
            "models",
            "configured_provider_models_mode",
            "allowlist",
        ),
        ("CACHE_REFRESH_INTERVAL", "30s", "models", "refresh_interval", 30.0),
        ("MODELS_FETCH_TIMEOUT", "1.5", "models", "fetch_timeout", 1.5),
        ("ENFORCE_RETURNING_USAGE_DATA", "false", "usage", "enforce_returning_usage_data", False),
        ("USAGE_BUFFER_SIZE", "100", "usage", "buffer_size", 100),
        ("LOG_FORMAT", "JSON", "logging", "format", "json"),
        ("LOG_LEVEL", "Debug", "logging", "level", "debug"),
        ("ACCESS_LOG_ENABLED", "off", "logging", "access_log", False),
    ],
)
def test_scalar_setting_from_env(variable: str, value: str, section: str, key: str, expected: object) -> None:
    config = load(None, {**OPENAI, variable: value})

    assert getattr(getattr(config, section), key) == expected


def test_master_key_from_env_is_listed_as_a_secret() -> None:
    config = load(None, {**OPENAI, "GOMODEL_MASTER_KEY": "gm-master"})

    assert config.server.master_key == "gm-master"
    assert sorted(config.secrets()) == ["gm-master", "sk-test"]


# --- scalar settings from YAML --------------------------------------------------------------------


def test_yaml_durations_and_sizes(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        """
        server:
          body_size_limit: 10M
          shutdown_timeout: 250ms
        http:
          timeout: 30s
          connect_timeout: 5
          stream_idle_timeout: 1.5
        models:
          refresh_interval: 5m
        usage:
          buffer_size: 512
        """
    )

    config = load(path, OPENAI)

    assert config.server.body_size_limit == 10 * 1024 * 1024
    assert config.server.shutdown_timeout == 0.25
    assert (config.http.timeout, config.http.connect_timeout, config.http.stream_idle_timeout) == (30, 5, 1.5)
    assert config.models.refresh_interval == 300.0
    assert config.usage.buffer_size == 512


def test_env_overrides_a_yaml_scalar(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        """
        server:
          port: 7000
          base_path: /from-yaml
        """
    )

    config = load(path, {**OPENAI, "PORT": "9000"})

    assert config.server.port == 9000
    assert config.server.base_path == "/from-yaml"


def test_env_overrides_an_empty_yaml_section(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        """
        server:
          # port: 7000
        """
    )

    assert load(path, {**OPENAI, "PORT": "9000"}).server.port == 9000


def test_yaml_expands_env_references(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        """
        server:
          port: ${GW_PORT}
        providers:
          primary:
            type: openai
            api_key: ${PRIMARY_KEY}
            base_url: https://${PRIMARY_HOST}/v1
        """
    )

    config = load(path, {"GW_PORT": "9100", "PRIMARY_KEY": "sk-from-env", "PRIMARY_HOST": "llm.example"})

    assert config.server.port == 9100
    primary = provider(config, "primary")
    assert (primary.api_key, primary.base_url) == ("sk-from-env", "https://llm.example/v1")


# --- config file discovery ------------------------------------------------------------------------


def test_config_yaml_in_the_working_directory_is_read(write_yaml: WriteYaml) -> None:
    write_yaml("server:\n  port: 7001\n", name="config.yaml")

    assert load(None, OPENAI).server.port == 7001


def test_gomodel_config_beats_the_working_directory_file(write_yaml: WriteYaml) -> None:
    write_yaml("server:\n  port: 7001\n", name="config.yaml")
    other = write_yaml("server:\n  port: 7002\n", name="other.yaml")

    assert load(None, {**OPENAI, "GOMODEL_CONFIG": other}).server.port == 7002


def test_explicit_path_beats_gomodel_config(write_yaml: WriteYaml) -> None:
    from_env = write_yaml("server:\n  port: 7002\n", name="env.yaml")
    explicit = write_yaml("server:\n  port: 7003\n", name="cli.yaml")

    assert load(explicit, {**OPENAI, "GOMODEL_CONFIG": from_env}).server.port == 7003


def test_no_file_anywhere_is_fine() -> None:
    assert load(None, OPENAI).server.port == 8080


# --- providers from the environment ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "name", "expected"),
    [
        ({"OPENAI_API_KEY": "sk"}, "openai", {"type": "openai", "api_key": "sk", "base_url": None}),
        ({"GROQ_API_KEY": "gsk"}, "groq", {"type": "groq", "api_key": "gsk"}),
        (
            {
                "AZURE_API_KEY": "az",
                "AZURE_BASE_URL": "https://r.openai.azure.com/openai/deployments/gpt4o",
                "AZURE_API_VERSION": "2025-01-01-preview",
            },
            "azure",
            {
                "type": "azure",
                "api_key": "az",
                "base_url": "https://r.openai.azure.com/openai/deployments/gpt4o",
                "api_version": "2025-01-01-preview",
            },
        ),
        (
            {"ORACLE_API_KEY": "oc", "ORACLE_BASE_URL": "https://inference.example.oraclecloud.com/v1"},
            "oracle",
            {"type": "oracle", "base_url": "https://inference.example.oraclecloud.com/v1"},
        ),
        (
            {"OLLAMA_BASE_URL": "http://gpu-box:11434/v1"},
            "ollama",
            {"type": "ollama", "api_key": None, "base_url": "http://gpu-box:11434/v1"},
        ),
        (
            {"VLLM_BASE_URL": "http://vllm:8000/v1"},
            "vllm",
            {"type": "vllm", "api_key": None, "base_url": "http://vllm:8000/v1"},
        ),
        (
            {"VLLM_BASE_URL": "http://vllm:8000/v1", "VLLM_API_KEY": "token"},
            "vllm",
            {"type": "vllm", "api_key": "token"},
        ),
        ({"OPENCODE_GO_API_KEY": "oc-go"}, "opencode_go", {"type": "opencode_go", "api_key": "oc-go"}),
        ({"GEMINI_API_KEY": "AIza"}, "gemini", {"type": "gemini", "api_key": "AIza", "api_mode": None}),
        (
            {"GEMINI_API_KEY": "AIza", "GEMINI_API_MODE": "openai_compatible"},
            "gemini",
            {"api_mode": "openai_compatible"},
        ),
    ],
)
def test_provider_from_env(env: dict[str, str], name: str, expected: dict[str, object]) -> None:
    config = load(None, env)

    found = provider(config, name)
    assert {key: getattr(found, key) for key in expected} == expected


def test_suffixed_instance_with_models() -> None:
    config = load(
        None,
        {
            "OPENAI_EAST_API_KEY": "sk-east",
            "OPENAI_EAST_BASE_URL": "https://east.example/v1",
            "OPENAI_EAST_MODELS": "a, b",
        },
    )

    east = provider(config, "openai-east")
    assert (east.type, east.api_key, east.base_url, east.models) == (
        "openai",
        "sk-east",
        "https://east.example/v1",
        ("a", "b"),
    )


def test_multi_word_suffix_instance() -> None:
    config = load(None, {"OPENAI_US_WEST_API_KEY": "sk-w"})

    assert (provider(config, "openai-us-west").type, provider(config, "openai-us-west").api_key) == (
        "openai",
        "sk-w",
    )


def test_base_and_suffixed_instances_coexist_in_stable_order() -> None:
    config = load(None, {"OPENAI_EAST_API_KEY": "e", "GROQ_API_KEY": "g", "OPENAI_API_KEY": "o"})

    assert [p.name for p in config.providers] == ["openai", "openai-east", "groq"]


@pytest.mark.parametrize(
    ("value", "models"),
    [
        ("gpt-4o", ("gpt-4o",)),
        ("gpt-4o,gpt-4o-mini", ("gpt-4o", "gpt-4o-mini")),
        (" gpt-4o , gpt-4o-mini ,", ("gpt-4o", "gpt-4o-mini")),
    ],
)
def test_models_variable_is_a_comma_list(value: str, models: tuple[str, ...]) -> None:
    config = load(None, {**OPENAI, "OPENAI_MODELS": value})

    assert provider(config, "openai").models == models


def test_openrouter_attribution_becomes_headers() -> None:
    config = load(
        None,
        {
            "OPENROUTER_API_KEY": "or",
            "OPENROUTER_SITE_URL": "https://myapp.example",
            "OPENROUTER_APP_NAME": "My App",
        },
    )

    assert provider(config, "openrouter").headers == {
        "HTTP-Referer": "https://myapp.example",
        "X-Title": "My App",
    }


# --- providers from YAML --------------------------------------------------------------------------


def test_yaml_providers_as_a_mapping(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        """
        providers:
          primary:
            type: openai
            api_key: sk-1
            models: [gpt-4o, gpt-4o-mini]
          local:
            type: ollama
            base_url: http://localhost:11434/v1
            models: "llama3, qwen2"
          router:
            type: openrouter
            api_key: or-1
            headers:
              X-Title: Yaml App
        """
    )

    config = load(path, {})

    assert [p.name for p in config.providers] == ["primary", "local", "router"]
    assert provider(config, "primary").models == ("gpt-4o", "gpt-4o-mini")
    assert provider(config, "local").models == ("llama3", "qwen2")
    assert provider(config, "local").api_key is None
    assert provider(config, "router").headers == {"X-Title": "Yaml App"}


def test_yaml_providers_as_a_list(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        """
        providers:
          - name: primary
            type: openai
            api_key: sk-1
          - name: backup
            type: groq
            api_key: gsk-1
        """
    )

    config = load(path, {})

    assert [(p.name, p.type) for p in config.providers] == [("primary", "openai"), ("backup", "groq")]


def test_yaml_providers_come_before_env_providers(write_yaml: WriteYaml) -> None:
    path = write_yaml("providers:\n  zeta:\n    type: groq\n    api_key: g\n")

    config = load(path, OPENAI)

    assert [p.name for p in config.providers] == ["zeta", "openai"]


def test_env_overrides_a_yaml_provider_of_the_same_name(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        """
        providers:
          openai:
            type: openai
            api_key: sk-yaml
            base_url: https://proxy.example/v1
            models: [gpt-4o]
        """
    )

    config = load(path, {"OPENAI_API_KEY": "sk-env", "OPENAI_MODELS": "gpt-4.1"})

    assert len(config.providers) == 1
    merged = provider(config, "openai")
    assert (merged.api_key, merged.base_url, merged.models) == (
        "sk-env",
        "https://proxy.example/v1",
        ("gpt-4.1",),
    )


def test_env_keeps_yaml_provider_fields_it_does_not_set(write_yaml: WriteYaml) -> None:
    path = write_yaml("providers:\n  groq:\n    type: groq\n    api_key: y\n    models: [llama]\n")

    config = load(path, {"GROQ_API_KEY": "e"})

    assert provider(config, "groq").models == ("llama",)


def test_env_can_supply_the_key_a_yaml_provider_lacks(write_yaml: WriteYaml) -> None:
    path = write_yaml("providers:\n  openai-east:\n    type: openai\n    models: [a]\n")

    config = load(path, {"OPENAI_EAST_API_KEY": "sk-east"})

    east = provider(config, "openai-east")
    assert (east.api_key, east.models) == ("sk-east", ("a",))


def test_yaml_model_list_only_variable_merges_into_the_yaml_provider(write_yaml: WriteYaml) -> None:
    path = write_yaml("providers:\n  openai:\n    type: openai\n    api_key: sk\n")

    config = load(path, {"OPENAI_MODELS": "x,y"})

    assert provider(config, "openai").models == ("x", "y")
