"""`gomodel.config.env.overlay_env`: scalar settings from variables, written over the YAML tree."""

from __future__ import annotations

from typing import Any

from gomodel.config.env import ENV_SETTINGS, overlay_env


def test_overlay_writes_each_variable_into_its_section() -> None:
    raw: dict[str, Any] = {}

    overlay_env(raw, {"PORT": "9000", "HTTP_TIMEOUT": "30s", "USAGE_BUFFER_SIZE": "10"})

    assert raw == {
        "server": {"port": "9000"},
        "http": {"timeout": "30s"},
        "usage": {"buffer_size": "10"},
    }


def test_overlay_returns_config_path_to_variable_name() -> None:
    origins = overlay_env({}, {"PORT": "9000", "CONFIGURED_PROVIDER_MODELS_MODE": "allowlist"})

    assert origins == {
        "server.port": "PORT",
        "models.configured_provider_models_mode": "CONFIGURED_PROVIDER_MODELS_MODE",
    }


def test_overlay_wins_over_yaml_values_and_keeps_the_rest() -> None:
    raw: dict[str, Any] = {"server": {"port": 7000, "host": "127.0.0.1"}}

    overlay_env(raw, {"PORT": "9000"})

    assert raw == {"server": {"port": "9000", "host": "127.0.0.1"}}


def test_overlay_ignores_unset_and_empty_variables() -> None:
    raw: dict[str, Any] = {"server": {"port": 7000}}

    origins = overlay_env(raw, {"PORT": "", "UNRELATED": "x"})

    assert raw == {"server": {"port": 7000}}
    assert origins == {}


def test_overlay_lowercases_log_format_and_level_only() -> None:
    raw: dict[str, Any] = {}

    overlay_env(raw, {"LOG_FORMAT": "JSON", "LOG_LEVEL": "DEBUG", "BASE_PATH": "/Gateway"})

    assert raw["logging"] == {"format": "json", "level": "debug"}
    assert raw["server"] == {"base_path": "/Gateway"}


def test_overlay_leaves_a_malformed_section_for_the_converter_to_report() -> None:
    raw: dict[str, Any] = {"server": 5}

    origins = overlay_env(raw, {"PORT": "9000"})

    assert raw == {"server": 5}
    assert origins == {}


def test_every_setting_targets_a_known_section() -> None:
    sections = {section for section, _ in ENV_SETTINGS.values()}

    assert sections <= {"server", "http", "models", "usage", "logging"}
