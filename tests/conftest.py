"""Shared fixtures: fake upstreams and a gateway on real loopback sockets, each in its own thread.

The gateway runs on its own event loop so the tests can use the official ``openai`` SDK, sync and
async, exactly as a user would.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gomodel.app import build_app
from gomodel.config import load
from gomodel.testing.fake_upstream import FakeUpstream
from gomodel.testing.threaded_server import ThreadedServer
from tests.harness import MASTER_KEY, Gateway, MemorySink


@pytest.fixture
def make_fake() -> Iterator[Callable[..., FakeUpstream]]:
    """``make_fake(**FakeUpstream kwargs)`` -> a running fake upstream, stopped after the test."""
    with contextlib.ExitStack() as stack:

        def factory(**kwargs: Any) -> FakeUpstream:
            return stack.enter_context(FakeUpstream(**kwargs).serve())

        yield factory


@pytest.fixture
def fake(make_fake: Callable[..., FakeUpstream]) -> FakeUpstream:
    return make_fake()


@pytest.fixture
def make_gateway(tmp_path: Path) -> Iterator[Callable[..., Gateway]]:
    """``make_gateway(env, yaml=None)`` -> a gateway built from that environment, on a real port."""
    servers: list[ThreadedServer] = []

    def factory(env: dict[str, str], yaml: str | None = None) -> Gateway:
        env = {"LOG_FORMAT": "text", **env}
        path = None
        if yaml is not None:
            path = tmp_path / f"config-{len(servers)}.yaml"
            path.write_text(yaml)
        config = load(str(path) if path else None, env)
        records = MemorySink()
        server = ThreadedServer()
        server.start(
            build_app(config, records=records),
            handler_cancellation=True,
            shutdown_timeout=config.server.shutdown_timeout,
            access_log=None,
        )
        servers.append(server)
        return Gateway(server, config, records, config.server.master_key)

    yield factory
    for server in servers:
        server.stop()


@pytest.fixture
def gateway(make_gateway: Callable[..., Gateway], fake: FakeUpstream) -> Gateway:
    """A gateway with one OpenAI provider (the default fake) and a master key."""
    return make_gateway(
        {"OPENAI_API_KEY": "fake-key", "OPENAI_BASE_URL": fake.base_url, "GOMODEL_MASTER_KEY": MASTER_KEY}
    )
