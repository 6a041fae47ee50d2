"""The Debian tools a run needs (nginx, wrk, hey): found on PATH, else installed with apt-get if allowed."""

from __future__ import annotations

import shutil
import subprocess

__all__ = ["find_or_install", "package_version", "tool_version"]

# Debian puts daemons in sbin, which a non-login shell's PATH may lack.
_SEARCH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _which(binary: str) -> str | None:
    return shutil.which(binary) or shutil.which(binary, path=_SEARCH)


def find_or_install(binary: str, package: str, *, install: bool) -> str:
    """The executable ``binary``; installs Debian's ``package`` when it is missing and ``install``."""
    found = _which(binary)
    if found:
        return found
    apt = shutil.which("apt-get")
    if not install or apt is None:
        raise RuntimeError(f"{binary} not found: apt-get install -y {package} (or allow installing)")
    print(f"{binary} not found; installing Debian's package (apt-get install -y {package})", flush=True)
    command = [apt, "install", "-y", "--no-install-recommends", package]
    if subprocess.run(command, timeout=600, check=False).returncode != 0:
        # A fresh machine has no package lists yet.
        subprocess.run([apt, "update"], timeout=600, check=True)
        subprocess.run(command, timeout=600, check=True)
    found = _which(binary)
    if not found:
        raise RuntimeError(f"{binary} still not found after apt-get install {package}")
    return found


def package_version(package: str) -> str:
    """The installed Debian package's version (for tools like hey that cannot print their own)."""
    try:
        result = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", package],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return result.stdout.strip() or "unknown"


def tool_version(argv: list[str]) -> str:
    """First line a ``--version``-style command prints, or "not installed"."""
    if _which(argv[0]) is None:
        return "not installed"
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    lines = (result.stdout or result.stderr).strip().splitlines()
    return lines[0] if lines else "unknown"
