"""The configuration model. Field names are the config.yaml keys; `env.py` maps the variables."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, NewType

import attrs

__all__ = [
    "ByteSize",
    "Config",
    "HTTPConfig",
    "LoggingConfig",
    "ModelsConfig",
    "ModelsMode",
    "ProviderConfig",
    "Seconds",
    "ServerConfig",
    "UsageConfig",
]

#: Credentials that providers take from the environment themselves rather than from this config.
ENV_SECRETS = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_BEARER_TOKEN_BEDROCK", "BEDROCK_API_KEY")

#: Seconds; config accepts numbers or strings such as "30s", "5m", "250ms".
Seconds = NewType("Seconds", float)
#: Bytes; config accepts numbers or strings such as "10M", "512K".
ByteSize = NewType("ByteSize", int)
#: A TCP port, 0-65535 (0 lets the OS pick, useful in tests).
Port = NewType("Port", int)
#: A positive whole number (workers, buffer sizes, connection limits).
Count = NewType("Count", int)

ModelsMode = Literal["fallback", "allowlist"]
LogFormat = Literal["auto", "text", "json"]
LogLevel = Literal["debug", "info", "warning", "error"]


@attrs.frozen(kw_only=True)
class ServerConfig:
    host: str = "0.0.0.0"
    port: Port = Port(8080)
    base_path: str = "/"
    master_key: str | None = attrs.field(default=None, repr=False)
    body_size_limit: ByteSize = ByteSize(10 * 1024 * 1024)
    user_path_header: str = "X-GoModel-User-Path"
    #: Grace period on SIGTERM for in-flight requests and streams before connections are cut.
    shutdown_timeout: Seconds = Seconds(30.0)
    workers: Count = Count(1)


@attrs.frozen(kw_only=True)
class HTTPConfig:
    """Upstream client limits. Timeouts are in seconds."""

    connect_timeout: Seconds = Seconds(10.0)
    #: Until the upstream's response headers arrive (a slow model may think for a long time).
    response_header_timeout: Seconds = Seconds(600.0)
    #: Silence allowed between two chunks of a streamed body.
    stream_idle_timeout: Seconds = Seconds(300.0)
    #: Whole exchange for a non-streaming request.
    timeout: Seconds = Seconds(600.0)
    max_connections_per_provider: Count = Count(1024)
    keepalive_timeout: Seconds = Seconds(60.0)


@attrs.frozen(kw_only=True)
class ModelsConfig:
    configured_provider_models_mode: ModelsMode = "fallback"
    refresh_interval: Seconds = Seconds(3600.0)
    #: Per provider, for one model-list fetch; a slow provider never holds up the others.
    fetch_timeout: Seconds = Seconds(10.0)


@attrs.frozen(kw_only=True)
class UsageConfig:
    #: Ask OpenAI-compatible upstreams for stream usage even when the client did not.
    enforce_returning_usage_data: bool = True
    #: Records waiting for the sink; when full, new records are counted as dropped.
    buffer_size: Count = Count(10_000)


@attrs.frozen(kw_only=True)
class LoggingConfig:
    format: LogFormat = "auto"
    level: LogLevel = "info"
    #: One line per HTTP request; off saves a little CPU at very high request rates.
    access_log: bool = True


@attrs.frozen(kw_only=True)
class ProviderConfig:
    name: str
    type: str
    api_key: str | None = attrs.field(default=None, repr=False)
    base_url: str | None = None
    api_version: str | None = None
    api_mode: str | None = None
    models: tuple[str, ...] = ()
    headers: dict[str, str] = attrs.field(factory=dict, repr=False)
    #: Type-specific settings (Vertex ``project``/``location``, OpenCode Go ``messages_models``...).
    options: dict[str, str] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class Config:
    server: ServerConfig = ServerConfig()
    http: HTTPConfig = HTTPConfig()
    models: ModelsConfig = ModelsConfig()
    usage: UsageConfig = UsageConfig()
    logging: LoggingConfig = LoggingConfig()
    providers: tuple[ProviderConfig, ...] = ()

    def secrets(self, env: Mapping[str, str] | None = None) -> list[str]:
        """Every credential the gateway holds, so logging can redact them wherever they appear.

        ``env`` adds credentials providers read straight from the environment (AWS's chain).
        """
        values = [self.server.master_key] + [p.api_key for p in self.providers]
        values += [(env or {}).get(name) for name in ENV_SECRETS]
        return [v for v in values if v]
