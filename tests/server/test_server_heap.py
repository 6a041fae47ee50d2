"""`keep_freed_heap`: bursts of short-lived allocations stop costing page faults (glibc only)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gomodel.server.heap import keep_freed_heap

BURSTS = """
import sys
import orjson
from gomodel.server.heap import keep_freed_heap
if sys.argv[1] == "tuned":
    assert keep_freed_heap()
def faults():
    return int(open("/proc/self/stat").read().rsplit(")", 1)[1].split()[7])
before = faults()
for burst in range(200):  # like the record writer: a hundred fresh lines, then one write buffer
    lines = [orjson.dumps({"request_id": n, "message": "x" * 560}) for n in range(100)]
    b"".join(lines)
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

    assert default > 5000  # the heap top went back to the OS after each burst, about 60 pages a time
    assert tuned * 10 < default  # what is left is the first growth to the working set
