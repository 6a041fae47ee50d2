"""JSON Schemas adapted to what Anthropic's structured outputs and strict tools accept.

OpenAI tolerates an object schema that leaves ``additionalProperties`` out; Anthropic's constrained
decoding requires it to be explicitly false on every object, and it takes ``anyOf`` but not
``oneOf``. Everything else is passed on unchanged so the upstream, not the gateway, judges the rest.
"""

from __future__ import annotations

from typing import Any

__all__ = ["strict_schema"]

_SCHEMA_LISTS = ("anyOf", "allOf", "prefixItems")
_SCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties")
_SCHEMA_VALUES = ("items", "additionalItems", "not", "contains")


def strict_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` with closed objects and ``oneOf`` spelled ``anyOf``; the input is not changed."""
    out = dict(schema)
    if "oneOf" in out and "anyOf" not in out:
        out["anyOf"] = out.pop("oneOf")
    for key in _SCHEMA_LISTS:
        if isinstance(out.get(key), list):
            out[key] = [_sub(item) for item in out[key]]
    for key in _SCHEMA_MAPS:
        if isinstance(out.get(key), dict):
            out[key] = {name: _sub(item) for name, item in out[key].items()}
    for key in _SCHEMA_VALUES:
        if key in out:
            out[key] = _sub(out[key])
    if _is_object(out):
        out["additionalProperties"] = False
    return out


def _sub(value: Any) -> Any:
    return strict_schema(value) if isinstance(value, dict) else value


def _is_object(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    if isinstance(kind, list):
        return "object" in kind
    return kind == "object" or (kind is None and "properties" in schema)
