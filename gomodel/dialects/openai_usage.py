"""Token usage in the OpenAI shape (chat completions and embeddings share it)."""

from __future__ import annotations

from typing import Any

from gomodel.core.records import Usage

__all__ = ["usage_from_mapping"]


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _detail(usage: dict[str, Any], group: str, key: str) -> int | None:
    details = usage.get(group)
    if isinstance(details, dict) and isinstance(details.get(key), int):
        return int(details[key])
    return None


def usage_from_mapping(usage: Any) -> Usage | None:
    if not isinstance(usage, dict):
        return None
    prompt = _int(usage.get("prompt_tokens"))
    completion = _int(usage.get("completion_tokens"))
    total = _int(usage.get("total_tokens")) or prompt + completion
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=total,
        cached_tokens=_detail(usage, "prompt_tokens_details", "cached_tokens"),
        reasoning_tokens=_detail(usage, "completion_tokens_details", "reasoning_tokens"),
    )
