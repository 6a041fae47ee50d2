"""Keep freed heap memory in the process instead of handing it back to the OS after every burst.

glibc returns the top of its heap to the OS as soon as 128 KB of it is free, and takes it back with
fresh, zeroed pages on the next burst. The record writer's batches (a hundred lines of 600 bytes and
their join, every 50 ms under load) crossed that line on each flush: two page faults and a brk call
per request in the benchmark, gone with a higher threshold. Memory still goes back to the OS, in
larger steps. Where the C library is not glibc, nothing changes.
"""

from __future__ import annotations

import asyncio
import logging

__all__ = ["keep_freed_heap", "keep_freed_heap_soon"]

log = logging.getLogger("gomodel.server")

# mallopt(3) parameters.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
#: Free heap top kept before it is returned to the OS.
TRIM_THRESHOLD = 8 * 1024 * 1024
#: Setting the trim threshold freezes glibc's adaptive mmap threshold at 128 KB; allocations above
#: this size (large request bodies) still get their own mapping.
MMAP_THRESHOLD = 4 * 1024 * 1024


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


async def keep_freed_heap_soon(_: object) -> None:
    """An ``on_startup`` hook: tunes the heap a second after startup, off the cold start's path."""
    asyncio.get_running_loop().call_later(1.0, keep_freed_heap)
