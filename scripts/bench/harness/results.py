"""What one run measured, and how it is shown: the tables on stdout and the markdown results file."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from harness.contenders import Contender
from harness.report import (
    ColdStart,
    MemoryRow,
    Table,
    coldstart_table,
    cpu_table,
    disturbance_lines,
    headroom_lines,
    latency_table,
    memory_table,
    references,
    saturation_table,
    steal_summary,
)
from harness.rounds import Cell, LatencyCell
from harness.scenarios import MEASUREMENTS, SCENARIOS
from harness.verdicts import Verdict

__all__ = ["Results", "gateway_complaints", "memory_rows", "print_results", "render", "save", "tables"]

_MB = 1024 * 1024


@dataclass
class Results:
    """Everything one run measured; filled in as it goes."""

    contenders: list[Contender]
    notes: list[str]
    #: Target key -> RSS after start (bytes).
    idle_rss: dict[str, int]
    #: How the load was made, for table titles: "saturation", "latency", "streams".
    describe: dict[str, str]
    #: Slow streams asked for in (d).
    streams: int
    cells: list[Cell] = field(default_factory=list)
    latency: list[LatencyCell] = field(default_factory=list)
    memory: list[MemoryRow] = field(default_factory=list)
    starts: list[ColdStart] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    #: gomodel's own warnings/errors, by kind (read before the temp dir with the logs goes).
    complaints: list[str] = field(default_factory=list)


def gateway_complaints(log_path: Path) -> list[str]:
    """Warnings and errors the gateway logged during the run, counted by kind (records are info)."""
    kinds: Counter[str] = Counter()
    for line in log_path.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            kinds[f"unparsed line: {line[:120]}"] += 1
            continue
        if entry.get("level") in ("info", "debug"):
            continue
        exception = (entry.get("exception") or "").strip().splitlines()
        cause = f" ({exception[-1][:160]})" if exception else ""
        kinds[f"{entry.get('level')}: {entry.get('message', '')[:120]}{cause}"] += 1
    return [f"{count} x {kind}" for kind, count in kinds.most_common()]


def memory_rows(run: Results, streams: dict[str, MemoryRow]) -> list[MemoryRow]:
    """(d) per target: idle and peak of the long-running instance, the rest from the paced one."""
    rows = []
    for contender in run.contenders:
        figures: dict[str, float] = {}
        if contender.key in run.idle_rss:
            figures["idle"] = run.idle_rss[contender.key] / _MB
        peak = max((cell.peak_rss for cell in run.cells if cell.contender.key == contender.key), default=0)
        if peak:
            figures["peak"] = peak / _MB
        paced = streams.get(contender.key)
        if paced is not None:
            figures |= paced.figures
        if figures:
            rows.append(MemoryRow(contender, figures, paced.opened if paced else None))
    return rows


def tables(run: Results) -> list[Table]:
    refs = references(run.contenders)
    found = []
    if run.cells:
        found.append(saturation_table(run.cells, refs, f"Saturation: req/s ({run.describe['saturation']})"))
        found.append(
            cpu_table(
                run.cells, refs, "(e) CPU per request: the target's own processes, median run, from /proc"
            )
        )
    if run.latency:
        found.append(
            latency_table(run.latency, refs, f"(c) Latency at a fixed low rate: {run.describe['latency']}")
        )
    if run.memory:
        table = memory_table(run.memory, refs, "(d) RSS of one instance (all its processes)")
        if any("streams" in row.figures for row in run.memory):
            table.notes.append(f"slow streams: {run.describe['streams']}")
        for row in run.memory:
            if row.opened is not None and row.opened < run.streams:
                table.notes.append(f"{row.contender.label}: only {row.opened:,} streams were open at once")
        found.append(table)
    if run.starts:
        found.append(coldstart_table(run.starts, refs, "(i) Cold start to the first 200"))
    return found


def legend() -> list[str]:
    lines = [f"{s.label}: {s.title[s.title.index(' ') + 1 :]}" for s in SCENARIOS]
    lines += list(MEASUREMENTS.values())
    return lines


def render(
    run: Results, header: dict[str, str], machine: dict[str, str], command: str, found: list[Verdict]
) -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"# gomodel benchmark, {now}", "", f"Command: `{command}`", ""]
    lines += [f"- {key}: {value}" for key, value in header.items()]
    lines += ["", "## Machine", "", "| | |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in machine.items()]
    lines += ["", "## Results", "", "Scenarios:", ""] + [f"- {line}" for line in legend()]
    for table in tables(run):
        lines += ["", table.markdown()]
    lines += ["", "## Targets of the performance issue", "", "| target | measured | |", "|---|---|---|"]
    lines += [f"| {v.target} | {v.measured} | {v.status} |" for v in found]
    remarks = headroom_lines(run.cells) + disturbance_lines(run.cells) + run.notes
    if remarks:
        lines += ["", "## Notes", ""] + [f"- {line}" for line in remarks]
    if run.complaints:
        lines += ["", "gomodel warnings/errors during the run (wrk drops its open connections mid-request"]
        lines += ["when each run ends, warm-ups included, so disconnect handling shows up here):", ""]
        lines += [f"- {line}" for line in run.complaints]
    return "\n".join(lines) + "\n"


def print_results(run: Results, found: list[Verdict]) -> None:
    for table in tables(run):
        print()
        print(table.text())
    print("\nTargets of the performance issue")
    width = max((len(v.target) for v in found), default=0)
    for verdict in found:
        print(f"  {verdict.status:>12}  {verdict.target.ljust(width)}  {verdict.measured}")
    remarks = headroom_lines(run.cells) + disturbance_lines(run.cells) + run.notes
    if remarks:
        print()
    for line in remarks:
        print(line)
    if run.cells:
        print(f"hypervisor steal: {steal_summary(run.cells)}")
    for line in run.complaints:
        print(f"logged by {line}")


def save(markdown: str, directory: Path, name: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(markdown)
    return path
