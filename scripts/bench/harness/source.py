"""Which gomodel code runs: the checkout as it is, or a clean export of a git revision.

The checkout may hold half-finished edits (several people work in it at once); ``--gomodel-ref``
benchmarks a committed revision instead, exported next to the run's other temp files and put
first on PYTHONPATH (ahead of the editable install's finder).
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["REPO", "GomodelSource", "export_ref", "working_tree"]

REPO = Path(__file__).resolve().parents[3]
_PACKAGE = "gomodel"


@dataclass(frozen=True)
class GomodelSource:
    #: Directory to put first on PYTHONPATH; None runs the installed (editable) checkout.
    pythonpath: str | None
    description: str

    def env(self) -> dict[str, str]:
        return {"PYTHONPATH": self.pythonpath} if self.pythonpath else {}


def _git(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, timeout=60, check=False)


def _revision(ref: str) -> str:
    result = _git("rev-parse", "--short", f"{ref}^{{commit}}")
    if result.returncode != 0:
        raise RuntimeError(f"unknown git revision {ref!r}: {result.stderr.decode().strip()}")
    return result.stdout.decode().strip()


def working_tree() -> GomodelSource:
    try:
        revision = _revision("HEAD")
        dirty = bool(_git("status", "--porcelain", "--", _PACKAGE).stdout.strip())
    except (OSError, subprocess.SubprocessError, RuntimeError):
        return GomodelSource(None, "working tree (git revision unknown)")
    # Uncommitted changes mean the revision alone does not say what ran.
    note = " + uncommitted changes under gomodel/" if dirty else ""
    return GomodelSource(None, f"working tree at git {revision}{note}")


def export_ref(ref: str, workdir: Path) -> GomodelSource:
    revision = _revision(ref)
    archive = _git("archive", "--format=tar", revision, _PACKAGE)
    if archive.returncode != 0:
        raise RuntimeError(f"git archive {revision} failed: {archive.stderr.decode().strip()}")
    target = workdir / "src"
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(target, filter="data")
    return GomodelSource(str(target), f"git {revision} (clean export of {ref})")
