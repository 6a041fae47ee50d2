"""`gomodel.server.heap`: the collector paused through startup, then back; bursts of short-lived
allocations stop costing page faults once the heap is kept (glibc only)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gomodel.server.heap import GEN0_THRESHOLD, keep_freed_heap

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


STARTUP = """
import asyncio
import gc
import weakref
from gomodel.server import heap

heap.SETTLE_DELAY = 0.05
heap.pause_collector()
class Node:
    pass
cycle = Node()
cycle.me = cycle
garbage = weakref.ref(cycle)
del cycle
kept = [[n] for n in range(5000)]

async def main():
    await heap.settle_after_startup(None)
    at_start = gc.isenabled(), gc.get_freeze_count(), gc.get_threshold()[0]
    await asyncio.sleep(0.3)
    print(*at_start, garbage() is None, gc.get_freeze_count())

asyncio.run(main())
"""


def test_the_collector_resumes_at_startup_and_startup_garbage_is_collected_after() -> None:
    result = subprocess.run([sys.executable, "-c", STARTUP], capture_output=True, text=True, check=True)
    enabled, frozen_at_start, threshold, garbage_gone, frozen_after = result.stdout.split()

    assert enabled == "True"
    assert int(threshold) == GEN0_THRESHOLD
    assert int(frozen_at_start) > 5000  # what startup made is out of the collector's passes
    assert garbage_gone == "True"  # startup's own cycles were not frozen for good
    assert int(frozen_after) > 5000
