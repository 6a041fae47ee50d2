"""The gateway test harness: a record sink tests can wait on and a handle on a running gateway."""

from __future__ import annotations

import threading
from typing import Any

import openai

from gomodel.config import Config
from gomodel.core.records import RequestRecord
from gomodel.testing.threaded_server import ThreadedServer

MASTER_KEY = "gm-test-master-key-0123456789"


class MemorySink:
    """A record sink tests can wait on (records arrive from the gateway's thread)."""

    def __init__(self) -> None:
        self.records: list[RequestRecord] = []
        self._changed = threading.Condition()

    def submit(self, record: RequestRecord) -> None:
        with self._changed:
            self.records.append(record)
            self._changed.notify_all()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[RequestRecord]:
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.records) >= count, timeout):
                raise AssertionError(f"expected {count} record(s), got {len(self.records)}: {self.records}")
            return list(self.records)


class Gateway:
    def __init__(self, server: ThreadedServer, config: Config, records: MemorySink, key: str | None) -> None:
        self.server = server
        self.config = config
        self.records = records
        self.key = key

    @property
    def url(self) -> str:
        """Origin plus BASE_PATH."""
        base = self.config.server.base_path.rstrip("/")
        return self.server.base_url + base

    @property
    def api_base(self) -> str:
        return self.url + "/v1"

    def client(self, **kwargs: Any) -> openai.OpenAI:
        kwargs.setdefault("api_key", self.key or "unused")
        kwargs.setdefault("max_retries", 0)
        kwargs.setdefault("timeout", 20)
        return openai.OpenAI(base_url=self.api_base, **kwargs)

    def async_client(self, **kwargs: Any) -> openai.AsyncOpenAI:
        kwargs.setdefault("api_key", self.key or "unused")
        kwargs.setdefault("max_retries", 0)
        kwargs.setdefault("timeout", 20)
        return openai.AsyncOpenAI(base_url=self.api_base, **kwargs)
