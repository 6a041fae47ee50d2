"""Build the provider instances the configuration declares, in declaration order.

Implementations are imported only for the types actually configured, so a gateway in front of
OpenAI alone never pays for botocore or google-auth.
"""

from __future__ import annotations

import importlib
from typing import Any

import attrs

from gomodel.config.schema import Config, HTTPConfig, ProviderConfig
from gomodel.providers.base import Provider
from gomodel.providers.specs import OPENAI_COMPATIBLE, SPECS, ProviderSpec

__all__ = ["Provider", "build_provider", "build_providers"]


def _load(path: str) -> Any:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def build_provider(config: ProviderConfig, http: HTTPConfig) -> Provider:
    spec: ProviderSpec = SPECS[config.type]
    implementation = spec.implementation
    mode = config.api_mode or (spec.api_modes[0] if spec.api_modes else None)
    if mode == "openai_compatible" and spec.openai_compatible_base_url is not None:
        # Native-first types (Gemini) also speak OpenAI's dialect at another base URL.
        spec = attrs.evolve(spec, default_base_url=spec.openai_compatible_base_url)
        implementation = OPENAI_COMPATIBLE
        base = (config.base_url or "").rstrip("/")
        if base and not base.endswith("/openai"):
            # GEMINI_BASE_URL names the native root (.../v1beta); the OpenAI dialect lives below it.
            config = attrs.evolve(config, base_url=base + "/openai")
    provider: Provider = _load(implementation)(config, spec, http)
    return provider


def build_providers(config: Config) -> list[Provider]:
    return [build_provider(p, config.http) for p in config.providers]
