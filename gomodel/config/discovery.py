"""Providers from the environment: ``<PREFIX>_API_KEY`` and friends, and suffixed instances.

``OPENAI_EAST_API_KEY`` + ``OPENAI_EAST_BASE_URL`` + ``OPENAI_EAST_MODELS`` registers provider
``openai-east`` of type ``openai``; the same pattern works for every type in ``providers.specs``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import attrs

from gomodel.providers.specs import SPECS, ProviderSpec

__all__ = ["EnvProvider", "discover"]

FIELDS = ("API_KEY", "BASE_URL", "MODELS", "API_VERSION", "API_MODE")
#: Variables other tools own: the openai SDK reads AZURE_OPENAI_API_KEY, and a machine that has it set
#: must not grow a half-configured "azure-openai" provider that stops the gateway from starting.
_FOREIGN = re.compile(r"^AZURE_OPENAI_")


@attrs.frozen(kw_only=True)
class EnvProvider:
    """One provider as the environment describes it; ``variables`` maps field -> variable name."""

    name: str
    spec: ProviderSpec
    suffix: str
    values: dict[str, str]
    variables: dict[str, str]
    headers: dict[str, str]

    def variable(self, field: str) -> str:
        """The variable that sets ``field`` (``API_KEY``, ``BASE_URL``...) for this instance."""
        return (
            f"{self.spec.env_prefix}_{self.suffix}_{field}"
            if self.suffix
            else f"{self.spec.env_prefix}_{field}"
        )

    @property
    def registers(self) -> bool:
        """Credentials (or what stands for them: a local server's URL, a Vertex project) are present."""
        return any(self.values.get(field) for field in self.spec.registers_on)


def _patterns() -> list[tuple[ProviderSpec, re.Pattern[str]]]:
    # Longest prefix first so that a prefix which extends another one claims its own variables.
    ordered = sorted(SPECS.values(), key=lambda spec: len(spec.env_prefix), reverse=True)
    patterns = []
    for spec in ordered:
        fields = "|".join((*FIELDS, *spec.option_fields))
        patterns.append(
            # Lazy "??": a whole option name (MESSAGES_MODELS) wins over suffix + field (MESSAGES + MODELS).
            (spec, re.compile(rf"^{spec.env_prefix}(?:_([A-Z0-9]+(?:_[A-Z0-9]+)*?))??_({fields})$"))
        )
    return patterns


_PATTERNS = _patterns()


def discover(env: Mapping[str, str]) -> list[EnvProvider]:
    """Every provider instance the environment mentions, in a stable order (base type first)."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    specs: dict[str, ProviderSpec] = {}
    claimed: set[str] = set()
    for spec, pattern in _PATTERNS:
        for name in sorted(env):
            if name in claimed or not env[name].strip() or _FOREIGN.match(name):
                continue
            match = pattern.match(name)
            if match is None:
                continue
            claimed.add(name)
            suffix = match.group(1) or ""
            found.setdefault((spec.type, suffix), {})[match.group(2)] = name
            specs[spec.type] = spec
    order = list(SPECS)
    result: list[EnvProvider] = []
    for (provider_type, suffix), variables in sorted(
        found.items(), key=lambda kv: (order.index(kv[0][0]), kv[0][1])
    ):
        spec = specs[provider_type]
        name = provider_type if not suffix else f"{provider_type}-{suffix.lower().replace('_', '-')}"
        values = {field: env[var].strip() for field, var in variables.items()}
        result.append(
            EnvProvider(
                name=name,
                spec=spec,
                suffix=suffix,
                values=values,
                variables=variables,
                headers=_extra_headers(spec, suffix, env),
            )
        )
    return result


def _extra_headers(spec: ProviderSpec, suffix: str, env: Mapping[str, str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for extra in spec.extra_headers:
        own = f"{spec.env_prefix}_{suffix}_{extra.env_suffix}" if suffix else None
        base = f"{spec.env_prefix}_{extra.env_suffix}"
        value = (own and env.get(own)) or env.get(base)
        if value:
            headers[extra.header] = value
    return headers
