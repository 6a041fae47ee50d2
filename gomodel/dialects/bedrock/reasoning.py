"""``reasoning_effort`` -> the model family's own thinking switch in ``additionalModelRequestFields``.

Converse has no common reasoning parameter; each family reads its native field:

* Claude 4.6 and later (and the 5 family): ``thinking: {type: adaptive}`` with ``output_config.effort``
  (manual budgets are deprecated there and rejected from Opus 4.7 on);
* older Claude (3.7, 4, 4.5): ``thinking: {type: enabled, budget_tokens}``, the budget kept under
  ``maxTokens`` as Anthropic requires;
* Amazon Nova 2: ``reasoningConfig: {type: enabled, maxReasoningEffort}``;
* OpenAI gpt-oss: ``reasoning_effort``.

Other families either always reason (DeepSeek R1) or cannot, so they get nothing.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["reasoning_config"]

_MIN_BUDGET = 1024
_BUDGETS = {"minimal": _MIN_BUDGET, "low": _MIN_BUDGET, "medium": 4096, "high": 16384, "xhigh": 32768}
_ADAPTIVE_EFFORT = {"minimal": "low", "low": "low", "medium": "medium", "high": "high", "xhigh": "max"}
_PLAIN_EFFORT = {"minimal": "low", "low": "low", "medium": "medium", "high": "high", "xhigh": "high"}
# "claude-opus-4-6-v1" -> (4, 6); "claude-sonnet-4-20250514" -> (4, 0): a dated suffix is no minor.
_CLAUDE_VERSION = re.compile(r"claude-(?:[a-z]+-)?(\d+)(?:-(\d)(?!\d))?")
_ADAPTIVE_SINCE = (4, 6)
#: Room for the answer on top of a thinking budget when the client set no ``max_tokens``.
_ANSWER_ROOM = 8192


def reasoning_config(
    model: str, effort: str | None, budget: int | None, max_tokens: int | None
) -> tuple[dict[str, Any], int | None]:
    """Fields for ``additionalModelRequestFields`` (empty when no reasoning was asked for) and the
    ``maxTokens`` to send, which must exceed a Claude thinking budget."""
    if effort == "none" or (effort is None and budget is None):
        return {}, max_tokens
    model = model.lower()
    level = effort if effort in _BUDGETS else "medium"
    if "anthropic.claude" in model or "claude-" in model:
        return _claude(model, effort, level, budget, max_tokens)
    if "amazon.nova-2" in model:
        return {
            "reasoningConfig": {"type": "enabled", "maxReasoningEffort": _PLAIN_EFFORT[level]}
        }, max_tokens
    if "openai.gpt-oss" in model:
        return {"reasoning_effort": _PLAIN_EFFORT[level]}, max_tokens
    return {}, max_tokens


def _claude(
    model: str, effort: str | None, level: str, budget: int | None, max_tokens: int | None
) -> tuple[dict[str, Any], int | None]:
    if _claude_version(model) >= _ADAPTIVE_SINCE:
        fields: dict[str, Any] = {"thinking": {"type": "adaptive"}}
        if effort is not None:
            fields["output_config"] = {"effort": _ADAPTIVE_EFFORT[level]}
        return fields, max_tokens
    tokens = budget if budget is not None else _BUDGETS[level]
    if max_tokens is None:
        max_tokens = tokens + _ANSWER_ROOM
    elif tokens >= max_tokens:
        tokens = max(_MIN_BUDGET, max_tokens - 1)
    return {"thinking": {"type": "enabled", "budget_tokens": tokens}}, max_tokens


def _claude_version(model: str) -> tuple[int, int]:
    match = _CLAUDE_VERSION.search(model)
    if match is None:
        return (0, 0)
    return (int(match.group(1)), int(match.group(2) or 0))
