"""Model ids: the pages of Google's model lists, and model id -> URL path.

AI Studio lists ``models/<id>`` with ``supportedGenerationMethods``; only models that generate or
embed are kept. Vertex's publisher list (``publishers/google/models/<id>``) says nothing about
methods, so the families the gateway can drive are picked by name, and listed as ``google/<id>``:
Vertex's own spelling, which its OpenAI-compatible endpoint requires.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from gomodel.dialects.json_body import as_dict

__all__ = ["VERTEX_PREFIX", "ai_studio_page", "ai_studio_resource", "vertex_model_id", "vertex_page"]

_USEFUL_METHODS = frozenset({"generateContent", "embedContent", "batchEmbedContents"})
_VERTEX_FAMILIES = ("gemini-", "text-embedding-", "text-multilingual-embedding-")
VERTEX_PREFIX = "google/"


def ai_studio_page(payload: Any) -> tuple[list[str], str | None]:
    """The model ids on one page of ``GET /models`` and the next page's token."""
    payload = as_dict(payload)
    ids = []
    for raw in payload.get("models") or ():
        entry = as_dict(raw)
        name = entry.get("name")
        methods = entry.get("supportedGenerationMethods")
        if isinstance(name, str) and isinstance(methods, list) and _USEFUL_METHODS.intersection(methods):
            ids.append(name.removeprefix("models/"))
    return ids, _token(payload)


def vertex_page(payload: Any) -> tuple[list[str], str | None]:
    """The ``google/<id>`` model ids on one page of the publisher model list and the next token."""
    payload = as_dict(payload)
    ids = []
    for entry in payload.get("publisherModels") or ():
        name = as_dict(entry).get("name")
        model = name.rpartition("/")[2] if isinstance(name, str) else ""
        if model.startswith(_VERTEX_FAMILIES):
            ids.append(VERTEX_PREFIX + model)
    return ids, _token(payload)


def ai_studio_resource(model: str) -> str:
    """``gemini-2.5-flash`` -> ``models/gemini-2.5-flash``; tuned models keep their own collection."""
    if model.startswith(("models/", "tunedModels/")):
        return quote(model, safe="/")
    return "models/" + quote(model, safe="")


def vertex_model_id(model: str) -> str:
    """``google/gemini-2.5-flash`` (or a full publisher resource name) -> ``gemini-2.5-flash``."""
    return quote(model.rpartition("/")[2], safe="")


def _token(payload: dict[str, Any]) -> str | None:
    token = payload.get("nextPageToken")
    return token if isinstance(token, str) and token else None
