"""Log setup: text or JSON lines, the request id on every line, credentials never printed.

`request_id_var` is set by the request-id middleware; the filter below copies it into each record, so
lines logged anywhere while serving a request carry it without passing it around.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Iterable
from contextvars import ContextVar
from typing import Literal

import orjson

__all__ = ["Redactor", "configure_logging", "request_id_var"]

request_id_var: ContextVar[str] = ContextVar("gomodel_request_id", default="-")

# Credential shapes worth catching even when they are not ours (a client's key echoed in an upstream error).
_TOKEN_PATTERNS = re.compile(
    r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}|\b(sk-[A-Za-z0-9_-]{8,})|\b(AIza[0-9A-Za-z_-]{20,})"
)
REDACTED = "[REDACTED]"


class Redactor:
    """Replaces known secrets and credential-looking tokens in free text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return _TOKEN_PATTERNS.sub(_replace_token, text)


def _replace_token(match: re.Match[str]) -> str:
    return (match.group(1) or "") + REDACTED


class _ContextFilter(logging.Filter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self._redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = getattr(record, "record_request_id", None) or request_id_var.get()
        message = record.getMessage()
        cleaned = self._redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class _JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class _TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-5s [%(request_id)s] %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict) and fields:
            line += " " + " ".join(f"{k}={v}" for k, v in fields.items() if v is not None)
        return line


def configure_logging(
    fmt: Literal["auto", "text", "json"], level: str, secrets: Iterable[str] = ()
) -> Redactor:
    """Install the root handler; returns the redactor so other components can scrub text too."""
    if fmt == "auto":
        fmt = "text" if sys.stderr.isatty() else "json"
    redactor = Redactor(secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JSONFormatter() if fmt == "json" else _TextFormatter())
    handler.addFilter(_ContextFilter(redactor))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    return redactor
