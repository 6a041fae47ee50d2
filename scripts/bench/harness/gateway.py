"""Start gomodel in front of a running upstream, configured only by what this module passes it."""

from __future__ import annotations

import os
import sys
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from harness.procs import ManagedProcess, ProcessSet, free_port, pinned, wait_http
from harness.scenarios import SCENARIOS, Endpoint, Target
from harness.source import GomodelSource
from harness.upstreams import RunningUpstream

__all__ = ["MASTER_KEY", "RunningGateway", "gateway_argv", "gateway_env", "start_gateway"]

# A master key makes the gateway authenticate every request, as any exposed deployment would.
MASTER_KEY = "bench-master-key"
# Inherited so the interpreter and its packages are found; everything else is dropped, because a
# stray OPENAI_API_KEY or GOMODEL_* in the caller's shell would change what is measured.
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV", "PYTHONPATH")


@dataclass(frozen=True)
class RunningGateway:
    process: ManagedProcess
    target: Target
    log_path: Path


def gateway_env(upstream: RunningUpstream, source: GomodelSource) -> dict[str, str]:
    env = {name: os.environ[name] for name in _INHERITED if name in os.environ}
    env.update(source.env())
    env.update(upstream.gateway_env)
    env.update(
        {
            "CONFIGURED_PROVIDER_MODELS_MODE": "allowlist",
            "GOMODEL_MASTER_KEY": MASTER_KEY,
            # The per-request record lines stay on (they are part of the gateway's cost) but go
            # to a file; the access log is off as in the documented production setup.
            "LOG_FORMAT": "json",
            "ACCESS_LOG_ENABLED": "false",
        }
    )
    return env


def gateway_argv(port: int, workers: int) -> list[str]:
    return [
        sys.executable, "-m", "gomodel", "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers),
    ]  # fmt: skip


def start_gateway(
    procs: ProcessSet,
    workdir: Path,
    cpus: str | None,
    upstream: RunningUpstream,
    source: GomodelSource,
    *,
    workers: int = 1,
    scenarios: Collection[str] | None = None,
    name: str | None = None,
) -> RunningGateway:
    """gomodel in front of ``upstream``, serving ``scenarios`` (default: every one the upstream can).

    ``name`` tells the log file apart when several instances run (default ``gomodel-<N>w``).
    """
    port = free_port()
    key = f"gomodel-{workers}w"
    log_path = workdir / f"{name or key}.log"
    # cwd is the temp dir so that no .env or config.yaml of the checkout is picked up.
    proc = procs.start(
        f"gomodel ({workers} worker, {name or key})",
        pinned(gateway_argv(port, workers), cpus),
        log_path=log_path,
        env=gateway_env(upstream, source),
        cwd=workdir,
    )
    base = f"http://127.0.0.1:{port}"
    wait_http(proc, f"{base}/health")
    endpoints = {
        scenario.key: Endpoint(base + scenario.path, upstream.gateway_models[scenario.key], MASTER_KEY)
        for scenario in SCENARIOS
        if scenario.key in upstream.gateway_models and (scenarios is None or scenario.key in scenarios)
    }
    label = f"gomodel {workers} worker" + ("s" if workers > 1 else "")
    return RunningGateway(proc, Target(key, label, endpoints), log_path)
