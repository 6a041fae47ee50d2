"""Typed configuration: defaults, then config.yaml, then environment variables (which always win)."""

from __future__ import annotations

from gomodel.config.errors import ConfigError
from gomodel.config.loader import load
from gomodel.config.schema import (
    Config,
    HTTPConfig,
    LoggingConfig,
    ModelsConfig,
    ProviderConfig,
    ServerConfig,
    UsageConfig,
)

__all__ = [
    "Config",
    "ConfigError",
    "HTTPConfig",
    "LoggingConfig",
    "ModelsConfig",
    "ProviderConfig",
    "ServerConfig",
    "UsageConfig",
    "load",
]
