"""`gomodel.config.load` error reporting: every problem at once, each under the name the operator typed.

A value that came from a variable is reported under the variable's name (``PORT: ...``); one from
config.yaml under its dotted path (``server.port: ...``).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from gomodel.config import ConfigError, load

OPENAI = {"OPENAI_API_KEY": "sk-test"}

WriteYaml = Callable[..., str]


@pytest.fixture(autouse=True)
def _empty_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def write_yaml(tmp_path: Path) -> WriteYaml:
    def write(text: str, name: str = "gomodel.yaml") -> str:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return str(path)

    return write


def problems(config_path: str | None, env: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load(config_path, env)
    return info.value.problems


def only_problem(config_path: str | None, env: dict[str, str]) -> str:
    found = problems(config_path, env)
    assert len(found) == 1, found
    return found[0]


# --- values from the environment ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("PORT", "abc", "PORT: expected an integer, got 'abc'"),
        ("GOMODEL_WORKERS", "two", "GOMODEL_WORKERS: expected an integer, got 'two'"),
        ("HTTP_TIMEOUT", "soon", "HTTP_TIMEOUT: expected a duration like 30s, 5m or 250ms, got 'soon'"),
        ("BODY_SIZE_LIMIT", "1.5M", "BODY_SIZE_LIMIT: expected a size like 10M or 512K, got '1.5M'"),
        ("ACCESS_LOG_ENABLED", "maybe", "ACCESS_LOG_ENABLED: expected true or false, got 'maybe'"),
        (
            "CONFIGURED_PROVIDER_MODELS_MODE",
            "bogus",
            "CONFIGURED_PROVIDER_MODELS_MODE: must be one of fallback, allowlist",
        ),
        ("LOG_FORMAT", "xml", "LOG_FORMAT: must be one of auto, text, json"),
        ("LOG_LEVEL", "verbose", "LOG_LEVEL: must be one of debug, info, warning, error"),
    ],
)
def test_bad_env_value_is_reported_under_the_variable_name(variable: str, value: str, expected: str) -> None:
    assert only_problem(None, {**OPENAI, variable: value}) == expected


def test_bad_base_url_from_env() -> None:
    assert only_problem(None, {**OPENAI, "OPENAI_BASE_URL": "ftp://files.example"}) == (
        "OPENAI_BASE_URL: not an http(s) URL: 'ftp://files.example'"
    )


def test_missing_credential_names_the_key_variable() -> None:
    problem = only_problem(None, {"AZURE_BASE_URL": "https://r.openai.azure.com"})

    assert problem.startswith("AZURE_API_KEY: missing credential for provider azure")
    assert "AZURE_BASE_URL" in problem


def test_models_without_a_key_is_a_missing_credential() -> None:
    problem = only_problem(None, {"OPENAI_EAST_MODELS": "a,b"})

    assert problem.startswith("OPENAI_EAST_API_KEY: missing credential for provider openai-east")


def test_unsupported_api_mode() -> None:
    assert only_problem(None, {"GEMINI_API_KEY": "AIza", "GEMINI_API_MODE": "grpc"}) == (
        "GEMINI_API_MODE: 'grpc' is not supported (supported: native, openai_compatible)"
    )


@pytest.mark.parametrize(
    ("env", "base_url_variable"),
    [
        ({"ORACLE_API_KEY": "oc"}, "ORACLE_BASE_URL"),
        ({"AZURE_API_KEY": "az"}, "AZURE_BASE_URL"),
    ],
)
def test_provider_without_default_url_requires_a_base_url(
    env: dict[str, str], base_url_variable: str
) -> None:
    problem = only_problem(None, env)

    assert problem.startswith(f"{base_url_variable}: required for provider")


def test_missing_base_url_of_an_env_provider_names_the_variable() -> None:
    assert only_problem(None, {"ORACLE_API_KEY": "oc"}).startswith("ORACLE_BASE_URL: required")


def test_out_of_range_env_value_names_the_variable() -> None:
    assert only_problem(None, {**OPENAI, "PORT": "99999"}).startswith("PORT:")


def test_every_invalid_field_of_a_section_is_reported() -> None:
    found = problems(None, {**OPENAI, "PORT": "abc", "GOMODEL_WORKERS": "0"})

    assert any(p.startswith("PORT:") for p in found)
    assert any(p.startswith("GOMODEL_WORKERS:") for p in found)


def test_out_of_range_value_is_still_reported() -> None:
    assert "65535" in only_problem(None, {**OPENAI, "PORT": "99999"})


def test_no_providers_at_all() -> None:
    assert only_problem(None, {}).startswith("no providers configured")


def test_blank_credentials_count_as_no_providers() -> None:
    assert only_problem(None, {"OPENAI_API_KEY": "  "}).startswith("no providers configured")


def test_no_providers_is_reported_alongside_other_problems() -> None:
    found = problems(None, {"PORT": "abc"})

    assert any(p.startswith("no providers configured") for p in found)


# --- values from YAML -----------------------------------------------------------------------------


def test_bad_yaml_value_is_reported_under_its_dotted_path(write_yaml: WriteYaml) -> None:
    path = write_yaml("server:\n  port: abc\n")

    assert only_problem(path, OPENAI) == "server.port: expected an integer, got 'abc'"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("server:\n  bogus: 1\n", "server.bogus: unknown key"),
        ("bogus: 1\n", "bogus: unknown key"),
        ("server: 5\n", "server: expected a mapping"),
        ("providers: 5\n", "providers: expected a mapping of name -> settings"),
        ("providers:\n  x: 5\n", "providers.x: expected a mapping"),
        ("providers:\n  x:\n    api_key: k\n", "providers.x.type: required key missing"),
        ("providers:\n  x:\n    type: openai\n", "providers.x.api_key: missing credential for provider x"),
        (
            "providers:\n  x:\n    type: openai\n    api_key: k\n    organisation: o\n",
            "providers.x.organisation: unknown key",
        ),
        (
            "providers:\n  x:\n    type: openai\n    api_key: k\n    models: [1, 2]\n",
            "providers.x.models: expected a list of model ids or a comma-separated string",
        ),
        (
            "providers:\n  x:\n    type: openai\n    api_key: k\n    base_url: localhost:8000\n",
            "providers.x.base_url: not an http(s) URL: 'localhost:8000'",
        ),
        (
            "providers:\n  x:\n    type: oracle\n    api_key: k\n",
            "providers.x.base_url: required for provider x (type oracle)",
        ),
    ],
)
def test_yaml_problem(write_yaml: WriteYaml, text: str, expected: str) -> None:
    # A valid provider from the environment keeps "no providers configured" out of the way.
    assert only_problem(write_yaml(text), {"OPENAI_API_KEY": "k"}) == expected


def test_unknown_provider_type_lists_the_known_ones(write_yaml: WriteYaml) -> None:
    problem = only_problem(write_yaml("providers:\n  x:\n    type: anthropic-ish\n"), {})

    assert problem.startswith("providers.x.type: unknown provider type 'anthropic-ish' (known: ")
    assert "openai" in problem
    assert "gemini" in problem


def test_invalid_provider_name(write_yaml: WriteYaml) -> None:
    problem = only_problem(write_yaml("providers:\n  My Provider:\n    type: openai\n    api_key: k\n"), {})

    assert problem.startswith("providers.My Provider: a provider name uses lowercase letters")


def test_missing_env_reference_expands_to_empty(write_yaml: WriteYaml) -> None:
    path = write_yaml("providers:\n  x:\n    type: openai\n    api_key: ${NOT_SET}\n")

    assert only_problem(path, {}) == "providers.x.api_key: missing credential for provider x"


def test_duplicate_provider_names_in_list_form_are_reported(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        """
        providers:
          - name: main
            type: openai
            api_key: sk-1
          - name: main
            type: groq
            api_key: gsk-1
        """
    )

    assert any("main" in p and "duplicate" in p for p in problems(path, {}))


# --- the file itself ------------------------------------------------------------------------------


def test_invalid_yaml_names_the_file_and_line(write_yaml: WriteYaml) -> None:
    path = write_yaml("server:\n  port: 1\nproviders: [\n")

    problem = only_problem(path, OPENAI)

    assert problem.startswith(f"config file {path}: not valid YAML (line ")


def test_missing_config_file(tmp_path: Path) -> None:
    path = str(tmp_path / "absent.yaml")

    assert only_problem(path, OPENAI) == f"config file {path}: No such file or directory"


def test_config_path_that_is_a_directory(tmp_path: Path) -> None:
    assert only_problem(str(tmp_path), OPENAI).startswith(f"config file {tmp_path}: ")


def test_missing_file_named_by_gomodel_config(tmp_path: Path) -> None:
    path = str(tmp_path / "absent.yaml")

    assert only_problem(None, {**OPENAI, "GOMODEL_CONFIG": path}).startswith(f"config file {path}:")


def test_top_level_must_be_a_mapping(write_yaml: WriteYaml) -> None:
    assert "the top level must be a mapping" in only_problem(write_yaml("- a\n- b\n"), OPENAI)


def test_top_level_problem_names_the_file_read(write_yaml: WriteYaml) -> None:
    path = write_yaml("- a\n", name="gateway.yaml")

    assert path in only_problem(path, OPENAI)


# --- all together ---------------------------------------------------------------------------------


@pytest.fixture
def many_problems(write_yaml: WriteYaml) -> ConfigError:
    path = write_yaml(
        """
        bogus: 1
        server:
          bogus: 1
        http:
          timeout: soon
        providers:
          x:
            type: nope
          y:
            type: openai
            api_key: k
            base_url: not-a-url
        """
    )
    env = {
        "PORT": "abc",
        "CONFIGURED_PROVIDER_MODELS_MODE": "bogus",
        "AZURE_BASE_URL": "https://r.openai.azure.com",
        "GEMINI_API_KEY": "AIza",
        "GEMINI_API_MODE": "grpc",
    }
    with pytest.raises(ConfigError) as info:
        load(path, env)
    return info.value


@pytest.mark.parametrize(
    "prefix",
    [
        "bogus: unknown key",
        "server.bogus: unknown key",
        "PORT: expected an integer, got 'abc'",
        "http.timeout: expected a duration",
        "CONFIGURED_PROVIDER_MODELS_MODE: must be one of",
        "providers.x.type: unknown provider type 'nope'",
        "providers.y.base_url: not an http(s) URL",
        "AZURE_API_KEY: missing credential",
        "GEMINI_API_MODE: 'grpc' is not supported",
    ],
)
def test_every_problem_is_reported_at_once(many_problems: ConfigError, prefix: str) -> None:
    assert any(p.startswith(prefix) for p in many_problems.problems), many_problems.problems


def test_problem_count_matches(many_problems: ConfigError) -> None:
    assert len(many_problems.problems) == 9, many_problems.problems


def test_str_is_one_line_joining_every_problem(many_problems: ConfigError) -> None:
    text = str(many_problems)

    assert "\n" not in text
    assert text == "; ".join(many_problems.problems)
