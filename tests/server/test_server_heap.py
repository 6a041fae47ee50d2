"""`keep_freed_heap`: bursts of short-lived allocations stop costing page faults (glibc only)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gomodel.server.heap import keep_freed_heap

# One 1 MB buffer per burst (a large body, a big write batch). Under glibc's starting thresholds
# (128 KB, pinned here: they adapt to what the interpreter freed before, which differs between
# machines) each buffer is a fresh mapping, faulted in page by page and unmapped again. The
# record writer's smaller batches hit the same cost through the heap trim, but whether a burst
# trims depends on where the interpreter's own blocks landed, too unsteady to test.
BURSTS = """
import ctypes
import sys
from gomodel.server.heap import keep_freed_heap
if sys.argv[1] == "tuned":
    assert keep_freed_heap()
else:
    libc = ctypes.CDLL(None)
    assert libc.mallopt(-1, 128 * 1024) and libc.mallopt(-3, 128 * 1024)
def faults():
    return int(open("/proc/self/stat").read().rsplit(")", 1)[1].split()[7])
before = faults()
for burst in range(200):
    b"x" * (1 << 20)
print(faults() - before)
"""


def _faults(mode: str) -> int:
    result = subprocess.run([sys.executable, "-c", BURSTS, mode], capture_output=True, text=True, check=True)
    return int(result.stdout)


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or not keep_freed_heap(), reason="needs glibc mallopt"
)
def test_bursts_no_longer_fault_once_the_heap_is_kept() -> None:
    default, tuned = _faults("default"), _faults("tuned")

    assert default > 200 * 200  # 256 fresh pages a burst
    assert tuned * 10 < default  # what is left is the first growth to the working set
