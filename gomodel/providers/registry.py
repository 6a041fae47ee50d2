"""Build the provider instances the configuration declares, in declaration order."""

from __future__ import annotations

from gomodel.config.schema import Config
from gomodel.providers.openai_compatible import OpenAICompatibleProvider
from gomodel.providers.specs import SPECS

__all__ = ["Provider", "build_providers"]

Provider = OpenAICompatibleProvider


def build_providers(config: Config) -> list[Provider]:
    return [OpenAICompatibleProvider(p, SPECS[p.type], config.http) for p in config.providers]
