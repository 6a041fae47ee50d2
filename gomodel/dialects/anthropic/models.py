"""Anthropic's paged model list: ``GET /v1/models?limit=...&after_id=...``.

A page is ``{"data": [{"id": ...}, ...], "has_more": bool, "first_id": ..., "last_id": ...}``; the
next page starts after ``last_id``.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlencode

import attrs

from gomodel.core.errors import UpstreamError
from gomodel.dialects.anthropic.response_decode import reply_object
from gomodel.dialects.json_body import as_dict

__all__ = ["MODELS_PAGE_LIMIT", "ModelsPage", "decode_models_page", "models_query"]

#: The largest page Anthropic serves.
MODELS_PAGE_LIMIT: Final = 1000


@attrs.frozen(slots=True)
class ModelsPage:
    ids: tuple[str, ...]
    #: ``after_id`` for the next page, or None when this was the last one.
    next_after: str | None


def models_query(after_id: str | None) -> str:
    params: dict[str, str | int] = {"limit": MODELS_PAGE_LIMIT}
    if after_id is not None:
        params["after_id"] = after_id
    return "?" + urlencode(params)


def decode_models_page(body: bytes, provider: str) -> ModelsPage:
    payload = reply_object(body, provider, "model list")
    entries = payload.get("data")
    if not isinstance(entries, list):
        raise UpstreamError(f"provider {provider} returned a model list without 'data'")
    ids = tuple(
        model_id for entry in entries if isinstance(model_id := as_dict(entry).get("id"), str) and model_id
    )
    last = payload.get("last_id")
    more = payload.get("has_more") is True and isinstance(last, str) and bool(last)
    return ModelsPage(ids=ids, next_after=last if more else None)
