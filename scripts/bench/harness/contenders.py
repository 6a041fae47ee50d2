"""Every target of a run with the processes behind it: for CPU and RSS, and to know where it runs.

Roles: ``direct`` (the upstream itself, the floor of every latency and the ceiling of every rate),
``reference`` (the bare aiohttp relay, `peers/bare_relay.py`: the ceiling of the Python stack),
``gomodel``, and ``peer`` (other gateways, from `harness.peers`).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from harness.gateway import RunningGateway
from harness.procs import ManagedProcess, ProcessSet, free_port, pinned, wait_port
from harness.scenarios import UPSTREAM_KEY, Endpoint, Target, scenario
from harness.upstreams import RunningUpstream

__all__ = [
    "BARE",
    "BARE_RELAY",
    "BARE_SCENARIOS",
    "DIRECT",
    "Contender",
    "bare_argv",
    "direct_contender",
    "gomodel_contender",
    "peer_contender",
    "start_bare",
]

DIRECT = "direct"
BARE = "bare"
BARE_RELAY = Path(__file__).resolve().parent.parent / "peers" / "bare_relay.py"
#: What the bare relay serves: it forwards the path to one upstream and knows no dialects.
BARE_SCENARIOS = ("chat", "chat_stream", "embeddings")
# As for the gateway (`gateway.py`): nothing from the caller's shell that could change behaviour.
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV", "PYTHONPATH")


@dataclass(frozen=True)
class Contender:
    target: Target
    #: Every process serving this target (the bare relay runs one per upstream port); each one's
    #: process group is counted, so a gateway's workers are included.
    processes: tuple[ManagedProcess, ...]
    #: taskset list it is pinned to; None when unpinned.
    cpus: str | None
    role: str
    version: str = ""
    notes: tuple[str, ...] = ()
    #: Compared with direct only: it shares the load side's CPU (gomodel on both cores).
    direct_only: bool = False
    #: Probe it strictly for the usage chunk (see `probe.probe`); peers choose for themselves.
    strict_usage: bool = True

    @property
    def key(self) -> str:
        return self.target.key

    @property
    def label(self) -> str:
        return self.target.label

    @property
    def watch_name(self) -> str:
        """Its name in the CPU accounting; the direct target's process is the upstream."""
        return "upstream" if self.role == "direct" else self.key

    @property
    def pgids(self) -> tuple[int, ...]:
        return tuple(proc.pid for proc in self.processes)

    def without(self, scenario_key: str, why: str) -> Contender:
        """This target minus one scenario it failed, with the reason kept as a note."""
        endpoints = {k: v for k, v in self.target.endpoints.items() if k != scenario_key}
        return replace(self, target=replace(self.target, endpoints=endpoints), notes=(*self.notes, why))

    def stop(self) -> None:
        for proc in self.processes:
            proc.stop()


def direct_contender(upstream: RunningUpstream, cpus: str | None) -> Contender:
    return Contender(upstream.direct, (upstream.process,), cpus, "direct", version=upstream.description)


def gomodel_contender(gateway: RunningGateway, cpus: str | None, *, direct_only: bool = False) -> Contender:
    return Contender(gateway.target, (gateway.process,), cpus, "gomodel", direct_only=direct_only)


def peer_contender(
    target: Target, process: ManagedProcess, cpus: str | None, version: str, notes: tuple[str, ...]
) -> Contender:
    """A peer gateway as `harness.peers` started it (taken apart, so this module works without it)."""
    return Contender(target, (process,), cpus, "peer", version=version, notes=notes, strict_usage=False)


def bare_argv(port: int, upstream_base: str) -> list[str]:
    return [sys.executable, str(BARE_RELAY), "--port", str(port), "--upstream", upstream_base]


def _base(endpoint: Endpoint, path: str) -> str:
    return endpoint.url.removesuffix(path)


def start_bare(
    procs: ProcessSet, workdir: Path, cpus: str | None, upstream: RunningUpstream, *, name: str = "bare"
) -> Contender:
    """One bare relay per upstream base URL the bare scenarios need (nginx: its JSON and SSE ports)."""
    env = {var: os.environ[var] for var in _INHERITED if var in os.environ}
    relays: dict[str, str] = {}
    processes: list[ManagedProcess] = []
    endpoints: dict[str, Endpoint] = {}
    for key in BARE_SCENARIOS:
        if key not in upstream.direct.endpoints:
            continue
        direct = upstream.direct.endpoints[key]
        path = scenario(key).path
        base = _base(direct, path)
        if base not in relays:
            port = free_port()
            proc = procs.start(
                f"bare relay -> {base}",
                pinned(bare_argv(port, base), cpus),
                log_path=workdir / f"{name}-{len(relays)}.log",
                env=env,
                cwd=workdir,
            )
            wait_port(proc, "127.0.0.1", port)
            relays[base] = f"http://127.0.0.1:{port}"
            processes.append(proc)
        # The relay passes the body through: ask for what the gateway asks upstream.
        endpoints[key] = Endpoint(relays[base] + path, direct.model, UPSTREAM_KEY, direct.include_usage)
    return Contender(Target(BARE, "bare relay", endpoints), tuple(processes), cpus, "reference")
