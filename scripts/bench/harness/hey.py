"""Latency at a fixed low rate with hey: what one request pays on an idle target, not queueing.

wrk keeps 64 requests in flight against a saturated target, so its percentiles are mostly queue.
hey sends at a set rate (open loop per worker) and, with ``-o csv``, reports every request's time
from send to the last byte of the body (the whole stream, for streams). Its CSV has 0.1 ms
resolution.
"""

from __future__ import annotations

import statistics
import tempfile
from dataclasses import dataclass

from harness.bodies import Request
from harness.procs import run_load_tool
from harness.tools import find_or_install, package_version

__all__ = ["WORKERS", "HeyResult", "hey_version", "parse_hey_csv", "run_hey"]

#: hey workers (its ``-q`` rate is per worker). One: several workers tick in step, so their
#: requests arrive together and the second waits for the first on a one-core target, which is
#: queueing, not latency. At 100 req/s one worker has 10 ms per request; the table shows the rate
#: actually reached, in brackets, in case a slow target fell behind.
WORKERS = 1
_REQUEST_TIMEOUT_S = 10


@dataclass(frozen=True)
class HeyResult:
    rate: float
    #: Seconds per request, in the order hey finished them.
    times: list[float]
    errors: int
    duration: float

    @property
    def achieved_rate(self) -> float:
        return len(self.times) / self.duration if self.duration else 0.0

    def percentile_ms(self, p: float) -> float:
        if not self.times:
            return float("nan")
        # "inclusive": the 50th percentile of an odd count is the middle sample itself.
        return statistics.quantiles(self.times, n=100, method="inclusive")[round(p) - 1] * 1000

    @property
    def p50(self) -> float:
        return self.percentile_ms(50)

    @property
    def p99(self) -> float:
        return self.percentile_ms(99)


def hey_binary(*, install: bool = False) -> str:
    return find_or_install("hey", "hey", install=install)


def hey_version() -> str:
    # hey has no --version; Debian's package version says which one ran.
    return f"hey {package_version('hey')} (Debian package)"


def parse_hey_csv(output: str, rate: float, duration: float) -> HeyResult:
    """hey's ``-o csv``: a header, then ``response-time,DNS+dialup,...,status-code,offset`` rows."""
    times: list[float] = []
    errors = 0
    for line in output.splitlines()[1:]:
        fields = line.split(",")
        if len(fields) < 8:
            # hey prints transport errors as free text after the CSV.
            errors += bool(line.strip())
            continue
        try:
            seconds, status = float(fields[0]), int(fields[6])
        except ValueError:
            errors += 1
            continue
        if 200 <= status < 300:
            times.append(seconds)
        else:
            errors += 1
    return HeyResult(rate, times, errors, duration)


def run_hey(request: Request, *, rate: float, duration_s: int, cpus: str | None) -> HeyResult:
    with tempfile.NamedTemporaryFile(prefix="bench-body-", suffix=".json") as body:
        body.write(request.body)
        body.flush()
        argv = [
            hey_binary(), "-z", f"{duration_s}s", "-c", str(WORKERS), "-q", f"{rate / WORKERS:g}",
            "-t", str(_REQUEST_TIMEOUT_S), "-m", "POST", "-D", body.name,
            "-disable-compression", "-cpus", "1", "-o", "csv",
        ]  # fmt: skip
        for name, value in request.headers:
            # -T sets Content-Type; hey's -H would add a second one next to its default.
            argv += ["-T", value] if name.lower() == "content-type" else ["-H", f"{name}: {value}"]
        argv.append(request.url)
        output = run_load_tool("hey", argv, cpus=cpus, duration_s=duration_s)
    return parse_hey_csv(output, rate, duration_s)
