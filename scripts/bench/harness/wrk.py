"""Drive load with wrk and read its report: requests/s, latency percentiles, errors."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from harness.bodies import Request
from harness.procs import run_load_tool
from harness.tools import find_or_install

__all__ = ["WrkResult", "parse_wrk", "run_wrk", "wrk_version"]

#: The one Lua script: it sends the request the harness passes in its environment.
SCRIPT = Path(__file__).resolve().parent.parent / "wrk" / "post.lua"

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_PERCENTILE = re.compile(r"^\s*(50|75|90|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.MULTILINE)
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_TOTAL = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)", re.MULTILINE)
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
# wrk's own per-request timeout; a stuck request then shows up as an error instead of hanging.
_REQUEST_TIMEOUT = "10s"


@dataclass(frozen=True)
class WrkResult:
    requests: int
    requests_per_s: float
    #: Percentile -> milliseconds.
    latency_ms: dict[int, float]
    socket_errors: int
    non_2xx: int
    raw: str

    @property
    def errors(self) -> int:
        return self.socket_errors + self.non_2xx

    @property
    def p50(self) -> float:
        return self.latency_ms[50]

    @property
    def p99(self) -> float:
        return self.latency_ms[99]


def wrk_binary(*, install: bool = False) -> str:
    return find_or_install("wrk", "wrk", install=install)


def wrk_version() -> str:
    # `wrk -v` prints its banner (and usage) and exits non-zero.
    result = subprocess.run([wrk_binary(), "-v"], capture_output=True, text=True, timeout=10, check=False)
    first = (result.stdout or result.stderr).splitlines()
    return first[0].split(" Copyright")[0] if first else "wrk (unknown version)"


def parse_wrk(output: str) -> WrkResult:
    rps = _RPS.search(output)
    total = _TOTAL.search(output)
    percentiles = {int(p): float(v) * _UNITS[u] for p, v, u in _PERCENTILE.findall(output)}
    if rps is None or total is None or not {50, 99} <= percentiles.keys():
        raise ValueError(f"unexpected wrk output:\n{output}")
    socket = _SOCKET.search(output)
    non_2xx = _NON_2XX.search(output)
    return WrkResult(
        requests=int(total.group(1)),
        requests_per_s=float(rps.group(1)),
        latency_ms=percentiles,
        socket_errors=sum(int(n) for n in socket.groups()) if socket else 0,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        raw=output,
    )


def run_wrk(
    request: Request,
    *,
    duration_s: int,
    connections: int,
    threads: int,
    cpus: str | None,
) -> WrkResult:
    argv = [
        wrk_binary(), "--latency", "--timeout", _REQUEST_TIMEOUT,
        "-t", str(threads), "-c", str(connections), "-d", f"{duration_s}s",
        "-s", str(SCRIPT), request.url,
    ]  # fmt: skip
    env = dict(os.environ)
    env.update({"BENCH_BODY": request.body.decode(), "BENCH_HEADERS": request.header_lines()})
    output = run_load_tool("wrk", argv, cpus=cpus, duration_s=duration_s, env=env)
    return parse_wrk(output)
