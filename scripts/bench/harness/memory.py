"""Resident memory of a target: sampled during load, and with many slow streams held open.

RSS is VmRSS summed over one instance's process group (all workers of a gateway), read from
``/proc/<pid>/statm`` a few times a second, so a peak between two samples can be missed. A target
made of several instances (the bare relay runs one per upstream port) counts its largest instance.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from harness.bodies import Request
from harness.procs import group_pids, pinned, rss_bytes

__all__ = ["Burst", "RssPeak", "instance_rss", "stream_burst"]

_SLOW_CLIENT = Path(__file__).resolve().parent / "slow_client.py"
_INTERVAL = 0.2


def _members(pgids: tuple[int, ...]) -> list[list[int]]:
    return list(group_pids(pgids).values())


def _largest(instances: list[list[int]]) -> int:
    return max((rss_bytes(pids) for pids in instances), default=0)


def instance_rss(pgids: tuple[int, ...]) -> int:
    """RSS of the largest of these instances (process groups), now."""
    return _largest(_members(pgids))


class RssPeak:
    """Samples the RSS of some process groups in a thread while the ``with`` block runs.

    The groups' members are listed once on entry: a gateway's workers do not change during a run.
    """

    def __init__(self, pgids: tuple[int, ...], interval: float = _INTERVAL) -> None:
        self.peak = 0
        self._interval = interval
        self._instances: list[list[int]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pgids = pgids

    def _sample(self) -> None:
        self.peak = max(self.peak, _largest(self._instances))

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()

    def __enter__(self) -> RssPeak:
        if self._pgids:
            self._instances = _members(self._pgids)
            self._sample()
            self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._sample()


@dataclass(frozen=True)
class Burst:
    #: Streams open at the same time once the client had opened all it could.
    opened: int
    failed: int
    ok: int
    #: Highest RSS while they were all open (before the first one ended).
    open_rss: int
    #: RSS once every stream had ended and the target had a moment to settle.
    after_rss: int
    seconds_to_open: float
    errors: dict[str, int]


def _read_events(stream: IO[str], events: queue.Queue[dict[str, Any]]) -> None:
    for line in stream:
        try:
            events.put(json.loads(line))
        except ValueError:
            events.put({"event": "log", "line": line.rstrip()})
    events.put({"event": "eof"})


def stream_burst(
    request: Request,
    count: int,
    pgids: tuple[int, ...],
    cpus: str | None,
    *,
    stream_seconds: float,
    open_timeout: float = 60.0,
    settle: float = 2.0,
) -> Burst:
    """Open ``count`` streams of ``request`` at once (`slow_client.py`, pinned to ``cpus``), sample
    the RSS of ``pgids`` while they are all open, and again after they ended."""
    instances = _members(pgids)
    with tempfile.NamedTemporaryFile(prefix="bench-slow-", suffix=".json") as body:
        body.write(request.body)
        body.flush()
        argv = [
            sys.executable, str(_SLOW_CLIENT), "--url", request.url, "--count", str(count),
            "--body-file", body.name, "--open-timeout", f"{open_timeout:g}",
            "--timeout", f"{open_timeout + stream_seconds + 60:g}",
        ]  # fmt: skip
        for name, value in request.headers:
            argv += ["--header", f"{name}: {value}"]
        started = time.monotonic()
        proc = subprocess.Popen(pinned(argv, cpus), stdout=subprocess.PIPE, text=True, start_new_session=True)
        events: queue.Queue[dict[str, Any]] = queue.Queue()
        assert proc.stdout is not None
        reader = threading.Thread(target=_read_events, args=(proc.stdout, events), daemon=True)
        reader.start()
        deadline = started + open_timeout + 2 * stream_seconds + 90
        window = False
        open_rss = peak = 0
        opened = 0
        seconds_to_open = float("nan")
        done: dict[str, Any] = {}
        try:
            while time.monotonic() < deadline:
                rss = _largest(instances)
                peak = max(peak, rss)
                if window:
                    open_rss = max(open_rss, rss)
                try:
                    event = events.get(timeout=_INTERVAL)
                except queue.Empty:
                    continue
                if event["event"] == "open":
                    window, opened = True, int(event["open"])
                    seconds_to_open = event["t"] - started
                    open_rss = max(open_rss, _largest(instances))
                elif event["event"] == "first-done":
                    window = False
                elif event["event"] == "done":
                    done = event
                elif event["event"] == "eof":
                    break
            else:
                raise RuntimeError(f"slow-stream client did not finish within {deadline - started:.0f} s")
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    if not done:
        raise RuntimeError(f"slow-stream client exited with {proc.returncode} without a report")
    time.sleep(settle)
    return Burst(
        opened=opened,
        failed=int(done.get("failed", 0)),
        ok=int(done.get("ok", 0)),
        # No sample fell between the last opening and the first ending: the peak is the best bound.
        open_rss=open_rss or peak,
        after_rss=_largest(instances),
        seconds_to_open=seconds_to_open,
        errors=dict(done.get("errors") or {}),
    )
