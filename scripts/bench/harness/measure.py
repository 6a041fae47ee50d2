"""One wrk run against one target, with what the CPUs did meanwhile and the target's peak RSS.

`run.py`'s rounds call `warm_up` and `measure_once` per target in turn; `median` picks the run a
table row shows.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.bodies import Request
from harness.memory import RssPeak
from harness.procs import group_cpu_seconds
from harness.wrk import WrkResult, run_wrk

__all__ = [
    "QUIET_BUSY",
    "CpuGroup",
    "Load",
    "Measurement",
    "measure_once",
    "median",
    "parse_cpu_list",
    "wait_idle",
    "wait_quiet",
    "warm_up",
]

_CLK_TCK = os.sysconf("SC_CLK_TCK")


#: Busy cores, outside the measured processes, above which a measurement counts as disturbed.
QUIET_BUSY = 0.15
#: Share of a CPU's time taken by the hypervisor above which a run on it counts as disturbed.
STEAL_LIMIT = 0.05
#: Tries per run; the last one counts (and is flagged) if every try was disturbed.
_ATTEMPTS = 3
#: Share of a core below which a target counts as idle again after a run.
IDLE_BUSY = 0.05
_IDLE_WINDOW = 0.3


@dataclass(frozen=True)
class Load:
    duration: int
    warmup: int
    connections: int
    threads: int
    #: Where wrk runs.
    cpus: str | None
    #: Longest wait, before each measured run, for the rest of the machine to go quiet.
    quiet_wait: float = 30.0


@dataclass(frozen=True)
class CpuGroup:
    """CPUs that some of the run's processes are pinned to (all CPUs when unpinned)."""

    label: str
    cpus: frozenset[int]
    #: What this run loads here: the target under test, or the upstream and wrk.
    members: tuple[str, ...]
    #: The run's other targets pinned here, idle meanwhile: what they use is shown apart from
    #: "other" (foreign work), since waiting or measuring again would not change it.
    idle: tuple[str, ...] = ()

    @property
    def capacity(self) -> int:
        return len(self.cpus)


def parse_cpu_list(spec: str) -> frozenset[int]:
    """taskset's list syntax: ``0``, ``0,2``, ``0-3``."""
    cpus: set[int] = set()
    for part in spec.split(","):
        low, _, high = part.partition("-")
        cpus.update(range(int(low), int(high or low) + 1))
    return frozenset(cpus)


@dataclass(frozen=True)
class Measurement:
    result: WrkResult
    #: Busy share of one core per watched process and wrk while wrk ran: which side was saturated.
    cpu: dict[str, float]
    #: Seconds between the CPU snapshots (a share times this is CPU seconds).
    elapsed: float
    #: Highest resident memory of the target's processes, sampled during the run; 0 if not sampled.
    peak_rss: int
    #: Per CPU group, cores used by processes outside the run (tests, builds next to the benchmark).
    other: dict[str, float]
    #: Per CPU group, cores used by the run's idle targets (a peer's housekeeping, say).
    idle: dict[str, float]
    #: Share of all CPU time the hypervisor took away meanwhile; high values make figures noisy.
    steal: float
    #: Why the figures are suspect, if they are: other work on the side that was saturated.
    disturbance: str | None


@dataclass(frozen=True)
class _Snapshot:
    """Counters read before and after a run; differences give the run's CPU use."""

    at: float
    procs: dict[str, float]
    #: Children of the harness that have been waited for: here, the wrk runs.
    children: float
    #: Busy, stolen and total jiffies per CPU, from the ``cpuN`` lines of /proc/stat.
    busy: dict[int, int]
    stolen: dict[int, int]
    ticks: dict[int, int]
    #: Machine-wide steal and total jiffies, from its first line.
    steal: int
    total: int

    @classmethod
    def take(cls, watched: Mapping[str, tuple[int, ...]]) -> _Snapshot:
        busy: dict[int, int] = {}
        stolen: dict[int, int] = {}
        per_cpu: dict[int, int] = {}
        steal = total = 0
        try:
            lines = Path("/proc/stat").read_text().splitlines()
        except OSError:
            lines = []
        for line in lines:
            if not line.startswith("cpu"):
                break
            name, *fields = line.split()
            # user nice system idle iowait irq softirq steal: idle, iowait and steal are not busy.
            ticks = [int(v) for v in fields[:8]]
            if name == "cpu":
                steal, total = ticks[7], sum(ticks)
            else:
                cpu = int(name[3:])
                busy[cpu] = sum(ticks[:3]) + ticks[5] + ticks[6]
                stolen[cpu], per_cpu[cpu] = ticks[7], sum(ticks)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        per_group = group_cpu_seconds({pgid for pgids in watched.values() for pgid in pgids})
        return cls(
            at=time.monotonic(),
            procs={name: sum(per_group[pgid] for pgid in pgids) for name, pgids in watched.items()},
            children=children.ru_utime + children.ru_stime,
            busy=busy,
            stolen=stolen,
            ticks=per_cpu,
            steal=steal,
            total=total,
        )

    def busy_cores(self, earlier: _Snapshot, cpus: frozenset[int] | None = None) -> float:
        """Cores kept busy on ``cpus`` (default: all) between ``earlier`` and this snapshot."""
        ticks = sum(
            n - earlier.busy.get(cpu, n) for cpu, n in self.busy.items() if cpus is None or cpu in cpus
        )
        return ticks / _CLK_TCK / (self.at - earlier.at)

    def steal_share(self, earlier: _Snapshot, cpus: frozenset[int]) -> float:
        """Share of ``cpus``' time the hypervisor gave to other guests since ``earlier``."""
        stolen = sum(self.stolen[c] - earlier.stolen.get(c, self.stolen[c]) for c in cpus if c in self.stolen)
        total = sum(self.ticks[c] - earlier.ticks.get(c, self.ticks[c]) for c in cpus if c in self.ticks)
        return stolen / total if total > 0 else 0.0


def _machine_busy(ours: Mapping[str, tuple[int, ...]], window: float = 1.0) -> float:
    """Busy cores over ``window`` seconds, machine-wide, minus the run's own idle processes."""
    before = _Snapshot.take(ours)
    time.sleep(window)
    after = _Snapshot.take(ours)
    own = sum(after.procs.values()) - sum(before.procs.values())
    return max(0.0, after.busy_cores(before) - own / (after.at - before.at))


def wait_quiet(limit: float, ours: Mapping[str, tuple[int, ...]] | None = None) -> None:
    """Give other work on the machine (test runs, builds) up to ``limit`` seconds to finish.

    Bounded: after the limit the run goes ahead, and its "other" CPU share shows the disturbance.
    The run's own processes (``ours``) do not count: waiting would not make an idle peer's
    housekeeping stop, and what it costs shows in each run's CPU column instead.
    """
    deadline = time.monotonic() + limit
    announced = False
    while (busy := _machine_busy(ours or {})) > QUIET_BUSY and time.monotonic() < deadline:
        if not announced:
            print(f"    waiting for other CPU use to stop ({busy:.0%} of a core busy)", flush=True)
            announced = True


def wait_idle(pgids: tuple[int, ...], limit: float) -> float:
    """Wait, up to ``limit`` seconds, until these process groups stop using CPU; seconds waited.

    wrk drops its connections when a run ends. gomodel and the bare relay cancel the work of a
    client that left; a gateway that does not keeps serving up to 64 abandoned requests, and that
    would land in the next target's run (or inflate its own next run).
    """
    started = time.monotonic()
    while time.monotonic() - started < limit:
        before = sum(group_cpu_seconds(pgids).values())
        time.sleep(_IDLE_WINDOW)
        if sum(group_cpu_seconds(pgids).values()) - before < IDLE_BUSY * _IDLE_WINDOW:
            break
    return time.monotonic() - started


def _measurement(
    result: WrkResult, before: _Snapshot, after: _Snapshot, groups: tuple[CpuGroup, ...], peak_rss: int
) -> Measurement:
    elapsed = after.at - before.at
    cpu = {name: (after.procs[name] - before.procs[name]) / elapsed for name in after.procs}
    cpu["wrk"] = (after.children - before.children) / elapsed
    other: dict[str, float] = {}
    idle: dict[str, float] = {}
    disturbance = None
    for group in groups:
        ours = sum(cpu.get(name, 0.0) for name in group.members)
        idle[group.label] = sum(cpu.get(name, 0.0) for name in group.idle)
        other[group.label] = max(0.0, after.busy_cores(before, group.cpus) - ours - idle[group.label])
        # Other work only skews the figures where the run itself kept the CPUs busy: during a
        # gateway run that is the gateway's CPU, during a direct run the upstream's and wrk's.
        if ours < 0.5 * group.capacity:
            continue
        stolen = after.steal_share(before, group.cpus)
        if other[group.label] > QUIET_BUSY:
            disturbance = f"{group.label}: {other[group.label]:.0%} of a core used by other processes"
        elif stolen > STEAL_LIMIT:
            disturbance = f"{group.label}: {stolen:.0%} of its time stolen by the hypervisor"
    total = after.total - before.total
    steal = (after.steal - before.steal) / total if total > 0 else 0.0
    return Measurement(result, cpu, elapsed, peak_rss, other, idle, steal, disturbance)


def _wrk(request: Request, load: Load, seconds: int) -> WrkResult:
    return run_wrk(
        request, duration_s=seconds, connections=load.connections, threads=load.threads, cpus=load.cpus
    )


def warm_up(request: Request, load: Load) -> None:
    """Fills the target's upstream pool and lets every process settle before anything counts."""
    if load.warmup:
        _wrk(request, load, load.warmup)


def measure_once(
    request: Request,
    load: Load,
    watched: Mapping[str, tuple[int, ...]],
    groups: tuple[CpuGroup, ...],
    rss_of: tuple[int, ...] = (),
) -> Measurement:
    """One run; redone (a bounded number of times) when other work on the machine disturbed it.

    ``watched``: name -> process groups whose CPU is accounted; ``groups``: which names (and "wrk")
    run on which CPUs; ``rss_of``: the process groups whose peak RSS is sampled meanwhile.
    """
    for attempt in range(1, _ATTEMPTS + 1):
        wait_quiet(load.quiet_wait, watched)
        with RssPeak(rss_of) as rss:
            before = _Snapshot.take(watched)
            result = _wrk(request, load, load.duration)
            after = _Snapshot.take(watched)
        measurement = _measurement(result, before, after, groups, rss.peak)
        if measurement.disturbance is None or attempt == _ATTEMPTS:
            break
        print(f"    disturbed ({measurement.disturbance}); measuring again", flush=True)
    return measurement


def median(runs: list[Measurement]) -> Measurement:
    """The run with the median rate (the lower middle for an even count): a real run, not a blend."""
    ordered = sorted(runs, key=lambda m: m.result.requests_per_s)
    return ordered[(len(ordered) - 1) // 2]
