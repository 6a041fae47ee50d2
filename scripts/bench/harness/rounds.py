"""Load scenarios in alternating rounds: each round runs every target once, in turn.

Alternating spreads slow drifts of the machine (hypervisor steal, a neighbour's build) over all
targets instead of letting one target's three runs catch them all; each figure is the median of
its rounds. Saturation uses wrk (closed loop, 64 connections); latency uses hey at a fixed low rate.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from harness.bodies import build_request
from harness.contenders import Contender
from harness.hey import HeyResult, run_hey
from harness.measure import (
    CpuGroup,
    Load,
    Measurement,
    measure_once,
    median,
    parse_cpu_list,
    wait_idle,
    wait_quiet,
    warm_up,
)
from harness.scenarios import Scenario

__all__ = ["Cell", "LatencyCell", "cpu_groups", "latency_rounds", "saturation_rounds", "watched"]

#: Longest wait for a target to finish the requests wrk abandoned (see `measure.wait_idle`).
_DRAIN_LIMIT = 120.0


@dataclass(frozen=True)
class Cell:
    """One scenario x target of the saturation runs."""

    scenario: Scenario
    contender: Contender
    runs: list[Measurement]

    @property
    def chosen(self) -> Measurement:
        return median(self.runs)

    @property
    def rps(self) -> float:
        return self.chosen.result.requests_per_s

    @property
    def errors(self) -> int:
        return sum(run.result.errors for run in self.runs)

    @property
    def cpu_us(self) -> float | None:
        """(e) CPU microseconds of the target's own processes per completed request, median run."""
        run = self.chosen
        if not run.result.requests:
            return None
        seconds = run.cpu.get(self.contender.watch_name, 0.0) * run.elapsed
        return seconds / run.result.requests * 1e6

    @property
    def peak_rss(self) -> int:
        return max(run.peak_rss for run in self.runs)


@dataclass(frozen=True)
class LatencyCell:
    """One scenario x target of the fixed-rate runs; percentiles are medians over the rounds."""

    scenario: Scenario
    contender: Contender
    rate: float
    runs: list[HeyResult]

    @property
    def p50(self) -> float:
        return statistics.median(run.p50 for run in self.runs)

    @property
    def p99(self) -> float:
        return statistics.median(run.p99 for run in self.runs)

    @property
    def achieved(self) -> float:
        return statistics.median(run.achieved_rate for run in self.runs)

    @property
    def errors(self) -> int:
        return sum(run.errors for run in self.runs)


def watched(contenders: Sequence[Contender], upstream_pid: int) -> dict[str, tuple[int, ...]]:
    """Every process of the run whose CPU is accounted, by name (the direct target is "upstream")."""
    names = {c.watch_name: c.pgids for c in contenders}
    names["upstream"] = (upstream_pid,)
    return names


def _label(cpus: frozenset[int]) -> str:
    return "CPU " + ",".join(str(c) for c in sorted(cpus))


def _home(spec: str | None, sets: Sequence[frozenset[int]]) -> frozenset[int] | None:
    """The group an idle target counts in: where most of its CPUs are (both cores: the first)."""
    if not spec:
        return None
    cpus = parse_cpu_list(spec)
    return max(sets, key=lambda group: len(group & cpus))


def cpu_groups(
    under_test: Contender, contenders: Sequence[Contender], load_cpus: str | None
) -> tuple[CpuGroup, ...]:
    """The CPU groups of one run: where the target under test runs, where upstream and wrk run
    (one group if they overlap: gomodel on both cores), and where the idle targets wait."""
    others = tuple(
        c.watch_name for c in contenders if c.watch_name not in (under_test.watch_name, "upstream")
    )
    if under_test.cpus is None or load_cpus is None:
        everything = frozenset(range(os.cpu_count() or 1))
        return (CpuGroup("all CPUs", everything, (under_test.watch_name, "upstream", "wrk"), others),)
    load = parse_cpu_list(load_cpus)
    target = parse_cpu_list(under_test.cpus)
    sets = [load | target] if load & target else [target, load]
    for contender in contenders:
        cpus = parse_cpu_list(contender.cpus) if contender.cpus else frozenset()
        if cpus and not any(cpus & s for s in sets):
            sets.append(cpus)
    groups = []
    for cpus in sets:
        members = [under_test.watch_name] if target <= cpus else []
        if load <= cpus:
            members += [name for name in ("upstream", "wrk") if name not in members]
        idle = tuple(
            c.watch_name for c in contenders if c.watch_name in others and _home(c.cpus, sets) == cpus
        )
        groups.append(CpuGroup(_label(cpus), cpus, tuple(members), idle))
    return tuple(groups)


def _drain(contender: Contender, progress: Callable[[str], None]) -> None:
    waited = wait_idle(contender.pgids, _DRAIN_LIMIT)
    if waited > 2:
        progress(f"    waited {waited:.0f} s for {contender.label} to finish the requests wrk abandoned")


def saturation_rounds(
    scenarios: Sequence[Scenario],
    contenders: Sequence[Contender],
    upstream_pid: int,
    load: Load,
    *,
    rounds: int,
    progress: Callable[[str], None] = print,
) -> list[Cell]:
    """Every served (scenario, target) cell. A scenario with `direct_from` gets no direct cell of its
    own: it is compared with that scenario's, which is the request its gateway sends upstream."""
    names = watched(contenders, upstream_pid)
    cells: list[Cell] = []
    for scenario in scenarios:
        serving = [
            c
            for c in contenders
            if c.target.serves(scenario) and not (scenario.direct_from and c.role == "direct")
        ]
        runs: dict[str, list[Measurement]] = {c.key: [] for c in serving}
        for number in range(1, rounds + 1):
            for contender in serving:
                progress(f"  {scenario.label}, round {number}/{rounds}: {contender.label}")
                request = build_request(scenario, contender.target.endpoint(scenario))
                warm_up(request, load)
                _drain(contender, progress)
                groups = cpu_groups(contender, contenders, load.cpus)
                runs[contender.key].append(measure_once(request, load, names, groups, contender.pgids))
                _drain(contender, progress)
        cells += [Cell(scenario, c, runs[c.key]) for c in serving]
    return cells


def latency_rounds(
    scenarios: Sequence[Scenario],
    contenders: Sequence[Contender],
    rate_of: Callable[[Scenario, Contender], float | None],
    *,
    duration: int,
    warmup: int,
    rounds: int,
    load_cpus: str | None,
    quiet_wait: float,
    ours: Mapping[str, tuple[int, ...]],
    progress: Callable[[str], None] = print,
) -> list[LatencyCell]:
    """hey at ``rate_of(scenario, target)`` requests/s; a target it gives None for is not measured."""
    cells: list[LatencyCell] = []
    for scenario in scenarios:
        rates = {c.key: rate_of(scenario, c) for c in contenders if c.target.serves(scenario)}
        serving = [c for c in contenders if rates.get(c.key)]
        runs: dict[str, list[HeyResult]] = {c.key: [] for c in serving}
        for number in range(1, rounds + 1):
            for contender in serving:
                rate = rates[contender.key] or 0.0
                progress(f"  {scenario.label} at {rate:g}/s, round {number}/{rounds}: {contender.label}")
                request = build_request(scenario, contender.target.endpoint(scenario))
                if warmup:
                    run_hey(request, rate=rate, duration_s=warmup, cpus=load_cpus)
                wait_quiet(quiet_wait, ours)
                runs[contender.key].append(run_hey(request, rate=rate, duration_s=duration, cpus=load_cpus))
        cells += [LatencyCell(scenario, c, rates[c.key] or 0.0, runs[c.key]) for c in serving]
    return cells
