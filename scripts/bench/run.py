#!/usr/bin/env python3
"""Benchmark gomodel against its upstream on loopback, in one command.

Starts an upstream (nginx with canned replies, or the project's Python fake) and the gateway as
separate pinned processes, checks one request of every kind, then drives each scenario with wrk:
first straight at the upstream ("direct"), then through the gateway. Prints one table (req/s,
p50/p99, the gateway/direct ratio) and writes it with the machine description to
``scripts/bench/results/``. Every process it starts is stopped at the end, also on Ctrl-C.

    python scripts/bench/run.py            # full run: per cell 3 s warm-up + 3 x 10 s, about 5 min
    python scripts/bench/run.py --quick    # smoke run: per cell 1 s + 2 s, nothing saved
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import shutil
import signal
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from harness.gateway import RunningGateway, start_gateway
from harness.machine import describe
from harness.measure import CpuGroup, Load, Measurement, measure, parse_cpu_list
from harness.probe import ProbeError, probe
from harness.procs import ProcessSet, StartupError
from harness.report import (
    Row,
    disturbance_lines,
    headroom_lines,
    markdown_table,
    relay_lines,
    steal_summary,
    text_table,
)
from harness.scenarios import RELAY, SCENARIOS, Scenario, Target
from harness.source import GomodelSource, export_ref, working_tree
from harness.upstreams import RunningUpstream, start_fake, start_nginx
from harness.wrk import wrk_version

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Settings:
    upstream: str
    duration: int
    warmup: int
    repeat: int
    connections: int
    threads: int
    workers: int
    gateway_cpus: str | None
    load_cpus: str | None
    quick: bool
    quiet_wait: float

    def pinning(self) -> str:
        if self.gateway_cpus is None:
            return "none (processes float over all CPUs)"
        return f"gomodel on CPU {self.gateway_cpus}; upstream and wrk on CPU {self.load_cpus}"

    def load(self) -> Load:
        return Load(
            duration=self.duration,
            warmup=self.warmup,
            repeat=self.repeat,
            connections=self.connections,
            threads=self.threads,
            cpus=self.load_cpus,
            groups=self.cpu_groups(),
            quiet_wait=self.quiet_wait,
        )

    def cpu_groups(self) -> tuple[CpuGroup, ...]:
        if self.gateway_cpus is None or self.load_cpus is None:
            everything = frozenset(range(os.cpu_count() or 1))
            return (CpuGroup("all CPUs", everything, ("gomodel", "upstream", "wrk")),)
        return (
            CpuGroup(f"CPU {self.gateway_cpus}", parse_cpu_list(self.gateway_cpus), ("gomodel",)),
            CpuGroup(f"CPU {self.load_cpus}", parse_cpu_list(self.load_cpus), ("upstream", "wrk")),
        )

    def describe_load(self) -> str:
        runs = f"median of {self.repeat} runs" if self.repeat > 1 else "1 run"
        return (
            f"wrk, {self.threads} thread(s), {self.connections} connections (closed loop), "
            f"{runs} of {self.duration} s per cell after a {self.warmup} s warm-up"
        )


def parse_args(argv: Sequence[str] | None) -> tuple[argparse.Namespace, Settings]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--upstream", choices=("nginx", "fake"), default="nginx")
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement (default 10)")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up seconds per measurement (default 3)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per cell, median kept (default 3)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 run of 2 s per cell, 1 s warm-up")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1: it has one core)")
    parser.add_argument("--workers", type=int, default=1, help="gateway worker processes (default 1)")
    parser.add_argument("--gateway-cpus", default="1", help="taskset list for the gateway (default 1)")
    parser.add_argument("--load-cpus", default="0", help="taskset list for upstream and wrk (default 0)")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=30.0,
        help="before each run, wait up to this many seconds for other CPU use to stop (default 30)",
    )
    parser.add_argument("--no-pin", action="store_true", help="do not use taskset")
    parser.add_argument(
        "--save",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="write the results file (default: yes, except with --quick)",
    )
    parser.add_argument(
        "--gomodel-ref",
        metavar="REV",
        help="benchmark a clean export of this git revision (e.g. HEAD) instead of the working tree",
    )
    parser.add_argument("--no-install", action="store_true", help="never apt-get install nginx")
    parser.add_argument("--keep-logs", action="store_true", help="keep the temp dir with process logs")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.warmup, args.repeat = 2, 1, 1
    if min(args.duration, args.repeat, args.connections, args.workers) < 1 or args.warmup < 0:
        parser.error("--duration, --repeat, --connections and --workers must be >= 1, --warmup >= 0")
    # Pinning two sides apart needs two CPUs; on one, taskset would only add a confusing label.
    pin = not args.no_pin and (os.cpu_count() or 1) >= 2
    settings = Settings(
        upstream=args.upstream,
        duration=args.duration,
        warmup=args.warmup,
        repeat=args.repeat,
        connections=args.connections,
        threads=args.threads,
        workers=args.workers,
        gateway_cpus=args.gateway_cpus if pin else None,
        load_cpus=args.load_cpus if pin else None,
        quick=args.quick,
        quiet_wait=args.quiet_wait,
    )
    return args, settings


def _stop_on_signal(signum: int, _frame: FrameType | None) -> None:
    # SIGTERM/SIGHUP unwind like Ctrl-C, so the `finally` blocks stop every child.
    raise KeyboardInterrupt(f"signal {signum}")


def start_upstream(
    procs: ProcessSet, workdir: Path, settings: Settings, source: GomodelSource, install: bool
) -> RunningUpstream:
    if settings.upstream == "nginx":
        return start_nginx(procs, workdir, settings.load_cpus, install=install)
    return start_fake(procs, workdir, settings.load_cpus, source)


def probe_all(targets: Sequence[Target]) -> None:
    for scenario in SCENARIOS:
        for target in targets:
            if target.serves(scenario):
                probe(scenario, target.endpoint(scenario))


def run_matrix(upstream: RunningUpstream, gateway: RunningGateway, settings: Settings) -> list[Row]:
    """Every served (scenario, target) cell; a scenario with `direct_from` gets no direct cell of its
    own and is compared with that scenario's, which is the request its gateway sends upstream."""
    load = settings.load()
    cells: list[tuple[Scenario, Target, list[Measurement]]] = []
    for scenario in SCENARIOS:
        targets = [gateway.target] if scenario.direct_from else [upstream.direct, gateway.target]
        for target in targets:
            if not target.serves(scenario):
                continue
            # The gateway is watched during direct runs too: it should sit idle then.
            watched = {"gomodel": gateway.process, "upstream": upstream.process}
            print(f"  {scenario.label} -> {target.label} ...", flush=True)
            cells.append((scenario, target, measure(scenario, target.endpoint(scenario), load, watched)))
    direct = {s.key: Row(s, t, runs, None) for s, t, runs in cells if t is upstream.direct}
    relay = next(
        (
            Row(s, t, runs, direct.get(s.key))
            for s, t, runs in cells
            if s.key == RELAY and t is gateway.target
        ),
        None,
    )
    rows: list[Row] = []
    for scenario, target, runs in cells:
        if target is upstream.direct:
            rows.append(direct[scenario.key])
            continue
        baseline = direct.get(scenario.direct_from or scenario.key)
        compared = relay if scenario.relay_target is not None and relay and relay.target is target else None
        rows.append(Row(scenario, target, runs, baseline, compared))
    return rows


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


def render(
    rows: list[Row], header: dict[str, str], machine: dict[str, str], command: str, complaints: list[str]
) -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"# gomodel benchmark, {now}", "", f"Command: `{command}`", ""]
    lines += [f"- {key}: {value}" for key, value in header.items()]
    lines += ["", "## Machine", "", "| | |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in machine.items()]
    lines += ["", "## Results", "", markdown_table(rows), ""]
    lines += [f"- {line}" for line in relay_lines(rows) + headroom_lines(rows) + disturbance_lines(rows)]
    if complaints:
        lines += ["", "Gateway warnings/errors during the run (wrk drops its open connections mid-request"]
        lines += ["when each run ends, warm-ups included, so disconnect handling shows up here):", ""]
        lines += [f"- {line}" for line in complaints]
    return "\n".join(lines) + "\n"


def save(markdown: str, settings: Settings) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d-%H%M")
    name = f"{stamp}-{settings.upstream}{'-quick' if settings.quick else ''}.md"
    path = RESULTS_DIR / name
    path.write_text(markdown)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    args, settings = parse_args(argv)
    # SIGINT too: a shell starting us in the background leaves it ignored, and it must still stop us.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stop_on_signal)
    command = shlex.join(["python", "scripts/bench/run.py", *(sys.argv[1:] if argv is None else argv)])
    workdir = Path(tempfile.mkdtemp(prefix="gomodel-bench-"))
    try:
        source = export_ref(args.gomodel_ref, workdir) if args.gomodel_ref else working_tree()
        if source.pythonpath:
            # The canned nginx replies are built in this process by gomodel's own wire module.
            sys.path.insert(0, source.pythonpath)
        with ProcessSet() as procs:
            print(f"gomodel: {source.description}", flush=True)
            print(f"pinning: {settings.pinning()}", flush=True)
            upstream = start_upstream(procs, workdir, settings, source, install=not args.no_install)
            print(f"upstream: {upstream.kind}: {upstream.description}", flush=True)
            gateway = start_gateway(
                procs, workdir, settings.gateway_cpus, upstream, source, workers=settings.workers
            )
            probe_all([upstream.direct, gateway.target])
            print(f"load: {settings.describe_load()}", flush=True)
            rows = run_matrix(upstream, gateway, settings)
            complaints = gateway_complaints(gateway.log_path)
    except KeyboardInterrupt:
        print("\ninterrupted; every started process has been stopped", file=sys.stderr)
        return 130
    except (StartupError, ProbeError, RuntimeError, ValueError) as error:
        # Setup problems and wrong answers; the children are already stopped by now.
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 2
    finally:
        if args.keep_logs:
            print(f"logs kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    header = {
        "gomodel": source.description,
        "upstream": f"{upstream.kind}: {upstream.description}",
        "pinning": settings.pinning(),
        "load": settings.describe_load(),
        "CPU column": (
            "busy share of one core per process during the median run; other: what processes outside "
            "the run used on the gateway's and on the load side's CPUs"
        ),
        "hypervisor steal": steal_summary(rows),
    }
    machine = describe({"wrk": wrk_version()})
    print()
    print(text_table(rows))
    print()
    for line in relay_lines(rows) + headroom_lines(rows) + disturbance_lines(rows):
        print(line)
    print(f"hypervisor steal: {steal_summary(rows)}")
    for line in complaints:
        print(f"gateway logged: {line}")
    if args.save if args.save is not None else not settings.quick:
        path = save(render(rows, header, machine, command, complaints), settings)
        print(f"\nresults written to {path}")
    return 1 if any(row.errors for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
