"""(i) Cold start: from spawning a server to its first 200, polled over a raw socket every 5 ms.

urllib's poll (`procs.wait_http`, every 100 ms) would add up to 100 ms of its own; a raw socket
with a one-line request adds at most the poll interval plus a loopback round trip.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["POLL_INTERVAL", "http_request", "time_to_first_200"]

POLL_INTERVAL = 0.005


def http_request(method: str, path: str, body: bytes = b"", headers: Sequence[tuple[str, str]] = ()) -> bytes:
    """One HTTP/1.1 request as bytes, closing the connection after the answer."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _status(port: int, request: bytes) -> int | None:
    """The status code the server answers ``request`` with, or None while nobody listens."""
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=2.0) as sock:
        sock.sendall(request)
        head = sock.recv(64)
        parts = head.split(b" ", 2)
        if len(parts) >= 2 and parts[1].isdigit():
            return int(parts[1])
    return None


def time_to_first_200(
    argv: Sequence[str],
    port: int,
    request: bytes,
    *,
    env: Mapping[str, str] | None,
    cwd: Path,
    log_path: Path,
    timeout: float = 30.0,
) -> float:
    """Seconds from spawning ``argv`` until ``request`` on ``port`` answers 200; the process is
    stopped afterwards. Raises RuntimeError if it dies or does not answer within ``timeout``."""
    with log_path.open("ab") as log:
        started = time.monotonic()
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )
        try:
            while time.monotonic() - started < timeout:
                if _status(port, request) == 200:
                    return time.monotonic() - started
                if proc.poll() is not None:
                    raise RuntimeError(
                        f"{argv[0]} exited with {proc.returncode} before answering (log: {log_path})"
                    )
                time.sleep(POLL_INTERVAL)
            raise RuntimeError(f"no 200 from port {port} within {timeout:g} s (log: {log_path})")
        finally:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
