"""Memory settings for a long-running server: the collector during startup, and the heap after it.

Startup (imports, the app) makes ~60k objects that live as long as the process; the cyclic collector
walking them over and over while they are made cost 2.4% of the instructions to the first answer,
so it is paused until the app is built, and what startup made is then frozen out of its passes
(one full collection a second later returns startup's own garbage first). While serving, the
collector runs after every 10,000 new container objects instead of 700: a request makes thousands,
most still alive at a collection, so each was walked and promoted over and over (perf: 4-5% of a
stream's CPU in the collector; user CPU per stream 8% lower at 10,000 in three A/B runs, no lower
at 50,000).

glibc returns the top of its heap to the OS as soon as 128 KB of it is free, and takes it back with
fresh, zeroed pages on the next burst. The record writer's batches (a hundred lines of 600 bytes and
their join, every 50 ms under load) crossed that line on each flush: two page faults and a brk call
per request in the benchmark, gone with a higher threshold. Memory still goes back to the OS, in
larger steps. Where the C library is not glibc, nothing changes.
"""

from __future__ import annotations

import asyncio
import gc
import logging

__all__ = ["GEN0_THRESHOLD", "keep_freed_heap", "pause_collector", "settle_after_startup"]

log = logging.getLogger("gomodel.server")

# mallopt(3) parameters.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
#: Free heap top kept before it is returned to the OS.
TRIM_THRESHOLD = 8 * 1024 * 1024
#: Setting the trim threshold freezes glibc's adaptive mmap threshold at 128 KB; allocations above
#: this size (large request bodies) still get their own mapping.
MMAP_THRESHOLD = 4 * 1024 * 1024
#: New container objects between two young-generation collections while serving (CPython: 700).
GEN0_THRESHOLD = 10_000
#: Seconds from startup to the full collection and the heap tuning: off the cold start's path.
SETTLE_DELAY = 1.0


def keep_freed_heap() -> bool:
    """Raise glibc's trim and mmap thresholds; False where there is no glibc ``mallopt``."""
    import ctypes  # noqa: PLC0415 - 3 ms of import, paid after startup rather than before the first answer

    try:
        # The process's own symbols, libc's among them (find_library would run ldconfig: 20 ms).
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):
        return False
    ok = bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)) and bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    if not ok:
        log.debug("mallopt refused the heap thresholds; keeping the C library's defaults")
    return ok


def pause_collector() -> None:
    """Called first thing in a server process; `settle_after_startup` resumes the collector."""
    gc.disable()


def _settle() -> None:
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    keep_freed_heap()


async def settle_after_startup(_: object) -> None:
    """An ``on_startup`` hook: the collector back on at the serving threshold, startup's objects out
    of its way, and a second later one full collection and the heap tuning."""
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, middle, old)
    gc.enable()
    asyncio.get_running_loop().call_later(SETTLE_DELAY, _settle)
