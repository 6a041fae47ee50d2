"""One cell of the table: warm up, run wrk a few times, keep the median run and what the CPUs did."""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

from harness.procs import ManagedProcess
from harness.scenarios import Endpoint, Scenario
from harness.wrk import WrkResult, run_wrk

__all__ = [
    "QUIET_BUSY",
    "CpuGroup",
    "Load",
    "Measurement",
    "measure",
    "median",
    "parse_cpu_list",
    "wait_quiet",
]

_CLK_TCK = os.sysconf("SC_CLK_TCK")


#: Busy cores, outside the measured processes, above which a measurement counts as disturbed.
QUIET_BUSY = 0.15
#: Share of a CPU's time taken by the hypervisor above which a run on it counts as disturbed.
STEAL_LIMIT = 0.05
#: Tries per run; the last one counts (and is flagged) if every try was disturbed.
_ATTEMPTS = 3


@dataclass(frozen=True)
class Load:
    duration: int
    warmup: int
    repeat: int
    connections: int
    threads: int
    cpus: str | None
    #: Where the processes run; "wrk" is one of the members.
    groups: tuple[CpuGroup, ...]
    #: Longest wait, before each measured run, for the rest of the machine to go quiet.
    quiet_wait: float = 30.0


@dataclass(frozen=True)
class CpuGroup:
    """CPUs that some of the run's processes are pinned to (all CPUs when unpinned)."""

    label: str
    cpus: frozenset[int]
    members: tuple[str, ...]

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
    #: Per CPU group, cores used by processes outside the run (tests, builds next to the benchmark).
    other: dict[str, float]
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
    def take(cls, watched: dict[str, ManagedProcess]) -> _Snapshot:
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
        return cls(
            at=time.monotonic(),
            procs={name: proc.cpu_seconds() for name, proc in watched.items()},
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


def _machine_busy(window: float = 1.0) -> float:
    """Busy cores over ``window`` seconds, machine-wide (only meaningful between runs)."""
    before = _Snapshot.take({})
    time.sleep(window)
    return _Snapshot.take({}).busy_cores(before)


def wait_quiet(limit: float) -> None:
    """Give other work on the machine (test runs, builds) up to ``limit`` seconds to finish.

    Bounded: after the limit the run goes ahead, and its "other" CPU share shows the disturbance.
    """
    deadline = time.monotonic() + limit
    announced = False
    while (busy := _machine_busy()) > QUIET_BUSY and time.monotonic() < deadline:
        if not announced:
            print(f"    waiting for other CPU use to stop ({busy:.0%} of a core busy)", flush=True)
            announced = True


def _measurement(result: WrkResult, before: _Snapshot, after: _Snapshot, load: Load) -> Measurement:
    elapsed = after.at - before.at
    cpu = {name: (after.procs[name] - before.procs[name]) / elapsed for name in after.procs}
    cpu["wrk"] = (after.children - before.children) / elapsed
    other: dict[str, float] = {}
    disturbance = None
    for group in load.groups:
        ours = sum(cpu.get(name, 0.0) for name in group.members)
        other[group.label] = max(0.0, after.busy_cores(before, group.cpus) - ours)
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
    return Measurement(result, cpu, other, steal, disturbance)


def _wrk(scenario: Scenario, endpoint: Endpoint, load: Load, seconds: int) -> WrkResult:
    return run_wrk(
        endpoint,
        scenario.script,
        duration_s=seconds,
        connections=load.connections,
        threads=load.threads,
        cpus=load.cpus,
    )


def measure_once(
    scenario: Scenario, endpoint: Endpoint, load: Load, watched: dict[str, ManagedProcess]
) -> Measurement:
    """One run; redone (a bounded number of times) when other work on the machine disturbed it."""
    for attempt in range(1, _ATTEMPTS + 1):
        wait_quiet(load.quiet_wait)
        before = _Snapshot.take(watched)
        result = _wrk(scenario, endpoint, load, load.duration)
        measurement = _measurement(result, before, _Snapshot.take(watched), load)
        if measurement.disturbance is None or attempt == _ATTEMPTS:
            break
        print(f"    disturbed ({measurement.disturbance}); measuring again", flush=True)
    return measurement


def measure(
    scenario: Scenario, endpoint: Endpoint, load: Load, watched: dict[str, ManagedProcess]
) -> list[Measurement]:
    if load.warmup:
        # Fills the gateway's upstream pool and lets every process settle before anything counts.
        _wrk(scenario, endpoint, load, load.warmup)
    return [measure_once(scenario, endpoint, load, watched) for _ in range(load.repeat)]


def median(runs: list[Measurement]) -> Measurement:
    """The run with the median rate (the lower middle for an even count): a real run, not a blend."""
    ordered = sorted(runs, key=lambda m: m.result.requests_per_s)
    return ordered[(len(ordered) - 1) // 2]
