#!/usr/bin/env python3
"""Benchmark gomodel against its upstream, a bare aiohttp relay and peer gateways, in one command.

Starts a canned upstream (nginx) and every target as separate pinned processes (targets on CPU 1;
upstream and load tools on CPU 0), checks one request of every kind, then measures in alternating
rounds: saturation with wrk (a, b, f, g, 3, h; CPU per request from /proc, e), latency at a fixed
low rate with hey (c), memory idle, under load and with 1,000 slow streams open (d), and cold start
(i). Prints one table per group, each figure also as a ratio to direct, the bare relay and each peer,
then the issue's targets with PASS/MISS, and writes it all with the machine description to
``scripts/bench/results/``. Every process it starts is stopped at the end, also on Ctrl-C.

    python scripts/bench/run.py                         # full run, about 30 min with both peers
    python scripts/bench/run.py --quick --no-peers      # smoke run, about 4 min, nothing saved
    python scripts/bench/run.py --scenarios a,b,e --no-peers   # iterate on gomodel vs the bare relay
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shlex
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

from harness.contenders import (
    Contender,
    direct_contender,
    gomodel_contender,
    peer_contender,
    start_bare,
)
from harness.gateway import RunningGateway, start_gateway
from harness.hey import WORKERS as HEY_WORKERS
from harness.hey import hey_binary, hey_version
from harness.machine import describe
from harness.measure import Load
from harness.memory import instance_rss
from harness.phases import (
    STREAM_DELAY_MS,
    PeerStarter,
    StreamPlan,
    cold_starts,
    peer_cold_start,
    slow_streams,
)
from harness.probe import ProbeError, probe
from harness.procs import ProcessSet, StartupError
from harness.report import (
    MemoryRow,
    steal_summary,
)
from harness.results import Results, gateway_complaints, memory_rows, print_results, render, save
from harness.rounds import Cell, latency_rounds, saturation_rounds, watched
from harness.scenarios import MEASUREMENTS, RELAY, SCENARIOS, Scenario
from harness.source import GomodelSource, export_ref, working_tree
from harness.tools import tool_version
from harness.upstreams import RunningUpstream, start_fake, start_nginx
from harness.verdicts import Verdict, verdicts
from harness.wrk import wrk_binary, wrk_version

peer_module: ModuleType | None
try:
    from harness import peers as peer_module
except ImportError:  # written in parallel with this harness; without it the run has no peers
    peer_module = None

RESULTS_DIR = Path(__file__).resolve().parent / "results"
PEERS = ("litellm", "portkey")
LETTERS = ("a", "b", "c", "d", "e", "f", "g", "h", "i", "3")
#: Scenarios (c) measures at a fixed rate.
LATENCY_SCENARIOS = ("chat", RELAY)
#: (c) stays at or below this share of a target's saturated rate (when (a)/(b) ran first).
LATENCY_SHARE = 0.25


@dataclass(frozen=True)
class Settings:
    upstream: str
    duration: int
    warmup: int
    rounds: int
    connections: int
    threads: int
    gateway_cpus: str | None
    load_cpus: str | None
    quick: bool
    quiet_wait: float
    #: Letters of what runs (see LETTERS).
    letters: frozenset[str]
    peers: tuple[str, ...]
    workers2: bool
    latency_rate: float
    litellm_rate: float
    latency_duration: int
    latency_warmup: int
    streams: int
    stream_chunks: int
    cold_starts: int

    @property
    def both_cpus(self) -> str | None:
        """Where gomodel --workers 2 runs: the gateway's and the load side's CPUs together."""
        if self.gateway_cpus is None or self.load_cpus is None:
            return None
        return f"{self.load_cpus},{self.gateway_cpus}"

    def scenarios(self) -> list[Scenario]:
        return [s for s in SCENARIOS if s.letter in self.letters]

    def pinning(self) -> str:
        if self.gateway_cpus is None:
            return "none (processes float over all CPUs)"
        two = f"gomodel 2 workers on CPU {self.both_cpus}; " if self.workers2 else ""
        return (
            f"every target under test (bare relay, gomodel 1 worker, peers) on CPU {self.gateway_cpus}; "
            f"{two}upstreams, wrk, hey and the slow-stream client on CPU {self.load_cpus} (taskset)"
        )

    def load(self) -> Load:
        return Load(
            duration=self.duration,
            warmup=self.warmup,
            connections=self.connections,
            threads=self.threads,
            cpus=self.load_cpus,
            quiet_wait=self.quiet_wait,
        )

    def latency_rate_of(self, cells: Sequence[Cell]) -> Callable[[Scenario, Contender], float | None]:
        """(c)'s rate per scenario and target: the set rate, but never above `LATENCY_SHARE` of what
        the target saturated at in this run, or it would measure queueing."""

        def rate(scenario: Scenario, contender: Contender) -> float | None:
            if contender.direct_only:
                return None
            # LiteLLM saturates near 100 req/s on one core.
            wanted = self.litellm_rate if contender.key == "litellm" else self.latency_rate
            saturated = next(
                (c.rps for c in cells if c.scenario.key == scenario.key and c.contender.key == contender.key),
                None,
            )
            return min(wanted, round(LATENCY_SHARE * saturated, 1)) if saturated else wanted

        return rate

    def describe_load(self) -> str:
        runs = f"median of {self.rounds} alternating rounds" if self.rounds > 1 else "1 round"
        return (
            f"wrk, {self.threads} thread(s), {self.connections} connections (closed loop), "
            f"{runs} of {self.duration} s per target after a {self.warmup} s warm-up each"
        )

    def describe_latency(self) -> str:
        return (
            f"hey -c {HEY_WORKERS}, {self.latency_rate:g} req/s (LiteLLM: {self.litellm_rate:g}; "
            f"never above {LATENCY_SHARE:.0%} of the target's saturated rate in this run), "
            f"{self.latency_duration} s per target after a {self.latency_warmup} s warm-up, "
            f"medians of {self.rounds} round(s)"
        )

    def describe_streams(self) -> str:
        return (
            f"{self.streams:,} streams at once through a fresh instance in front of the project's fake "
            f"(python -m gomodel.testing.fake_upstream, {self.stream_chunks} chunks "
            f"{STREAM_DELAY_MS} ms apart), 2 bursts"
        )


def _letters(text: str, parser: argparse.ArgumentParser) -> frozenset[str]:
    letters = {part.strip().lower() for part in text.split(",") if part.strip()}
    if "all" in letters:
        return frozenset(LETTERS)
    unknown = letters - set(LETTERS)
    if unknown:
        parser.error(f"--scenarios: unknown {', '.join(sorted(unknown))} (choose from {', '.join(LETTERS)})")
    if "e" in letters:
        # CPU per request is read from the (a) and (b) runs.
        letters |= {"a", "b"}
    return frozenset(letters)


def parse_args(argv: Sequence[str] | None) -> tuple[argparse.Namespace, Settings]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    legend = "; ".join([*(s.title for s in SCENARIOS), *MEASUREMENTS.values()])
    parser.add_argument("--scenarios", default="all", help=f"comma-separated letters, default all: {legend}")
    parser.add_argument("--upstream", choices=("nginx", "fake"), default="nginx")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument(
        "--warmup", type=int, default=3, help="wrk warm-up seconds before each run (default 3)"
    )
    parser.add_argument(
        "--rounds", "--repeat", type=int, default=3, help="alternating rounds, median kept (default 3)"
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 round, short runs, nothing saved")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1: it has one core)")
    parser.add_argument("--gateway-cpus", default="1", help="taskset list for the targets (default 1)")
    parser.add_argument("--load-cpus", default="0", help="taskset list for upstream and load (default 0)")
    parser.add_argument("--no-peers", action="store_true", help="no LiteLLM and no Portkey")
    parser.add_argument("--no-litellm", action="store_true")
    parser.add_argument("--no-portkey", action="store_true")
    parser.add_argument(
        "--no-workers2", action="store_true", help="skip gomodel --workers 2 (on both CPUs) in (a) and (b)"
    )
    parser.add_argument("--latency-rate", type=float, default=100.0, help="(c) req/s (default 100)")
    parser.add_argument(
        "--litellm-latency-rate", type=float, default=20.0, help="(c) req/s for LiteLLM (default 20)"
    )
    parser.add_argument("--latency-duration", type=int, default=10, help="(c) seconds per run (default 10)")
    parser.add_argument("--streams", type=int, default=1000, help="(d) slow streams at once (default 1000)")
    parser.add_argument(
        "--stream-chunks",
        type=int,
        default=150,
        help="(d) chunks per slow stream, 100 ms apart (default 150: 15 s, quick 100)",
    )
    parser.add_argument("--cold-starts", type=int, default=3, help="(i) starts per target (default 3)")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=None,
        help="before each run, wait up to this many seconds for other CPU use to stop (default 30, quick 5)",
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
    parser.add_argument(
        "--no-install", action="store_true", help="never install anything (nginx, wrk, hey, peers)"
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep the temp dir with process logs")
    args = parser.parse_args(argv)
    latency_warmup = 2
    if args.quick:
        args.duration, args.warmup, args.rounds = 2, 1, 1
        # Streams shorter than ~10 s end before 1,000 are open when the machine is busy.
        args.latency_duration, latency_warmup, args.stream_chunks = 3, 1, 100
    if args.quiet_wait is None:
        args.quiet_wait = 5.0 if args.quick else 30.0
    numbers = (args.duration, args.rounds, args.connections, args.latency_duration, args.streams)
    if min(numbers) < 1 or args.warmup < 0 or args.cold_starts < 0 or args.stream_chunks < 1:
        parser.error("durations, --rounds, --connections, --streams and --stream-chunks must be >= 1")
    # Pinning two sides apart needs two CPUs; on one, taskset would only add a confusing label.
    pin = not args.no_pin and (os.cpu_count() or 1) >= 2
    peers = () if args.no_peers else tuple(p for p in PEERS if not getattr(args, f"no_{p}"))
    settings = Settings(
        upstream=args.upstream,
        duration=args.duration,
        warmup=args.warmup,
        rounds=args.rounds,
        connections=args.connections,
        threads=args.threads,
        gateway_cpus=args.gateway_cpus if pin else None,
        load_cpus=args.load_cpus if pin else None,
        quick=args.quick,
        quiet_wait=args.quiet_wait,
        letters=_letters(args.scenarios, parser),
        peers=peers,
        workers2=not args.no_workers2,
        latency_rate=args.latency_rate,
        litellm_rate=args.litellm_latency_rate,
        latency_duration=args.latency_duration,
        latency_warmup=latency_warmup,
        streams=args.streams,
        stream_chunks=args.stream_chunks,
        cold_starts=args.cold_starts,
    )
    return args, settings


def _stop_on_signal(signum: int, _frame: FrameType | None) -> None:
    # SIGTERM/SIGHUP unwind like Ctrl-C, so the `finally` blocks stop every child.
    raise KeyboardInterrupt(f"signal {signum}")


def say(line: str) -> None:
    print(line, flush=True)


@dataclass
class PeerLauncher:
    """Starts one more instance of a peer (`harness.peers.start_<key>`) in front of an upstream."""

    key: str
    start: Callable[..., Any]
    procs: ProcessSet
    workdir: Path
    cpus: str | None
    install: bool
    started: int = 0

    def __call__(self, upstream: RunningUpstream) -> Contender:
        self.started += 1
        # Each instance gets its own directory for whatever config files it writes.
        home = self.workdir / f"{self.key}-{self.started}"
        home.mkdir(exist_ok=True)
        running = self.start(self.procs, home, self.cpus, upstream, install=self.install)
        return peer_contender(
            running.target, running.process, self.cpus, running.version, tuple(running.notes)
        )


def peer_starters(
    settings: Settings, procs: ProcessSet, workdir: Path, install: bool
) -> dict[str, PeerStarter]:
    """key -> a function starting one more instance of that peer in front of an upstream."""
    if peer_module is None:
        return {}
    return {
        key: PeerLauncher(
            key, getattr(peer_module, f"start_{key}"), procs, workdir, settings.gateway_cpus, install
        )
        for key in settings.peers
    }


def start_targets(
    procs: ProcessSet,
    workdir: Path,
    settings: Settings,
    upstream: RunningUpstream,
    source: GomodelSource,
    *,
    starters: dict[str, PeerStarter],
) -> tuple[list[Contender], list[RunningGateway], list[str]]:
    notes: list[str] = []
    contenders = [direct_contender(upstream, settings.load_cpus)]
    contenders.append(start_bare(procs, workdir, settings.gateway_cpus, upstream))
    say(f"bare relay: {len(contenders[-1].processes)} instance(s) of scripts/bench/peers/bare_relay.py")
    gateways = [start_gateway(procs, workdir, settings.gateway_cpus, upstream, source)]
    contenders.append(gomodel_contender(gateways[0], settings.gateway_cpus))
    if settings.workers2 and settings.letters & {"a", "b"}:
        # Against direct only: on both cores it shares CPU 0 with the upstream and wrk.
        two = start_gateway(
            procs, workdir, settings.both_cpus, upstream, source, workers=2, scenarios=("chat", RELAY)
        )
        gateways.append(two)
        contenders.append(gomodel_contender(two, settings.both_cpus, direct_only=True))
    for key, start in starters.items():
        say(f"starting {key} ...")
        try:
            contender = start(upstream)
        except Exception as error:  # a peer's own failure must not end the run
            notes.append(f"{key}: not started: {error}")
            say(f"  {key} not started: {error}")
            continue
        say(f"  {contender.label} {contender.version}")
        notes += [f"{contender.label}: {note}" for note in contender.notes]
        contenders.append(contender)
    if settings.peers and peer_module is None:
        notes.append("peers skipped: harness/peers.py is not there yet")
    return contenders, gateways, notes


def probe_all(contenders: list[Contender], notes: list[str]) -> list[Contender]:
    """One checked request per scenario and target; a peer that fails one loses just that scenario."""
    checked = []
    for original in contenders:
        contender = original
        for scenario in SCENARIOS:
            if not contender.target.serves(scenario):
                continue
            try:
                probe(scenario, contender.target.endpoint(scenario), strict_usage=contender.strict_usage)
            except ProbeError as error:
                if contender.role != "peer":
                    raise ProbeError(f"{contender.label}, {scenario.label}: {error}") from None
                why = f"{scenario.label} dropped: the probe failed: {error}"
                notes.append(f"{contender.label}: {why}")
                say(f"  {contender.label}: {why}")
                contender = contender.without(scenario.key, why)
        checked.append(contender)
    return checked


def measure_all(
    run: Results,
    settings: Settings,
    upstream: RunningUpstream,
    source: GomodelSource,
    *,
    procs: ProcessSet,
    workdir: Path,
    starters: dict[str, PeerStarter],
) -> None:
    """Every selected measurement, in order, into ``run``."""
    contenders = run.contenders
    if "i" in settings.letters and settings.cold_starts:
        say("(i) cold start")
        run.starts += cold_starts(
            contenders,
            upstream,
            source,
            workdir,
            settings.gateway_cpus,
            count=settings.cold_starts,
            say=say,
        )
    if settings.scenarios():
        say(f"saturation: {settings.describe_load()}")
        run.cells += saturation_rounds(
            settings.scenarios(),
            contenders,
            upstream.process.pid,
            settings.load(),
            rounds=settings.rounds,
            progress=say,
        )
    if "c" in settings.letters:
        say(f"(c) latency: {settings.describe_latency()}")
        run.latency += latency_rounds(
            [s for s in SCENARIOS if s.key in LATENCY_SCENARIOS],
            contenders,
            settings.latency_rate_of(run.cells),
            duration=settings.latency_duration,
            warmup=settings.latency_warmup,
            rounds=settings.rounds,
            load_cpus=settings.load_cpus,
            quiet_wait=settings.quiet_wait,
            ours=watched(contenders, upstream.process.pid),
            progress=say,
        )
    streams: dict[str, MemoryRow] = {}
    if "d" in settings.letters:
        say(f"(d) slow streams: {settings.describe_streams()}")
        plan = StreamPlan(settings.streams, settings.stream_chunks, settings.gateway_cpus, settings.load_cpus)
        peers = {key: start for key, start in starters.items() if any(c.key == key for c in contenders)}
        streams, notes = slow_streams(procs, workdir, source, plan, peers=peers, say=say)
        run.notes += notes
    run.memory += memory_rows(run, streams)
    if "i" in settings.letters:
        for key, start in starters.items():
            if any(c.key == key for c in contenders):
                say(f"(i) cold start: {key}")
                start_time = peer_cold_start(key, start, upstream)
                if start_time is not None:
                    run.starts.append(start_time)


def start_upstream(
    procs: ProcessSet, workdir: Path, settings: Settings, source: GomodelSource, install: bool
) -> RunningUpstream:
    if settings.upstream == "nginx":
        return start_nginx(procs, workdir, settings.load_cpus, install=install)
    return start_fake(procs, workdir, settings.load_cpus, source)


def versions(settings: Settings, contenders: Sequence[Contender]) -> dict[str, str]:
    nginx = tool_version(["nginx", "-v"]).removeprefix("nginx version: ")
    found = {"wrk": wrk_version(), "hey": hey_version(), "nginx": nginx}
    for contender in contenders:
        if contender.role == "peer":
            found[contender.label] = contender.version
    if "portkey" in settings.peers:
        found["node"] = tool_version(["node", "--version"])
    return found


def execute(
    args: argparse.Namespace, settings: Settings, workdir: Path
) -> tuple[Results, list[Verdict], dict[str, str]]:
    """Set up, measure, stop everything; the results, the verdicts and what ran (for the header)."""
    source = export_ref(args.gomodel_ref, workdir) if args.gomodel_ref else working_tree()
    if source.pythonpath:
        # The canned nginx replies are built in this process by gomodel's own wire module.
        sys.path.insert(0, source.pythonpath)
    install = not args.no_install
    wrk_binary(install=install)
    if "c" in settings.letters:
        hey_binary(install=install)
    with ProcessSet() as procs:
        say(f"gomodel: {source.description}")
        say(f"pinning: {settings.pinning()}")
        upstream = start_upstream(procs, workdir, settings, source, install)
        say(f"upstream: {upstream.kind}: {upstream.description}")
        starters = peer_starters(settings, procs, workdir, install)
        contenders, gateways, notes = start_targets(
            procs, workdir, settings, upstream, source, starters=starters
        )
        contenders = probe_all(contenders, notes)
        # Idle: started and probed (one request each), nothing else yet.
        time.sleep(1.0)
        idle = {c.key: instance_rss(c.pgids) for c in contenders}
        descriptions = {
            "saturation": settings.describe_load(),
            "latency": settings.describe_latency(),
            "streams": settings.describe_streams(),
        }
        run = Results(contenders, notes, idle, descriptions, settings.streams)
        run.versions = versions(settings, contenders)
        measure_all(run, settings, upstream, source, procs=procs, workdir=workdir, starters=starters)
    run.complaints = [
        f"{g.target.label}: {line}" for g in gateways for line in gateway_complaints(g.log_path)
    ]
    labels = {c.key: c.label for c in run.contenders}
    found = verdicts(run.cells, run.latency, run.memory, run.starts, labels=labels, streams=settings.streams)
    ran = {"gomodel": source.description, "upstream": f"{upstream.kind}: {upstream.description}"}
    return run, found, ran


def main(argv: Sequence[str] | None = None) -> int:
    args, settings = parse_args(argv)
    # SIGINT too: a shell starting us in the background leaves it ignored, and it must still stop us.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stop_on_signal)
    command = shlex.join(["python", "scripts/bench/run.py", *(sys.argv[1:] if argv is None else argv)])
    workdir = Path(tempfile.mkdtemp(prefix="gomodel-bench-"))
    started = time.monotonic()
    try:
        run, found, ran = execute(args, settings, workdir)
    except KeyboardInterrupt:
        print("\ninterrupted; every started process has been stopped", file=sys.stderr)
        return 130
    except (StartupError, ProbeError, RuntimeError, ValueError, OSError) as error:
        # Setup problems and wrong answers; the children are already stopped by now.
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 2
    finally:
        if args.keep_logs:
            print(f"logs kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.monotonic() - started
    print_results(run, found)
    print(f"\nthe run took {elapsed / 60:.1f} min")
    if args.save if args.save is not None else not settings.quick:
        header = {
            **ran,
            "targets": ", ".join(c.label for c in run.contenders),
            "measured": ", ".join(sorted(settings.letters)),
            "pinning": settings.pinning(),
            "saturation load": settings.describe_load(),
            "latency load": settings.describe_latency(),
            "slow streams": settings.describe_streams(),
            "CPU column": (
                "busy share of one core per process during the median run; idle targets: what the "
                "other targets used meanwhile; other: what processes outside the run used per CPU group"
            ),
            "hypervisor steal": steal_summary(run.cells),
            "duration of the run": f"{elapsed / 60:.1f} min",
        }
        markdown = render(run, header, describe(run.versions), command, found)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d-%H%M")
        name = f"{stamp}-{settings.upstream}{'-quick' if settings.quick else ''}.md"
        path = save(markdown, RESULTS_DIR, name)
        print(f"results written to {path}")
    failed = any(cell.errors for cell in run.cells if cell.contender.role != "peer")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
