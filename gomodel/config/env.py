"""Environment variables for the scalar settings, and where each one lands in the config tree."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["ENV_SETTINGS", "overlay_env"]

#: variable -> (section, key). Values are parsed by the same converter as config.yaml values.
ENV_SETTINGS: dict[str, tuple[str, str]] = {
    "PORT": ("server", "port"),
    "BASE_PATH": ("server", "base_path"),
    "GOMODEL_MASTER_KEY": ("server", "master_key"),
    "BODY_SIZE_LIMIT": ("server", "body_size_limit"),
    "USER_PATH_HEADER": ("server", "user_path_header"),
    "SHUTDOWN_TIMEOUT": ("server", "shutdown_timeout"),
    "GOMODEL_WORKERS": ("server", "workers"),
    "HTTP_CONNECT_TIMEOUT": ("http", "connect_timeout"),
    "HTTP_RESPONSE_HEADER_TIMEOUT": ("http", "response_header_timeout"),
    "HTTP_STREAM_IDLE_TIMEOUT": ("http", "stream_idle_timeout"),
    "HTTP_TIMEOUT": ("http", "timeout"),
    "HTTP_MAX_CONNECTIONS_PER_PROVIDER": ("http", "max_connections_per_provider"),
    "CONFIGURED_PROVIDER_MODELS_MODE": ("models", "configured_provider_models_mode"),
    "CACHE_REFRESH_INTERVAL": ("models", "refresh_interval"),
    "MODELS_FETCH_TIMEOUT": ("models", "fetch_timeout"),
    "ENFORCE_RETURNING_USAGE_DATA": ("usage", "enforce_returning_usage_data"),
    "USAGE_BUFFER_SIZE": ("usage", "buffer_size"),
    "LOG_FORMAT": ("logging", "format"),
    "LOG_LEVEL": ("logging", "level"),
    "ACCESS_LOG_ENABLED": ("logging", "access_log"),
}


def overlay_env(raw: dict[str, Any], env: Mapping[str, str]) -> dict[str, str]:
    """Write set variables into ``raw`` (env wins over YAML).

    Returns config path -> variable name, so a bad value is reported under the name the operator typed.
    """
    origins: dict[str, str] = {}
    for name, (section, key) in ENV_SETTINGS.items():
        value = env.get(name)
        if value is None or value == "":
            continue
        target = raw.get(section)
        if target is None:  # absent, or present with every child commented out
            target = raw[section] = {}
        if not isinstance(target, dict):
            continue  # the YAML section itself is malformed; that error is reported by the converter
        target[key] = value.lower() if section == "logging" and key in {"format", "level"} else value
        origins[f"{section}.{key}"] = name
    return origins
