"""One table of results, as aligned text for the terminal and as markdown for the results file."""

from __future__ import annotations

from dataclasses import dataclass

from harness.measure import Measurement, median
from harness.scenarios import Scenario, Target

__all__ = [
    "Row",
    "disturbance_lines",
    "headroom_lines",
    "markdown_table",
    "relay_lines",
    "steal_summary",
    "text_table",
]

#: "The upstream must not be the bottleneck": its direct rate should be at least this many times
#: the gateway's, or the gateway figure is partly the upstream's.
MIN_HEADROOM = 3.0

_HEADERS = (
    "scenario", "target", "req/s", "req/s range", "p50 ms", "p99 ms",
    "vs direct", "vs relay", "errors", "CPU",
)  # fmt: skip
_NUMERIC = {2, 3, 4, 5, 6, 7, 8}


@dataclass(frozen=True)
class Row:
    scenario: Scenario
    target: Target
    runs: list[Measurement]
    #: The direct row of the same scenario (or of the scenario named by `direct_from`, when that
    #: row is the request this one's gateway sends upstream); None for the direct row itself.
    direct: Row | None
    #: gomodel's OpenAI -> OpenAI stream relay row of the same run, for scenarios with a relay target.
    relay: Row | None = None

    @property
    def chosen(self) -> Measurement:
        return median(self.runs)

    @property
    def rps(self) -> float:
        return self.chosen.result.requests_per_s

    @property
    def ratio(self) -> float | None:
        if self.direct is None or not self.direct.rps:
            return None
        return self.rps / self.direct.rps

    @property
    def relay_ratio(self) -> float | None:
        if self.relay is None or not self.relay.rps:
            return None
        return self.rps / self.relay.rps

    @property
    def errors(self) -> int:
        return sum(run.result.errors for run in self.runs)

    def cells(self) -> tuple[str, ...]:
        chosen = self.chosen
        rates = [run.result.requests_per_s for run in self.runs]
        spread = f"{min(rates):,.0f}-{max(rates):,.0f}" if len(rates) > 1 else "-"
        ratio = "1" if self.direct is None else f"{self.ratio:.3f}" if self.ratio is not None else "-"
        relay = f"{self.relay_ratio:.2f}" if self.relay_ratio is not None else "-"
        cpu = ", ".join(f"{name} {share:.0%}" for name, share in chosen.cpu.items())
        cpu += "; other: " + ", ".join(f"{label} {share:.0%}" for label, share in chosen.other.items())
        return (
            self.scenario.label,
            self.target.label,
            f"{self.rps:,.0f}",
            spread,
            f"{chosen.result.p50:.2f}",
            f"{chosen.result.p99:.2f}",
            ratio,
            relay,
            str(self.errors),
            cpu,
        )


def text_table(rows: list[Row]) -> str:
    cells = [_HEADERS, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(_HEADERS))]

    def fmt(line: tuple[str, ...]) -> str:
        padded = (
            c.rjust(w) if i in _NUMERIC else c.ljust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        )
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(cells[0]), rule, *(fmt(line) for line in cells[1:])])


def markdown_table(rows: list[Row]) -> str:
    align = ["--:" if i in _NUMERIC else "---" for i in range(len(_HEADERS))]
    lines = ["| " + " | ".join(_HEADERS) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(lines)


def headroom_lines(rows: list[Row]) -> list[str]:
    """Per scenario: is the upstream fast enough that the gateway figure is the gateway's?"""
    lines = []
    for row in rows:
        if not row.ratio:
            continue
        headroom = 1 / row.ratio
        verdict = "ok" if headroom >= MIN_HEADROOM else "TOO LOW: the upstream may be the bottleneck"
        lines.append(
            f"{row.scenario.label}: direct is {headroom:.1f}x {row.target.label}'s rate "
            f"(want >= {MIN_HEADROOM:g}x): {verdict}"
        )
    return lines


def relay_lines(rows: list[Row]) -> list[str]:
    """Per translated/native scenario: its gateway rate against gomodel's own stream relay, and the target."""
    lines = []
    for row in rows:
        target = row.scenario.relay_target
        if row.relay_ratio is None or target is None:
            continue
        verdict = "met" if row.relay_ratio >= target else "NOT met"
        lines.append(
            f"{row.scenario.label}: {row.relay_ratio:.2f}x the {row.relay.scenario.label} relay "
            f"({row.rps:,.0f} vs {row.relay.rps:,.0f} req/s; target >= {target:g}): {verdict}"
        )
    return lines


def steal_summary(rows: list[Row]) -> str:
    steals = [run.steal for row in rows for run in row.runs]
    return f"{min(steals):.1%} to {max(steals):.1%} per measurement" if steals else "n/a"


def disturbance_lines(rows: list[Row]) -> list[str]:
    """Cells whose runs shared their busy CPUs with other work: their figures are suspect."""
    lines = []
    for row in rows:
        disturbed = [run.disturbance for run in row.runs if run.disturbance]
        if disturbed:
            lines.append(
                f"DISTURBED: {row.scenario.label} -> {row.target.label}: {len(disturbed)} of "
                f"{len(row.runs)} runs ({disturbed[0]}); rerun on a quiet machine"
            )
    return lines
