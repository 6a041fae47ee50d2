"""`gomodel.routing.refresher.ModelRefresher`: concurrent, bounded model-list fetches feeding the catalog."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Literal

import pytest

from gomodel.core.errors import UpstreamError
from gomodel.routing.catalog import ModelCatalog
from gomodel.routing.refresher import ModelRefresher

#: Long enough that a test never waits it out: the refresher's timeout must cut it short.
FOREVER = 30.0


class FakeLister:
    """A provider whose ``list_models`` answers ``models``, after ``delay`` seconds, or raises ``error``."""

    def __init__(
        self,
        name: str,
        *,
        configured: Sequence[str] = (),
        models: Sequence[str] = (),
        delay: float = 0.0,
        error: Exception | None = None,
    ) -> None:
        self.name = name
        self.configured_models = tuple(configured)
        self.models = list(models)
        self.delay = delay
        self.error = error
        self.calls = 0
        self.cancelled = False

    async def list_models(self) -> list[str]:
        self.calls += 1
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        if self.error is not None:
            raise self.error
        return list(self.models)


Built = tuple[ModelCatalog[FakeLister], ModelRefresher[FakeLister]]
MakeRefresher = Callable[..., Built]


@pytest.fixture
async def make_refresher() -> AsyncIterator[MakeRefresher]:
    """``make_refresher(*providers, mode=, interval=, timeout=)`` -> (catalog, refresher); closed after."""
    made: list[ModelRefresher[FakeLister]] = []

    def make(
        *providers: FakeLister,
        mode: Literal["fallback", "allowlist"] = "fallback",
        interval: float = 60.0,
        timeout: float = 0.3,
    ) -> Built:
        catalog = ModelCatalog(list(providers), mode)
        refresher = ModelRefresher(catalog, list(providers), interval=interval, timeout=timeout)
        made.append(refresher)
        return catalog, refresher

    yield make
    for refresher in made:
        await refresher.aclose()


async def eventually(condition: Callable[[], bool], within: float = 1.0) -> None:
    """Poll ``condition`` on the running loop until it holds; fail after ``within`` seconds."""
    async with asyncio.timeout(within):
        # The conditions are plain state of fakes and catalog; there is no event to wait on.
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.002)


def served_by(catalog: ModelCatalog[FakeLister], model: str) -> str | None:
    route = catalog.resolve(model)
    return None if route is None else route.provider.name


# --- first round ----------------------------------------------------------------------------------


async def test_first_round_fetches_every_provider(make_refresher: MakeRefresher) -> None:
    a = FakeLister("a", models=["gpt-4o"])
    b = FakeLister("b", models=["llama3"])
    catalog, refresher = make_refresher(a, b)

    refresher.start()
    await refresher.wait_first_round()

    assert refresher.ready
    assert (served_by(catalog, "gpt-4o"), served_by(catalog, "llama3")) == ("a", "b")
    assert (a.calls, b.calls) == (1, 1)


async def test_not_ready_before_start(make_refresher: MakeRefresher) -> None:
    _, refresher = make_refresher(FakeLister("a"))

    assert not refresher.ready


async def test_slow_provider_does_not_delay_the_others(make_refresher: MakeRefresher) -> None:
    fast = FakeLister("fast", models=["fast-model"])
    slow = FakeLister("slow", configured=["slow-configured"], models=["slow-fetched"], delay=FOREVER)
    catalog, refresher = make_refresher(slow, fast, timeout=0.3)

    refresher.start()
    await eventually(lambda: served_by(catalog, "fast-model") == "fast", within=0.25)

    assert slow.calls == 1
    assert not refresher.ready  # the slow fetch is still pending
    assert served_by(catalog, "slow-fetched") is None

    await refresher.wait_first_round()

    assert refresher.ready
    assert slow.cancelled
    assert served_by(catalog, "slow-configured") == "slow"
    assert served_by(catalog, "fast-model") == "fast"


@pytest.mark.parametrize(
    "error",
    [
        UpstreamError("provider broken failed with HTTP 503"),
        OSError("connection refused"),
        ValueError("bad JSON"),
    ],
)
async def test_failing_provider_falls_back_to_configured_models(
    make_refresher: MakeRefresher, caplog: pytest.LogCaptureFixture, error: Exception
) -> None:
    caplog.set_level(logging.WARNING, logger="gomodel.models")
    broken = FakeLister("broken", configured=["pinned"], models=["never-seen"], error=error)
    healthy = FakeLister("healthy", models=["gpt-4o"])
    catalog, refresher = make_refresher(broken, healthy)

    refresher.start()
    await refresher.wait_first_round()

    assert catalog.models_of("broken") == ("pinned",)
    assert served_by(catalog, "gpt-4o") == "healthy"
    (record,) = [r for r in caplog.records if r.name == "gomodel.models" and r.levelno == logging.WARNING]
    assert "broken" in record.getMessage()
    assert str(error) in record.getMessage()


async def test_timed_out_provider_is_logged_as_timed_out(
    make_refresher: MakeRefresher, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="gomodel.models")
    slow = FakeLister("slow", configured=["pinned"], delay=FOREVER)
    catalog, refresher = make_refresher(slow, timeout=0.05)

    await refresher.refresh()

    assert catalog.models_of("slow") == ("pinned",)
    assert "slow" in caplog.text
    assert "timed out" in caplog.text


async def test_refresh_without_start_updates_the_catalog(make_refresher: MakeRefresher) -> None:
    catalog, refresher = make_refresher(FakeLister("a", configured=["old"], models=["new"]))

    await refresher.refresh()

    assert catalog.models_of("a") == ("new",)


async def test_failed_refresh_keeps_the_last_fetched_list(make_refresher: MakeRefresher) -> None:
    flaky = FakeLister("flaky", models=["gpt-4o"])
    catalog, refresher = make_refresher(flaky)
    await refresher.refresh()

    flaky.error = UpstreamError("provider flaky failed with HTTP 503")
    await refresher.refresh()

    assert served_by(catalog, "gpt-4o") == "flaky"


# --- allowlist ------------------------------------------------------------------------------------


async def test_allowlist_is_ready_at_once_and_never_lists_models(make_refresher: MakeRefresher) -> None:
    provider = FakeLister("a", configured=["gpt-4o"], models=["o3"])
    catalog, refresher = make_refresher(provider, mode="allowlist", interval=0.01)

    refresher.start()
    assert refresher.ready
    await refresher.wait_first_round()
    await asyncio.sleep(0.03)  # several intervals: nothing may be scheduled

    assert provider.calls == 0
    assert catalog.models_of("a") == ("gpt-4o",)


# --- the loop -------------------------------------------------------------------------------------


async def test_refreshes_again_every_interval(make_refresher: MakeRefresher) -> None:
    provider = FakeLister("a", models=["v1"])
    catalog, refresher = make_refresher(provider, interval=0.01)

    refresher.start()
    await refresher.wait_first_round()
    provider.models = ["v2"]

    await eventually(lambda: catalog.models_of("a") == ("v2",), within=0.5)
    assert provider.calls >= 2


async def test_wait_first_round_returns_at_once_when_ready(make_refresher: MakeRefresher) -> None:
    _, refresher = make_refresher(FakeLister("a", models=["m"]))
    refresher.start()
    await refresher.wait_first_round()

    async with asyncio.timeout(0.05):
        await refresher.wait_first_round()


async def test_aclose_cancels_a_pending_round(make_refresher: MakeRefresher) -> None:
    slow = FakeLister("slow", delay=FOREVER)
    _, refresher = make_refresher(slow, timeout=FOREVER)
    refresher.start()
    await eventually(lambda: slow.calls == 1)

    async with asyncio.timeout(0.2):
        await refresher.aclose()

    assert slow.cancelled
    assert not refresher.ready
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "model-refresh"]


async def test_aclose_stops_the_interval_loop(make_refresher: MakeRefresher) -> None:
    provider = FakeLister("a", models=["m"])
    _, refresher = make_refresher(provider, interval=0.01)
    refresher.start()
    await eventually(lambda: provider.calls >= 2)

    await refresher.aclose()
    calls = provider.calls
    await asyncio.sleep(0.03)

    assert provider.calls == calls


async def test_aclose_is_idempotent_and_safe_before_start(make_refresher: MakeRefresher) -> None:
    _, refresher = make_refresher(FakeLister("a"))

    await refresher.aclose()
    refresher.start()
    await refresher.aclose()
    await refresher.aclose()
