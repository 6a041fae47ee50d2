"""Fetches every provider's model list at startup and on a timer, concurrently and bounded.

Startup never waits for it: a request for a model not yet known waits (at most one fetch timeout) for
the first round to finish before answering 404, so a cold gateway neither blocks nor lies.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Generic, Protocol, TypeVar

from gomodel.routing.catalog import ModelCatalog, Routable

__all__ = ["ModelRefresher"]

log = logging.getLogger("gomodel.models")


class ListsModels(Routable, Protocol):
    async def list_models(self) -> list[str]: ...


L = TypeVar("L", bound=ListsModels)


class ModelRefresher(Generic[L]):
    def __init__(
        self,
        catalog: ModelCatalog[L],
        providers: Sequence[L],
        *,
        interval: float,
        timeout: float,
    ) -> None:
        self._catalog = catalog
        self._providers = providers
        self._interval = interval
        self._timeout = timeout
        self._first_round = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def ready(self) -> bool:
        return self._first_round.is_set()

    async def wait_first_round(self) -> None:
        if self._first_round.is_set():
            return
        try:
            async with asyncio.timeout(self._timeout + 1):
                await self._first_round.wait()
        except TimeoutError:
            pass

    def start(self) -> None:
        if self._catalog.mode == "allowlist":
            self._first_round.set()  # allowlist never asks upstream
            return
        self._task = asyncio.get_running_loop().create_task(self._run(), name="model-refresh")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def refresh(self) -> None:
        await asyncio.gather(*(self._refresh_one(p) for p in self._providers))

    async def _run(self) -> None:
        while True:
            await self.refresh()
            self._first_round.set()
            await asyncio.sleep(self._interval)

    async def _refresh_one(self, provider: L) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                models = await provider.list_models()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            reason = "timed out" if isinstance(exc, TimeoutError) else str(exc)
            log.warning(
                "model list of provider %s unavailable: %s; using %d configured model(s)",
                provider.name,
                reason,
                len(provider.configured_models),
            )
            self._catalog.update(provider.name, None)
            return
        self._catalog.update(provider.name, models)
        log.info("provider %s serves %d model(s)", provider.name, len(self._catalog.models_of(provider.name)))
