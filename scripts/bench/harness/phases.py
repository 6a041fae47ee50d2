"""The measurements that are not wrk rounds: (d) slow streams held open, (i) cold start.

Both start their own instances of the targets (in front of the paced fake, or fresh to time the
start) and stop them when done, so the long-running instances of the load rounds stay untouched.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.bodies import build_request
from harness.coldstart import POLL_INTERVAL, http_request, time_to_first_200
from harness.contenders import BARE, Contender, bare_argv, gomodel_contender, start_bare
from harness.gateway import gateway_argv, gateway_env, start_gateway
from harness.memory import Burst, instance_rss, stream_burst
from harness.procs import ProcessSet, free_port, pinned
from harness.report import ColdStart, MemoryRow
from harness.scenarios import CHAT_PATH, RELAY, scenario
from harness.source import GomodelSource
from harness.upstreams import RunningUpstream, start_fake

__all__ = ["STREAM_DELAY_MS", "PeerStarter", "StreamPlan", "cold_starts", "peer_cold_start", "slow_streams"]

#: The issue's "1 chunk per 100 ms".
STREAM_DELAY_MS = 100
_MB = 1024 * 1024

#: Starts one more instance of a peer in front of the given upstream (pinned as the run says).
PeerStarter = Callable[[RunningUpstream], Contender]


@dataclass(frozen=True)
class StreamPlan:
    count: int
    chunks: int
    gateway_cpus: str | None
    load_cpus: str | None
    bursts: int = 2


def _bursts(contender: Contender, plan: StreamPlan, say: Callable[[str], None]) -> list[Burst]:
    request = build_request(scenario(RELAY), contender.target.endpoint(scenario(RELAY)))
    say(f"    idle: {instance_rss(contender.pgids) / _MB:.1f} MB")
    bursts = []
    for number in range(1, plan.bursts + 1):
        burst = stream_burst(
            request,
            plan.count,
            contender.pgids,
            plan.load_cpus,
            stream_seconds=plan.chunks * STREAM_DELAY_MS / 1000,
        )
        say(
            f"    burst {number}: {burst.opened:,} open at once after {burst.seconds_to_open:.1f} s, "
            f"{burst.open_rss / _MB:.1f} MB; after: {burst.after_rss / _MB:.1f} MB; "
            f"{burst.ok:,} ok, {burst.failed:,} failed {burst.errors or ''}"
        )
        bursts.append(burst)
    return bursts


def slow_streams(
    procs: ProcessSet,
    workdir: Path,
    source: GomodelSource,
    plan: StreamPlan,
    *,
    peers: dict[str, PeerStarter],
    say: Callable[[str], None] = print,
) -> tuple[dict[str, MemoryRow], list[str]]:
    """(d) For gomodel, the bare relay and each peer: a fresh instance in front of the paced fake,
    ``plan.bursts`` bursts of ``plan.count`` streams, RSS while they are open and after.

    Returns figures by target key (to merge with the idle/peak figures) and notes on what failed.
    """
    upstream = start_fake(
        procs, workdir, plan.load_cpus, source, chunks=plan.chunks, chunk_delay_ms=STREAM_DELAY_MS
    )
    starters: dict[str, Callable[[], Contender]] = {
        "gomodel-1w": lambda: gomodel_contender(
            start_gateway(
                procs, workdir, plan.gateway_cpus, upstream, source, scenarios=(RELAY,), name="gomodel-paced"
            ),
            plan.gateway_cpus,
        ),
        BARE: lambda: start_bare(procs, workdir, plan.gateway_cpus, upstream, name="bare-paced"),
    }
    starters.update({key: functools.partial(start, upstream) for key, start in peers.items()})
    rows: dict[str, MemoryRow] = {}
    notes: list[str] = []
    try:
        for key, start in starters.items():
            say(f"  {plan.count:,} streams of {plan.chunks} chunks, {STREAM_DELAY_MS} ms apart: {key}")
            try:
                contender = start()
            except Exception as error:  # a peer's own failure must not end the run
                notes.append(f"(d) {key}: could not start in front of the paced fake: {error}")
                say(f"    skipped: {error}")
                continue
            try:
                if not contender.target.serves(scenario(RELAY)):
                    notes.append(f"(d) {key}: serves no stream in front of the paced fake")
                    continue
                bursts = _bursts(contender, plan, say)
            except RuntimeError as error:
                notes.append(f"(d) {contender.label}: {error}")
                say(f"    failed: {error}")
                continue
            finally:
                contender.stop()
            figures = {"streams": max(b.open_rss for b in bursts) / _MB}
            figures |= {f"after{n}": b.after_rss / _MB for n, b in enumerate(bursts, 1)}
            rows[key] = MemoryRow(contender, figures, opened=min(b.opened for b in bursts))
            failed = sum(b.failed for b in bursts)
            if failed:
                reasons: dict[str, int] = {}
                for burst in bursts:
                    for reason, count in burst.errors.items():
                        reasons[reason] = reasons.get(reason, 0) + count
                why = ", ".join(f"{count:,} x {reason}" for reason, count in reasons.items())
                total = plan.bursts * plan.count
                notes.append(f"(d) {contender.label}: {failed:,} of {total:,} streams failed: {why}")
    finally:
        upstream.process.stop()
    return rows, notes


def cold_starts(
    contenders: Sequence[Contender],
    upstream: RunningUpstream,
    source: GomodelSource,
    workdir: Path,
    cpus: str | None,
    *,
    count: int,
    say: Callable[[str], None] = print,
) -> list[ColdStart]:
    """(i) gomodel (1 worker) and the bare relay, ``count`` times each, spawn to first 200."""
    by_key = {c.key: c for c in contenders}
    starts = []
    if "gomodel-1w" in by_key:
        env = gateway_env(upstream, source)
        seconds = []
        for _ in range(count):
            port = free_port()
            seconds.append(
                time_to_first_200(
                    pinned(gateway_argv(port, 1), cpus),
                    port,
                    http_request("GET", "/health"),
                    env=env,
                    cwd=workdir,
                    log_path=workdir / "coldstart-gomodel.log",
                )
            )
        how = f"spawn of python -m gomodel to 200 on GET /health, polled every {POLL_INTERVAL * 1000:g} ms"
        starts.append(ColdStart(by_key["gomodel-1w"], seconds, how))
        say(f"  gomodel 1 worker: {', '.join(f'{s:.3f}' for s in seconds)} s")
    if BARE in by_key:
        chat = upstream.direct.endpoints["chat"]
        request = build_request(scenario("chat"), chat)
        raw = http_request("POST", CHAT_PATH, request.body, request.headers)
        seconds = []
        for _ in range(count):
            port = free_port()
            seconds.append(
                time_to_first_200(
                    pinned(bare_argv(port, chat.url.removesuffix(CHAT_PATH)), cpus),
                    port,
                    raw,
                    env=None,
                    cwd=workdir,
                    log_path=workdir / "coldstart-bare.log",
                )
            )
        how = "spawn of bare_relay.py to 200 on a chat POST (it has no /health)"
        starts.append(ColdStart(by_key[BARE], seconds, how))
        say(f"  bare relay: {', '.join(f'{s:.3f}' for s in seconds)} s")
    return starts


def peer_cold_start(key: str, start: PeerStarter, upstream: RunningUpstream) -> ColdStart | None:
    """A peer, once: how long its starter takes to return a healthy instance (which is then stopped).

    The peers' starters poll health every 100 ms and may do setup first, so this is an upper bound.
    """
    began = time.monotonic()
    try:
        contender = start(upstream)
    except Exception:  # already reported when the peer was first started
        return None
    seconds = time.monotonic() - began
    contender.stop()
    return ColdStart(contender, [seconds], f"harness.peers start_{key}() until healthy (upper bound)")
