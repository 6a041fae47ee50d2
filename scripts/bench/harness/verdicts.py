"""The performance issue's targets, each with the value this run measured and PASS or MISS.

One run decides nothing on its own near a threshold: the docs say how wide the run-to-run spread is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.contenders import BARE, DIRECT
from harness.report import ColdStart, MemoryRow
from harness.rounds import Cell, LatencyCell
from harness.scenarios import RELAY, SCENARIOS

__all__ = ["GOMODEL", "GOMODEL_2W", "Verdict", "verdicts"]

GOMODEL = "gomodel-1w"
GOMODEL_2W = "gomodel-2w"
#: Rate ratios wanted of gomodel (1 worker) over each reference, in (a) and (b).
_RATE_TARGETS = ((BARE, 0.8), ("litellm", 15.0), ("portkey", 4.0))
_CPU_VS_BARE = 1.25
_ADDED_P50_MS = 1.5
_IDLE_MB = 60.0
_STREAMS_MB = 200.0
#: The issue's number of slow streams held open at once.
_STREAMS = 1000
#: "Flat after load": RSS after a second burst of streams at most this much above after the first.
_FLAT_GROWTH = 0.05
_COLD_START_S = 0.5
_TWO_WORKERS = 1.7


@dataclass(frozen=True)
class Verdict:
    target: str
    measured: str
    #: True: met; False: missed; None: not measured in this run.
    met: bool | None

    @property
    def status(self) -> str:
        return {True: "PASS", False: "MISS", None: "not measured"}[self.met]


def _cell(cells: Sequence[Cell], scenario: str, key: str) -> Cell | None:
    return next((c for c in cells if c.scenario.key == scenario and c.contender.key == key), None)


def _rate_verdicts(cells: Sequence[Cell], labels: dict[str, str]) -> list[Verdict]:
    found = []
    for scenario in ("chat", RELAY):
        letter = next(s.label for s in SCENARIOS if s.key == scenario)
        ours = _cell(cells, scenario, GOMODEL)
        for key, want in _RATE_TARGETS:
            other = _cell(cells, scenario, key)
            name = f"{letter}: gomodel 1 worker >= {want:g}x {labels.get(key, key)}'s req/s"
            if ours is None or other is None or not other.rps:
                found.append(Verdict(name, "-", None))
                continue
            ratio = ours.rps / other.rps
            found.append(Verdict(name, f"{ratio:.2f}x ({ours.rps:,.0f} vs {other.rps:,.0f})", ratio >= want))
    return found


def _cpu_verdict(cells: Sequence[Cell]) -> Verdict:
    name = f"(e): CPU per non-streaming request <= {_CPU_VS_BARE:g}x the bare relay's"
    ours, bare = _cell(cells, "chat", GOMODEL), _cell(cells, "chat", BARE)
    if ours is None or bare is None or not ours.cpu_us or not bare.cpu_us:
        return Verdict(name, "-", None)
    ratio = ours.cpu_us / bare.cpu_us
    return Verdict(name, f"{ratio:.2f}x ({ours.cpu_us:,.0f} vs {bare.cpu_us:,.0f} us)", ratio <= _CPU_VS_BARE)


def _latency_verdicts(cells: Sequence[LatencyCell]) -> list[Verdict]:
    found = []
    for scenario in ("chat", RELAY):
        letter = next(s.label for s in SCENARIOS if s.key == scenario)
        name = f"(c) {letter}: added p50 at a low rate <= {_ADDED_P50_MS:g} ms over direct"
        ours = next((c for c in cells if c.scenario.key == scenario and c.contender.key == GOMODEL), None)
        direct = next((c for c in cells if c.scenario.key == scenario and c.contender.key == DIRECT), None)
        if ours is None or direct is None:
            found.append(Verdict(name, "-", None))
            continue
        added = ours.p50 - direct.p50
        found.append(
            Verdict(name, f"{added:+.2f} ms ({ours.p50:.2f} vs {direct.p50:.2f})", added <= _ADDED_P50_MS)
        )
    return found


def _memory_verdicts(rows: Sequence[MemoryRow], streams: int) -> list[Verdict]:
    ours = next((row for row in rows if row.contender.key == GOMODEL), None)
    figures = ours.figures if ours else {}
    found = []
    idle = figures.get("idle")
    name = f"(d): RSS idle <= {_IDLE_MB:g} MB per worker"
    found.append(Verdict(name, f"{idle:.1f} MB" if idle else "-", idle <= _IDLE_MB if idle else None))
    held = figures.get("streams")
    name = f"(d): RSS <= {_STREAMS_MB:g} MB with {_STREAMS:,} slow streams open"
    opened = ours.opened if ours else None
    if held is None or opened is None:
        found.append(Verdict(name, "-", None))
    elif opened < _STREAMS:
        # Fewer streams (--streams, or a target that could not open them all) decide nothing.
        found.append(Verdict(name, f"{held:.1f} MB with only {opened:,} open at once", None))
    else:
        found.append(Verdict(name, f"{held:.1f} MB", held <= _STREAMS_MB))
    first, second = figures.get("after1"), figures.get("after2")
    name = f"(d): flat after load (RSS after a 2nd burst <= {1 + _FLAT_GROWTH:g}x after the 1st)"
    if first and second:
        growth = second / first
        found.append(
            Verdict(name, f"{growth:.3f}x ({second:.1f} vs {first:.1f} MB)", growth <= 1 + _FLAT_GROWTH)
        )
    else:
        found.append(Verdict(name, "-", None))
    return found


def _relay_verdicts(cells: Sequence[Cell]) -> list[Verdict]:
    found = []
    relay = _cell(cells, RELAY, GOMODEL)
    for scenario in SCENARIOS:
        if scenario.relay_target is None:
            continue
        name = f"{scenario.label}: >= {scenario.relay_target:g}x gomodel's own (b)"
        ours = _cell(cells, scenario.key, GOMODEL)
        if ours is None or relay is None or not relay.rps:
            found.append(Verdict(name, "-", None))
            continue
        ratio = ours.rps / relay.rps
        found.append(
            Verdict(
                name, f"{ratio:.2f}x ({ours.rps:,.0f} vs {relay.rps:,.0f})", ratio >= scenario.relay_target
            )
        )
    return found


def _coldstart_verdict(starts: Sequence[ColdStart]) -> Verdict:
    name = f"(i): cold start to the first 200 < {_COLD_START_S:g} s"
    ours = next((s for s in starts if s.contender.key == GOMODEL), None)
    if ours is None:
        return Verdict(name, "-", None)
    return Verdict(name, f"{ours.median:.3f} s (median of {len(ours.seconds)})", ours.median < _COLD_START_S)


def _workers_verdict(cells: Sequence[Cell]) -> Verdict:
    name = f"--workers 2 on both cores: >= {_TWO_WORKERS:g}x one worker's (a)"
    one, two = _cell(cells, "chat", GOMODEL), _cell(cells, "chat", GOMODEL_2W)
    if one is None or two is None or not one.rps:
        return Verdict(name, "-", None)
    ratio = two.rps / one.rps
    return Verdict(name, f"{ratio:.2f}x ({two.rps:,.0f} vs {one.rps:,.0f})", ratio >= _TWO_WORKERS)


def verdicts(
    cells: Sequence[Cell],
    latency: Sequence[LatencyCell],
    memory: Sequence[MemoryRow],
    starts: Sequence[ColdStart],
    *,
    labels: dict[str, str],
    streams: int,
) -> list[Verdict]:
    """Every target of the issue, in its order; ``labels``: target key -> label for the texts."""
    return [
        *_rate_verdicts(cells, labels),
        _cpu_verdict(cells),
        *_latency_verdicts(latency),
        *_memory_verdicts(memory, streams),
        *_relay_verdicts(cells),
        _coldstart_verdict(starts),
        _workers_verdict(cells),
    ]
