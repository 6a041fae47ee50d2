"""Child processes of a benchmark run: start pinned, wait until they answer, measure CPU, always stop.

Every process is started in its own session, so a Ctrl-C in the terminal reaches only the harness,
which then stops the children in order, and so a process that forks (gateway workers) is stopped as
one process group.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType

__all__ = [
    "ManagedProcess",
    "ProcessSet",
    "StartupError",
    "free_port",
    "group_cpu_seconds",
    "group_pids",
    "pinned",
    "rss_bytes",
    "run_load_tool",
    "wait_http",
    "wait_port",
]

_STOP_GRACE = 5.0
_CLK_TCK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _stat_fields() -> list[tuple[int, list[str]]]:
    """(pid, fields after the ")" that ends the command name) of every live process."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError):
            # Fields after the command: state ppid pgrp ... utime(11) stime(12).
            found.append((int(stat.parent.name), stat.read_text().rpartition(")")[2].split()))
    return found


def group_pids(pgids: Iterable[int]) -> dict[int, list[int]]:
    """Process group id -> its live members (a gateway's workers, a peer's child processes)."""
    wanted: dict[int, list[int]] = {pgid: [] for pgid in pgids}
    for pid, fields in _stat_fields():
        with contextlib.suppress(ValueError, IndexError):
            if (pgrp := int(fields[2])) in wanted:
                wanted[pgrp].append(pid)
    return wanted


def group_cpu_seconds(pgids: Iterable[int]) -> dict[int, float]:
    """User+system CPU per process group, from one pass over /proc (live members only)."""
    totals = dict.fromkeys(pgids, 0)
    for _, fields in _stat_fields():
        with contextlib.suppress(ValueError, IndexError):
            if (pgrp := int(fields[2])) in totals:
                totals[pgrp] += int(fields[11]) + int(fields[12])
    return {pgid: ticks / _CLK_TCK for pgid, ticks in totals.items()}


def rss_bytes(pids: Iterable[int]) -> int:
    """Summed resident set of ``pids`` (VmRSS, read from statm); vanished ones count 0."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
    return total


class StartupError(RuntimeError):
    """A child did not come up; the message carries the tail of its log."""


def free_port() -> int:
    """A loopback port nobody listens on right now (others may run gateways on 8080/9000)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: Slack on top of a load tool's own duration before the harness gives up on it.
_TOOL_SLACK = 30.0


def run_load_tool(
    name: str,
    argv: Sequence[str],
    *,
    cpus: str | None,
    duration_s: float,
    env: Mapping[str, str] | None = None,
) -> str:
    """Run wrk or hey pinned to ``cpus`` in a session of its own (the harness, not a terminal's
    Ctrl-C, decides when it stops) and return its output; killed if it overruns its duration."""
    proc = subprocess.Popen(
        pinned(argv, cpus),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=None if env is None else dict(env),
        start_new_session=True,
    )
    try:
        output, _ = proc.communicate(timeout=duration_s + _TOOL_SLACK)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"{name} exited with {proc.returncode}:\n{output[-2000:]}")
    return output


def pinned(argv: Sequence[str], cpus: str | None) -> list[str]:
    """``argv`` under ``taskset -c cpus`` (taskset execs, so the pid stays the real process's)."""
    if not cpus:
        return list(argv)
    taskset = shutil.which("taskset")
    if taskset is None:
        raise RuntimeError("taskset not found (util-linux); run with --no-pin")
    return [taskset, "-c", cpus, *argv]


class ManagedProcess:
    """One child with its output in a log file; ``stop()`` is idempotent."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.log_path = log_path
        self._log = log_path.open("wb")
        try:
            self._popen = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                start_new_session=True,
            )
        except OSError:
            self._log.close()
            raise

    @property
    def pid(self) -> int:
        return self._popen.pid

    @property
    def running(self) -> bool:
        return self._popen.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            text = self.log_path.read_text(errors="replace")
            return "\n".join(text.splitlines()[-lines:])
        return ""

    def cpu_seconds(self) -> float:
        """User+system CPU of every live process in this child's process group."""
        return group_cpu_seconds([self.pid])[self.pid]

    def rss_bytes(self) -> int:
        """Resident memory of every live process in this child's process group (all workers)."""
        return rss_bytes(group_pids([self.pid])[self.pid])

    def stop(self) -> None:
        """SIGTERM the group, give it a moment to shut down cleanly, then SIGKILL what is left."""
        if self.running:
            self._signal_group(signal.SIGTERM)
            try:
                self._popen.wait(_STOP_GRACE)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self._popen.wait(_STOP_GRACE)
        # The leader may be gone while a forked worker lingers in the group.
        self._signal_group(signal.SIGKILL)
        self._log.close()

    def _signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)


class ProcessSet:
    """Owns every child of a run; leaving the ``with`` block stops them, newest first."""

    def __init__(self) -> None:
        self._procs: list[ManagedProcess] = []

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> ManagedProcess:
        proc = ManagedProcess(name, argv, log_path=log_path, env=env, cwd=cwd)
        self._procs.append(proc)
        return proc

    def stop_all(self) -> None:
        # A second Ctrl-C must not abandon children half way through cleanup.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            while self._procs:
                self._procs.pop().stop()
        finally:
            signal.signal(signal.SIGINT, previous)

    def __enter__(self) -> ProcessSet:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop_all()


def wait_http(
    proc: ManagedProcess, url: str, *, timeout: float = 20.0, headers: Mapping[str, str] | None = None
) -> None:
    """Poll ``url`` until it answers 2xx; fail early if the process dies, and after ``timeout``."""
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(url, headers=dict(headers or {}))
    last_error = "no answer"
    while time.monotonic() < deadline:
        if not proc.running:
            raise StartupError(f"{proc.name} exited during startup:\n{proc.log_tail()}")
        try:
            with urllib.request.urlopen(request, timeout=1.0) as response:
                if 200 <= response.status < 300:
                    return
                last_error = f"HTTP {response.status}"
        except urllib.error.HTTPError as error:
            last_error = f"HTTP {error.code}"
        except (urllib.error.URLError, OSError) as error:
            last_error = str(error)
        time.sleep(0.1)
    raise StartupError(
        f"{proc.name} not healthy at {url} after {timeout:g}s ({last_error}):\n{proc.log_tail()}"
    )


def wait_port(proc: ManagedProcess, host: str, port: int, *, timeout: float = 20.0) -> None:
    """Wait until ``port`` accepts connections (for servers without a GET route to poll)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.running:
            raise StartupError(f"{proc.name} exited during startup:\n{proc.log_tail()}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1.0):
            return
        time.sleep(0.05)
    raise StartupError(f"{proc.name} not listening on {host}:{port} after {timeout:g}s:\n{proc.log_tail()}")
