"""The merged model catalog and model -> provider resolution. No I/O.

A bare model id goes to the first provider (in declaration order) that serves it; ``name/model``
picks provider ``name`` explicitly, splitting on the first ``/`` only when ``name`` is a provider, so
``openrouter/openai/gpt-4o`` still reaches OpenRouter's ``openai/gpt-4o``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Generic, Literal, Protocol, TypeVar

import attrs

__all__ = ["ModelCatalog", "Routable", "Route"]


class Routable(Protocol):
    name: str
    configured_models: tuple[str, ...]


P = TypeVar("P", bound=Routable)


@attrs.frozen(slots=True)
class Route(Generic[P]):
    provider: P
    #: The model id as the provider knows it (without any ``provider/`` prefix).
    model: str


#: Claude Code's marker for a model's 1M-token context variant (``mimo-v2.5-pro[1m]``). Listed ids keep
#: it so clients can ask for it; upstream APIs know the model only by its plain id.
CONTEXT_MARKER = "[1m]"


def _upstream_id(model: str) -> str:
    return model.removesuffix(CONTEXT_MARKER)


class ModelCatalog(Generic[P]):
    """Per-provider model lists, merged. Updated by the refresher, read on every request."""

    def __init__(self, providers: Sequence[P], mode: Literal["fallback", "allowlist"]) -> None:
        self._providers = {p.name: p for p in providers}
        self._mode = mode
        self._models: dict[str, tuple[str, ...]] = {p.name: p.configured_models for p in providers}
        self._fetched_at: dict[str, int] = {}
        self._index: dict[str, P] = {}
        #: Resolved routes by requested id, rebuilt with the index: one lookup per request instead of a
        #: partition, two lookups and a new `Route`. Only ids that resolve are kept, so it stays as
        #: small as the catalog whatever clients send.
        self._routes: dict[str, Route[P]] = {}
        self._rebuild()

    @property
    def mode(self) -> str:
        return self._mode

    @property
    def providers(self) -> list[P]:
        return list(self._providers.values())

    def update(self, provider: str, fetched: Sequence[str] | None) -> None:
        """Record a fetch result (None when it failed). Configured models fill in per the mode."""
        configured = self._providers[provider].configured_models
        if self._mode == "allowlist":
            models = configured
        elif fetched:
            models = tuple(dict.fromkeys(fetched))
            self._fetched_at[provider] = int(time.time())
        elif fetched is None and provider in self._fetched_at:
            return  # a failed refresh keeps the last good list rather than dropping models for an interval
        else:
            models = configured
        self._models[provider] = models
        self._rebuild()

    def _rebuild(self) -> None:
        index: dict[str, P] = {}
        for name, models in self._models.items():
            provider = self._providers[name]
            for model in models:
                index.setdefault(model, provider)
        self._index = index
        self._routes = {}

    def models_of(self, provider: str) -> tuple[str, ...]:
        return self._models.get(provider, ())

    def resolve(self, model: str) -> Route[P] | None:
        route = self._routes.get(model)
        if route is None:
            route = self._resolve(model)
            if route is not None:
                self._routes[model] = route
        return route

    def _resolve(self, model: str) -> Route[P] | None:
        name, slash, rest = model.partition("/")
        if slash and name in self._providers and rest in self._models[name]:
            return Route(self._providers[name], _upstream_id(rest))
        # Not a provider prefix after all: ids such as "openai/gpt-4o" on OpenRouter are bare ids.
        provider = self._index.get(model)
        return Route(provider, _upstream_id(model)) if provider is not None else None

    def _shadowed(self, model: str) -> bool:
        """A bare id that reads as ``provider/model`` for a provider that serves that model."""
        prefix, slash, rest = model.partition("/")
        return bool(slash) and prefix in self._providers and rest in self._models[prefix]

    def openai_list(self) -> dict[str, Any]:
        """``GET /v1/models``. A model several providers serve is listed bare once, then qualified."""
        data = []
        for name, models in self._models.items():
            created = self._fetched_at.get(name, 0)
            for model in models:
                first = self._index.get(model)
                bare = first is not None and first.name == name and not self._shadowed(model)
                model_id = model if bare else f"{name}/{model}"
                data.append({"id": model_id, "object": "model", "created": created, "owned_by": name})
        return {"object": "list", "data": data}
