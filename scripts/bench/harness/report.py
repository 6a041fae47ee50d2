"""The run's tables, as aligned text for the terminal and as markdown for the results file.

Every figure comes with its ratio to the same figure of direct, of the bare relay and of each peer
from the same run: a "vs bare" of 0.85 in gomodel's row means gomodel reached 0.85x the bare
relay's figure. Rows of targets compared with direct only (gomodel on both cores) leave the other
ratios empty.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from harness.contenders import BARE, DIRECT, Contender
from harness.rounds import Cell, LatencyCell

__all__ = [
    "MEMORY_MEASURES",
    "MIN_HEADROOM",
    "ColdStart",
    "MemoryRow",
    "Reference",
    "Table",
    "coldstart_table",
    "cpu_table",
    "disturbance_lines",
    "headroom_lines",
    "latency_table",
    "memory_table",
    "references",
    "saturation_table",
    "steal_summary",
]

#: "The upstream must not be the bottleneck": its direct rate should be at least this many times
#: the gateway's, or the gateway figure is partly the upstream's.
MIN_HEADROOM = 3.0
_MB = 1024 * 1024


@dataclass(frozen=True)
class Reference:
    """A target whose figures the others are divided by (a "vs ..." column)."""

    key: str
    label: str


def references(contenders: Sequence[Contender]) -> list[Reference]:
    """direct, the bare relay and every peer of the run, in that order."""
    refs = [Reference(c.key, c.label) for c in contenders if c.key in (DIRECT, BARE)]
    return refs + [Reference(c.key, c.label) for c in contenders if c.role == "peer"]


@dataclass
class Table:
    title: str
    headers: tuple[str, ...]
    #: Columns right-aligned (numbers).
    numeric: frozenset[int]
    rows: list[tuple[str, ...]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        cells = [self.headers, *self.rows]
        widths = [max(len(line[i]) for line in cells) for i in range(len(self.headers))]

        def fmt(line: tuple[str, ...]) -> str:
            padded = (
                c.rjust(w) if i in self.numeric else c.ljust(w)
                for i, (c, w) in enumerate(zip(line, widths, strict=True))
            )
            return "  ".join(padded).rstrip()

        rule = "  ".join("-" * w for w in widths)
        lines = [self.title, "", fmt(cells[0]), rule, *(fmt(line) for line in cells[1:])]
        return "\n".join(lines + [f"  {note}" for note in self.notes])

    def markdown(self) -> str:
        align = ["--:" if i in self.numeric else "---" for i in range(len(self.headers))]
        lines = [f"### {self.title}", "", "| " + " | ".join(self.headers) + " |"]
        lines += ["| " + " | ".join(align) + " |"]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        if self.notes:
            lines += ["", *(f"- {note}" for note in self.notes)]
        return "\n".join(lines)


def ratio_text(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}" if value >= 1 else f"{value:.3f}"


def _ratios(
    contender: Contender,
    value: float | None,
    refs: Sequence[Reference],
    reference_value: Callable[[str], float | None],
) -> tuple[str, ...]:
    cells = []
    for ref in refs:
        other = reference_value(ref.key)
        if ref.key == contender.key:
            cells.append("1")
        elif value is None or not other or (contender.direct_only and ref.key != DIRECT):
            cells.append("-")
        else:
            cells.append(ratio_text(value / other))
    return tuple(cells)


def _vs(refs: Sequence[Reference]) -> tuple[str, ...]:
    return tuple(f"vs {ref.label}" for ref in refs)


def _direct_of(cell: Cell, cells: Sequence[Cell]) -> Cell | None:
    key = cell.scenario.direct_from or cell.scenario.key
    return next((c for c in cells if c.scenario.key == key and c.contender.key == DIRECT), None)


def _same_scenario(
    cell: Cell, cells: Sequence[Cell], figure: Callable[[Cell], float | None]
) -> Callable[[str], float | None]:
    """Target key -> the same figure of that target in ``cell``'s scenario (direct: its baseline)."""

    def value(key: str) -> float | None:
        if key == DIRECT:
            direct = _direct_of(cell, cells)
            return figure(direct) if direct else None
        scenario = cell.scenario.key
        other = next((c for c in cells if c.scenario.key == scenario and c.contender.key == key), None)
        return figure(other) if other else None

    return value


def _cpu_column(cell: Cell) -> str:
    run = cell.chosen
    name = cell.contender.watch_name
    parts = [f"{cell.contender.label} {run.cpu.get(name, 0.0):.0%}"]
    parts += [f"{other} {run.cpu[other]:.0%}" for other in ("upstream", "wrk") if other != name]
    idle = sum(run.idle.values())
    text = ", ".join(parts) + f"; idle targets {idle:.0%}"
    return text + "; other: " + ", ".join(f"{label} {share:.0%}" for label, share in run.other.items())


def saturation_table(cells: Sequence[Cell], refs: Sequence[Reference], title: str) -> Table:
    headers = (
        "scenario", "target", "req/s", "req/s range", "p50 ms", "p99 ms", "errors", *_vs(refs), "CPU",
    )  # fmt: skip
    table = Table(title, headers, frozenset(range(2, 7 + len(refs))))
    for cell in cells:
        rates = [run.result.requests_per_s for run in cell.runs]
        spread = f"{min(rates):,.0f}-{max(rates):,.0f}" if len(rates) > 1 else "-"
        table.rows.append(
            (
                cell.scenario.label,
                cell.contender.label,
                f"{cell.rps:,.0f}",
                spread,
                # wrk reports 0 ms when no request finished (a peer slower than the run).
                f"{cell.chosen.result.p50:.2f}" if cell.chosen.result.requests else "-",
                f"{cell.chosen.result.p99:.2f}" if cell.chosen.result.requests else "-",
                str(cell.errors),
                *_ratios(cell.contender, cell.rps, refs, _same_scenario(cell, cells, lambda c: c.rps)),
                _cpu_column(cell),
            )
        )
    return table


def cpu_table(cells: Sequence[Cell], refs: Sequence[Reference], title: str) -> Table:
    headers = ("scenario", "target", "CPU us/request", "busy share", *_vs(refs))
    table = Table(title, headers, frozenset(range(2, 4 + len(refs))))
    for cell in cells:
        share = cell.chosen.cpu.get(cell.contender.watch_name, 0.0)
        us = cell.cpu_us
        table.rows.append(
            (
                cell.scenario.label,
                cell.contender.label,
                f"{us:,.0f}" if us is not None else "-",
                f"{share:.0%}",
                *_ratios(cell.contender, us, refs, _same_scenario(cell, cells, lambda c: c.cpu_us)),
            )
        )
    return table


def latency_table(cells: Sequence[LatencyCell], refs: Sequence[Reference], title: str) -> Table:
    peers = [ref for ref in refs if ref.key != DIRECT]
    headers = (
        "scenario", "target", "rate/s", "p50 ms", "p99 ms", "+p50 ms", "+p99 ms", "errors",
        "p50 vs direct", *(f"+p50 vs {ref.label}" for ref in peers),
    )  # fmt: skip
    table = Table(title, headers, frozenset(range(2, 9 + len(peers))))

    def find(scenario_key: str, key: str) -> LatencyCell | None:
        return next((c for c in cells if c.scenario.key == scenario_key and c.contender.key == key), None)

    for cell in cells:
        direct = find(cell.scenario.key, DIRECT)
        added50 = cell.p50 - direct.p50 if direct else None
        added99 = cell.p99 - direct.p99 if direct else None

        def added(key: str, cell: LatencyCell = cell, direct: LatencyCell | None = direct) -> float | None:
            other = find(cell.scenario.key, key)
            return other.p50 - direct.p50 if other and direct else None

        table.rows.append(
            (
                cell.scenario.label,
                cell.contender.label,
                f"{cell.rate:g} ({cell.achieved:.0f})",
                f"{cell.p50:.2f}",
                f"{cell.p99:.2f}",
                f"{added50:+.2f}" if added50 is not None else "-",
                f"{added99:+.2f}" if added99 is not None else "-",
                str(cell.errors),
                ratio_text(cell.p50 / direct.p50) if direct and direct.p50 else "-",
                *_ratios(cell.contender, added50 if cell.contender.key != DIRECT else None, peers, added),
            )
        )
    return table


@dataclass(frozen=True)
class MemoryRow:
    contender: Contender
    #: MB figures by measure (the keys of `MEMORY_MEASURES`); missing: not measured.
    figures: dict[str, float]
    #: Slow streams that were open at the same time (the fewer of the two bursts); None: not run.
    opened: int | None = None


#: The (d) measures, in table order.
MEMORY_MEASURES = {
    "idle": "idle, after start",
    "peak": "peak under saturation load",
    "streams": "with the slow streams open",
    "after1": "after the 1st burst of streams",
    "after2": "after the 2nd burst of streams",
}


def memory_table(rows: Sequence[MemoryRow], refs: Sequence[Reference], title: str) -> Table:
    headers = ("measure", "target", "RSS MB", *_vs(refs))
    table = Table(title, headers, frozenset(range(2, 3 + len(refs))))
    for measure, label in MEMORY_MEASURES.items():
        present = {row.contender.key: row.figures[measure] for row in rows if measure in row.figures}
        for row in rows:
            if measure not in row.figures:
                continue
            value = row.figures[measure]
            table.rows.append(
                (
                    label,
                    row.contender.label,
                    f"{value:,.1f}",
                    *_ratios(row.contender, value, refs, present.get),
                )
            )
    return table


@dataclass(frozen=True)
class ColdStart:
    contender: Contender
    seconds: list[float]
    how: str

    @property
    def median(self) -> float:
        ordered = sorted(self.seconds)
        return ordered[(len(ordered) - 1) // 2]


def coldstart_table(starts: Sequence[ColdStart], refs: Sequence[Reference], title: str) -> Table:
    refs = [ref for ref in refs if ref.key != DIRECT]
    headers = ("target", "median s", "runs s", *_vs(refs), "measured as")
    table = Table(title, headers, frozenset(range(1, 3 + len(refs))))
    medians = {start.contender.key: start.median for start in starts}
    for start in starts:
        table.rows.append(
            (
                start.contender.label,
                f"{start.median:.3f}",
                ", ".join(f"{s:.3f}" for s in start.seconds),
                *_ratios(start.contender, start.median, refs, medians.get),
                start.how,
            )
        )
    return table


def headroom_lines(cells: Sequence[Cell]) -> list[str]:
    """Per scenario: is the upstream fast enough that the gateway figure is the gateway's?"""
    lines = []
    for cell in cells:
        direct = _direct_of(cell, cells)
        if cell.contender.key == DIRECT or direct is None or not cell.rps:
            continue
        headroom = direct.rps / cell.rps
        if headroom < MIN_HEADROOM:
            lines.append(
                f"{cell.scenario.label}: direct is only {headroom:.1f}x {cell.contender.label}'s rate "
                f"(want >= {MIN_HEADROOM:g}x): the upstream may be the bottleneck"
            )
    headrooms = [
        direct.rps / cell.rps
        for cell in cells
        if cell.contender.key != DIRECT and (direct := _direct_of(cell, cells)) and cell.rps
    ]
    if not lines and headrooms:
        lines.append(
            f"upstream headroom: direct is at least {min(headrooms):.1f}x every target's rate "
            f"(want >= {MIN_HEADROOM:g}x): ok"
        )
    return lines


def steal_summary(cells: Sequence[Cell]) -> str:
    steals = [run.steal for cell in cells for run in cell.runs]
    return f"{min(steals):.1%} to {max(steals):.1%} per measurement" if steals else "n/a"


def disturbance_lines(cells: Sequence[Cell]) -> list[str]:
    """Cells whose runs shared their busy CPUs with other work: their figures are suspect."""
    lines = []
    for cell in cells:
        disturbed = [run.disturbance for run in cell.runs if run.disturbance]
        if disturbed:
            lines.append(
                f"DISTURBED: {cell.scenario.label} -> {cell.contender.label}: {len(disturbed)} of "
                f"{len(cell.runs)} runs ({disturbed[0]}); rerun on a quiet machine"
            )
        busy_idle = max((sum(run.idle.values()) for run in cell.runs), default=0.0)
        if busy_idle > 0.15:
            lines.append(
                f"{cell.scenario.label} -> {cell.contender.label}: the idle targets used {busy_idle:.0%} "
                "of a core meanwhile"
            )
    return lines
