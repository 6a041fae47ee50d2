"""Run the gateway: one process on uvloop, or N worker processes sharing the port (SO_REUSEPORT).

Shutdown on SIGTERM/SIGINT: stop accepting, let in-flight requests and streams finish within
``server.shutdown_timeout``, cancel what is left, then release resources (see `gomodel.app`).
With workers, the parent forwards the signal and waits for every child to finish that sequence.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import os
import signal
import sys
import time
from multiprocessing.process import BaseProcess
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from gomodel.config.schema import Config
from gomodel.observability.logging import configure_logging
from gomodel.server.front.request_id import HEADER
from gomodel.server.heap import pause_collector, settle_after_startup

__all__ = ["serve"]

log = logging.getLogger("gomodel")


class AccessLogger(AbstractAccessLogger):
    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s %d %.1fms",
            request.method,
            request.path,
            response.status,
            time * 1000.0,
            extra={"record_request_id": response.headers.get(HEADER)},
        )


def _install_uvloop() -> None:
    try:
        import uvloop  # noqa: PLC0415 - optional on platforms without it
    except ImportError:
        log.warning("uvloop is not installed; running on the default asyncio loop")
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def _run_worker(config: Config, reuse_port: bool) -> None:
    pause_collector()
    from gomodel.app import build_app  # noqa: PLC0415 - children import the app after fork/spawn

    _install_uvloop()
    app = build_app(config)
    app.on_startup.append(settle_after_startup)
    kwargs: dict[str, Any] = {}
    if config.logging.access_log:
        kwargs["access_log_class"] = AccessLogger
        kwargs["access_log"] = logging.getLogger("gomodel.access")
    else:
        kwargs["access_log"] = None
    web.run_app(
        app,
        host=config.server.host,
        port=config.server.port,
        shutdown_timeout=config.server.shutdown_timeout,
        handler_cancellation=True,  # a client that disconnects cancels its upstream request at once
        reuse_port=reuse_port or None,
        print=None,
        **kwargs,
    )


def _child_main(config: Config) -> None:
    configure_logging(config.logging.format, config.logging.level, config.secrets(os.environ))
    _run_worker(config, reuse_port=True)


def serve(config: Config) -> int:
    """Run until a signal stops the gateway; returns the process exit code."""
    names = ", ".join(p.name for p in config.providers)
    where = f"http://{config.server.host}:{config.server.port}{config.server.base_path.rstrip('/')}"
    if not config.server.master_key:
        log.warning(
            "GOMODEL_MASTER_KEY is not set: the API accepts requests from anyone who can reach %s. "
            "Set it before exposing the gateway.",
            where,
        )
    log.info("gomodel listening on %s with %d worker(s); providers: %s", where, config.server.workers, names)
    if config.server.workers == 1:
        _run_worker(config, reuse_port=False)
        return 0
    # The supervisor builds no app: nothing resumes the collector `main` paused but this.
    gc.enable()
    return _supervise(config)


def _supervise(config: Config) -> int:
    context = multiprocessing.get_context("spawn")
    stopping = False

    def spawn() -> BaseProcess:
        process = context.Process(target=_child_main, args=(config,), name="gomodel-worker", daemon=False)
        process.start()
        return process

    workers = [spawn() for _ in range(config.server.workers)]

    def stop(signum: int, _: object) -> None:
        nonlocal stopping
        stopping = True
        for process in workers:
            if process.pid is not None and process.is_alive():
                os.kill(process.pid, signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while True:
        for index, process in enumerate(workers):
            if process.is_alive() or stopping:
                continue
            log.error("worker pid %s exited with code %s; starting a new one", process.pid, process.exitcode)
            time.sleep(1.0)
            workers[index] = spawn()
        if stopping:
            for process in workers:
                process.join(config.server.shutdown_timeout + 10)
            return 0 if all(p.exitcode == 0 for p in workers) else 1
        time.sleep(0.2)
        sys.stdout.flush()
