"""`load()`: defaults -> config.yaml -> environment, validated in one pass that reports every problem."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override

from gomodel.config.discovery import FIELDS, EnvProvider, discover
from gomodel.config.env import overlay_env
from gomodel.config.errors import ConfigError
from gomodel.config.schema import (
    ByteSize,
    Config,
    Count,
    HTTPConfig,
    LoggingConfig,
    ModelsConfig,
    Port,
    ProviderConfig,
    Seconds,
    ServerConfig,
    UsageConfig,
)
from gomodel.config.units import parse_bool, parse_duration, parse_size
from gomodel.providers.specs import SPECS

__all__ = ["find_config_file", "load"]

_SECTIONS: dict[str, type[Any]] = {
    "server": ServerConfig,
    "http": HTTPConfig,
    "models": ModelsConfig,
    "usage": UsageConfig,
    "logging": LoggingConfig,
}
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_PROVIDER_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True)
    conv.register_structure_hook(Seconds, lambda v, _: Seconds(parse_duration(v)))
    conv.register_structure_hook(ByteSize, lambda v, _: ByteSize(parse_size(v)))
    conv.register_structure_hook(bool, lambda v, _: parse_bool(v))
    conv.register_structure_hook(int, _structure_int)
    conv.register_structure_hook(Port, lambda v, _: Port(_in_range(_structure_int(v, None), 0, 65535)))
    conv.register_structure_hook(Count, lambda v, _: Count(_in_range(_structure_int(v, None), 1, None)))
    conv.register_structure_hook(
        ProviderConfig,
        make_dict_structure_fn(
            ProviderConfig,
            conv,
            _cattrs_forbid_extra_keys=True,
            models=override(struct_hook=_structure_models),
        ),
    )
    return conv


def _structure_int(value: object, _: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"expected an integer, got {value!r}")
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"expected an integer, got {value!r}") from None


def _in_range(value: int, low: int, high: int | None) -> int:
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValueError(f"must be {bound}, got {value}")
    return value


def _structure_models(value: object, _: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(m.strip() for m in value.split(",") if m.strip())
    if isinstance(value, list) and all(isinstance(m, str) for m in value):
        return tuple(m.strip() for m in value if m.strip())
    raise ValueError("expected a list of model ids or a comma-separated string")


_CONVERTER = _converter()


def find_config_file(explicit: str | None, env: Mapping[str, str]) -> Path | None:
    """``--config``, else ``GOMODEL_CONFIG``, else ``./config.yaml`` when it exists."""
    if explicit:
        return Path(explicit)
    if env.get("GOMODEL_CONFIG"):
        return Path(env["GOMODEL_CONFIG"])
    default = Path("config.yaml")
    return default if default.is_file() else None


def load(config_path: str | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Build the configuration, or raise `ConfigError` listing every problem found."""
    env = os.environ if env is None else env
    problems: list[str] = []
    raw = _read_yaml(find_config_file(config_path, env), env, problems)
    if not isinstance(raw, dict):
        source = find_config_file(config_path, env)
        raise ConfigError([*problems, f"config file {source}: the top level must be a mapping"])
    unknown = sorted(set(raw) - {*_SECTIONS, "providers"})
    problems.extend(f"{key}: unknown key" for key in unknown)
    origins = overlay_env(raw, env)

    sections: dict[str, Any] = {}
    for name, cls in _SECTIONS.items():
        section = raw.get(name) or {}
        if not isinstance(section, dict):
            problems.append(f"{name}: expected a mapping")
            continue
        try:
            sections[name] = _CONVERTER.structure(section, cls)
        except Exception as exc:
            problems.extend(_describe(exc, name, origins))

    providers, mentioned = _providers(raw.get("providers"), env, problems)
    if not mentioned:
        problems.append(
            "no providers configured: set a provider's credentials (e.g. OPENAI_API_KEY, or OLLAMA_BASE_URL "
            "for a local server) or declare providers in config.yaml"
        )
    if problems:
        raise ConfigError(problems)
    return Config(providers=tuple(providers), **sections)


def _read_yaml(path: Path | None, env: Mapping[str, str], problems: list[str]) -> Any:
    if path is None:
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        problems.append(f"config file {path}: {exc.strerror or exc}")
        return {}
    import yaml  # noqa: PLC0415 - only needed when there is a file; saves startup time otherwise

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problems.append(f"config file {path}: not valid YAML{where}")
        return {}
    return _expand(data if data is not None else {}, env)


def _expand(value: Any, env: Mapping[str, str]) -> Any:
    """``${VAR}`` in YAML strings takes the variable's value, so secrets can stay out of the file."""
    if isinstance(value, str):
        return _ENV_REF.sub(lambda m: env.get(m.group(1), ""), value)
    if isinstance(value, list):
        return [_expand(v, env) for v in value]
    if isinstance(value, dict):
        return {k: _expand(v, env) for k, v in value.items()}
    return value


def _describe(exc: Exception, root: str, origins: Mapping[str, str]) -> list[str]:
    """cattrs' messages ("... @ $.port") as "server.port: ...", or the variable name when env set it."""
    if isinstance(
        exc, cattrs.ClassValidationError | cattrs.IterableValidationError | cattrs.ForbiddenExtraKeysError
    ):
        messages = cattrs.transform_error(exc, path="$", format_exception=_format_leaf)
    else:
        messages = [f"{_format_leaf(exc, None)} @ $"]
    result: list[str] = []
    for message in messages:
        text, _, path = message.rpartition(" @ ")
        dotted = root + path[1:] if path.startswith("$") else f"{root}.{path}"
        if text.startswith("extra fields found"):
            keys = text[text.find("(") + 1 : text.rfind(")")]
            result.extend(f"{dotted}.{key.strip()}: unknown key" for key in keys.split(","))
            continue
        result.append(f"{origins.get(dotted, dotted)}: {text}")
    return result


def _format_leaf(exc: BaseException, type_: type[Any] | None) -> str:
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        return f"extra fields found ({', '.join(sorted(exc.extra_fields))})"
    if isinstance(exc, KeyError):
        return "required key missing"
    if isinstance(exc, ValueError) and str(exc):
        return str(exc)
    if type_ is not None and getattr(type_, "__origin__", None) is not None:
        allowed = getattr(type_, "__args__", ())
        return f"must be one of {', '.join(map(str, allowed))}"
    return str(exc) or type(exc).__name__


def _providers(raw: Any, env: Mapping[str, str], problems: list[str]) -> tuple[list[ProviderConfig], bool]:
    """Valid providers, and whether any provider was mentioned at all (valid or not)."""
    declared = _yaml_providers(raw, problems)
    mentioned = bool(declared) or raw not in (None, {}, [])
    labels: dict[str, dict[str, str]] = {name: {} for name in declared}
    for found in discover(env):
        mentioned = True
        if not found.registers and found.name not in declared:
            problems.append(_missing_credential(found))
            continue
        # An env-only provider is fixed with variables, so every message names the variable to set.
        fields = (*FIELDS, *found.spec.option_fields) if found.name not in declared else found.variables
        labels.setdefault(found.name, {}).update(
            {_field_key(field): found.variable(field) for field in fields}
        )
        declared[found.name] = _merge(declared.get(found.name), found)
    gemini_native = _gemini_native_default(env, problems)
    result = []
    for name, declared_provider in declared.items():
        provider = declared_provider
        if provider.type == "gemini" and provider.api_mode is None and gemini_native is False:
            # The global switch only fills in a mode the provider itself leaves unset.
            provider = attrs.evolve(provider, api_mode="openai_compatible")
        if _valid(provider, labels[name], problems):
            result.append(provider)
    return result, mentioned


def _gemini_native_default(env: Mapping[str, str], problems: list[str]) -> bool | None:
    """``USE_GOOGLE_GEMINI_NATIVE_API`` (GoModel's switch): None when unset, which means native."""
    raw = env.get("USE_GOOGLE_GEMINI_NATIVE_API", "").strip()
    if not raw:
        return None
    try:
        return parse_bool(raw)
    except ValueError as exc:
        problems.append(f"USE_GOOGLE_GEMINI_NATIVE_API: {exc}")
        return None


def _field_key(field: str) -> str:
    """Environment field -> config key: ``API_KEY`` -> ``api_key``, ``PROJECT`` -> ``options.project``."""
    key = field.lower()
    return key if field in FIELDS else f"options.{key}"


def _missing_credential(found: EnvProvider) -> str:
    need = found.variable(found.spec.registers_on[0])
    given = ", ".join(sorted(found.variables.values()))
    return f"{need}: missing credential for provider {found.name} ({given} set)"


def _yaml_providers(raw: Any, problems: list[str]) -> dict[str, ProviderConfig]:
    if raw is None:
        return {}
    entries: list[tuple[str, Any]]
    if isinstance(raw, dict):
        entries = [(str(name), body) for name, body in raw.items()]
    elif isinstance(raw, list):
        entries = [(str(item.get("name", "")) if isinstance(item, dict) else "", item) for item in raw]
    else:
        problems.append("providers: expected a mapping of name -> settings")
        return {}
    result: dict[str, ProviderConfig] = {}
    for name, body in entries:
        label = f"providers.{name or '?'}"
        if not isinstance(body, dict):
            problems.append(f"{label}: expected a mapping")
            continue
        if name in result:
            problems.append(f"{label}: duplicate provider name")
            continue
        try:
            result[name] = _CONVERTER.structure({**body, "name": name}, ProviderConfig)
        except Exception as exc:
            problems.extend(_describe(exc, label, {}))
    return result


def _merge(base: ProviderConfig | None, found: EnvProvider) -> ProviderConfig:
    values = found.values
    models = _structure_models(values["MODELS"], None) if "MODELS" in values else None
    if base is None:
        base = ProviderConfig(name=found.name, type=found.spec.type)
    return attrs.evolve(
        base,
        api_key=values.get("API_KEY", base.api_key),
        base_url=values.get("BASE_URL", base.base_url),
        api_version=values.get("API_VERSION", base.api_version),
        api_mode=values.get("API_MODE", base.api_mode),
        models=models if models is not None else base.models,
        headers={**base.headers, **found.headers},
        options={
            **base.options,
            **{field.lower(): values[field] for field in found.spec.option_fields if field in values},
        },
    )


def _valid(provider: ProviderConfig, env_labels: Mapping[str, str], problems: list[str]) -> bool:
    def label(key: str) -> str:
        return env_labels.get(key) or f"providers.{provider.name}.{key}"

    before = len(problems)
    if not _PROVIDER_NAME.match(provider.name):
        problems.append(
            f"providers.{provider.name}: a provider name uses lowercase letters, digits, '.', '_' and '-'"
        )
    spec = SPECS.get(provider.type)
    if spec is None:
        known = ", ".join(sorted(SPECS))
        problems.append(f"{label('type')}: unknown provider type {provider.type!r} (known: {known})")
        return False
    if provider.base_url is None and spec.needs_base_url:
        problems.append(f"{label('base_url')}: required for provider {provider.name} (type {spec.type})")
    elif (
        provider.base_url is not None
        and not _is_http_url(provider.base_url)
        and not (spec.base_url_may_be_region and _REGION.match(provider.base_url))
    ):
        problems.append(f"{label('base_url')}: not an http(s) URL: {provider.base_url!r}")
    if not provider.api_key and spec.api_key_required:
        problems.append(f"{label('api_key')}: missing credential for provider {provider.name}")
    for option in spec.required_options:
        if not provider.options.get(option.lower()):
            key = f"options.{option.lower()}"
            problems.append(f"{label(key)}: required for provider {provider.name} (type {spec.type})")
    if provider.api_mode is not None and provider.api_mode not in spec.api_modes:
        allowed = ", ".join(spec.api_modes) or "none"
        problems.append(f"{label('api_mode')}: {provider.api_mode!r} is not supported (supported: {allowed})")
    return len(problems) == before


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)
