"""Token usage in the OpenAI shape (chat completions and embeddings share it)."""

from __future__ import annotations

from typing import Any

from gomodel.core.records import Usage
from gomodel.dialects.json_body import as_int

__all__ = ["usage_from_mapping", "usage_to_openai"]


def _detail(usage: dict[str, Any], group: str, key: str) -> int | None:
    details = usage.get(group)
    if isinstance(details, dict) and isinstance(details.get(key), int):
        return int(details[key])
    return None


def usage_from_mapping(usage: Any) -> Usage | None:
    if not isinstance(usage, dict):
        return None
    prompt = as_int(usage.get("prompt_tokens"))
    completion = as_int(usage.get("completion_tokens"))
    total = as_int(usage.get("total_tokens")) or prompt + completion
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=total,
        cached_tokens=_detail(usage, "prompt_tokens_details", "cached_tokens"),
        reasoning_tokens=_detail(usage, "completion_tokens_details", "reasoning_tokens"),
    )


def usage_to_openai(usage: Usage, *, embeddings: bool = False) -> dict[str, Any]:
    """OpenAI's usage object; embeddings carry only prompt and total tokens."""
    total = usage.total_tokens or usage.prompt_tokens + usage.completion_tokens
    if embeddings:
        return {"prompt_tokens": usage.prompt_tokens, "total_tokens": total}
    out: dict[str, Any] = {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": total,
    }
    if usage.cached_tokens is not None:
        out["prompt_tokens_details"] = {"cached_tokens": usage.cached_tokens}
    if usage.reasoning_tokens is not None:
        out["completion_tokens_details"] = {"reasoning_tokens": usage.reasoning_tokens}
    return out
