#!/usr/bin/env python3
"""Hold many slow streams open at once through one target; report on stdout, one JSON line per event.

Run by `harness.memory` as its own pinned process (on the load side's CPU), so the harness is free
to sample the target's memory meanwhile. Events: ``{"event": "open", "open": N, "failed": F}`` once
every stream has its first bytes (or could not get them), ``{"event": "first-done"}`` when the first
stream ends (from then on fewer than N are open), and ``{"event": "done", "ok": .., "failed": ..}``.

    python slow_client.py --url URL --count 1000 --body-file body.json --header 'Authorization: Bearer k'
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from dataclasses import dataclass, field

from aiohttp import ClientError, ClientSession, ClientTimeout, TCPConnector

# Connections being set up at once: a listen backlog (aiohttp's default is 128) that overflows
# makes the kernel drop SYNs, and each drop costs a 1 s retransmit.
_OPENING = 64


@dataclass
class _State:
    count: int
    opened: int = 0
    #: Streams that failed before their first bytes; `failed` also counts those cut later.
    never_opened: int = 0
    failed: int = 0
    ok: int = 0
    first_done: bool = False
    errors: dict[str, int] = field(default_factory=dict)
    #: Streams still trying to open (cancelled when --open-timeout passes).
    opening: set[asyncio.Task[None]] = field(default_factory=set)

    def fail(self, why: str) -> None:
        self.failed += 1
        self.errors[why] = self.errors.get(why, 0) + 1

    @property
    def settled(self) -> bool:
        """Every stream is open, or has failed to open."""
        return self.opened + self.never_opened >= self.count


def _emit(event: str, **fields: object) -> None:
    print(json.dumps({"event": event, "t": time.monotonic(), **fields}), flush=True)


@dataclass(frozen=True)
class _Job:
    url: str
    body: bytes
    headers: dict[str, str]


async def _one(
    session: ClientSession, job: _Job, gate: asyncio.Semaphore, state: _State, all_open: asyncio.Event
) -> None:
    opened = False
    me = asyncio.current_task()
    assert me is not None
    state.opening.add(me)
    try:
        async with gate:
            response = await session.post(job.url, data=job.body, headers=job.headers)
            if response.status != 200:
                response.release()
                state.fail(f"HTTP {response.status}")
                return
            # Inside the gate: the next connections wait until this one has its first bytes.
            await response.content.readany()
        opened = True
        state.opening.discard(me)
        state.opened += 1
        if state.settled:
            all_open.set()
        async with response:
            while await response.content.readany():
                pass
        state.ok += 1
        if not state.first_done:
            state.first_done = True
            _emit("first-done")
    except (ClientError, TimeoutError) as error:
        state.fail(type(error).__name__ + ("" if not opened else " mid-stream"))
    except asyncio.CancelledError:
        if opened:
            raise
        # `_main` gave up waiting for this one to open: that is a result, not an error.
        state.fail("not open within --open-timeout")
    finally:
        state.opening.discard(me)
        if not opened:
            state.never_opened += 1
            if state.settled:
                all_open.set()


async def _main(args: argparse.Namespace, job: _Job) -> int:
    state = _State(args.count)
    all_open = asyncio.Event()
    gate = asyncio.Semaphore(_OPENING)
    connector = TCPConnector(limit=0, force_close=True)
    timeout = ClientTimeout(total=args.timeout, sock_connect=30)
    async with ClientSession(connector=connector, timeout=timeout, auto_decompress=False) as session:
        tasks = [asyncio.create_task(_one(session, job, gate, state, all_open)) for _ in range(args.count)]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_open.wait(), args.open_timeout)
        _emit("open", open=state.opened - state.ok, failed=state.never_opened, ended=state.ok)
        if not state.settled:
            # A target that cannot open them all in time is measured with what it holds; the rest
            # would only keep the run waiting.
            for task in list(state.opening):
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    _emit("done", ok=state.ok, failed=state.failed, errors=state.errors)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--body-file", required=True)
    parser.add_argument("--header", action="append", default=[], help="'Name: value', repeatable")
    parser.add_argument("--open-timeout", type=float, default=60.0, help="give up waiting for all to open")
    parser.add_argument("--timeout", type=float, default=180.0, help="per stream, seconds")
    args = parser.parse_args()
    try:
        import uvloop  # noqa: PLC0415 - optional: the client must not be the slow side

        uvloop.install()
    except ImportError:
        pass
    with open(args.body_file, "rb") as handle:
        body = handle.read()
    headers = dict(line.split(": ", 1) for line in args.header)
    return asyncio.run(_main(args, _Job(args.url, body, headers)))


if __name__ == "__main__":
    sys.exit(main())
