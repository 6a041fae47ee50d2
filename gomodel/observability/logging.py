"""Log setup: text or JSON lines, the request id on every line, credentials never printed.

`request_id_var` is set by the guard around every route (`gomodel.server.front.guard`); the filter
below copies it into each record, so lines logged anywhere while serving a request carry it without
passing it around.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Iterable
from contextvars import ContextVar
from typing import Literal, TextIO

import attrs
import orjson

__all__ = ["LineOutput", "Redactor", "configure_logging", "line_output", "request_id_var", "utc_stamp"]

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


def _json_line(
    created: float,
    level: str,
    logger: str,
    *,
    request_id: str,
    message: str,
    fields: dict[str, object] | None,
) -> bytes:
    entry: dict[str, object] = {
        "time": utc_stamp(created),
        "level": level,
        "logger": logger,
        "request_id": request_id,
        "message": message,
    }
    if fields:
        entry.update(fields)
    return orjson.dumps(entry, default=str)


_utc_second: tuple[int, str] = (0, "")
_MILLIS = tuple(f".{ms:03d}Z" for ms in range(1000))


def utc_stamp(created: float) -> str:
    """``2026-11-26T00:42:07.123Z``: the part up to the second is formatted once per second and the
    milliseconds come from a table (a request record line is written per request; strftime was a
    quarter of its cost, then the millisecond f-string a sixth)."""
    global _utc_second  # noqa: PLW0603 - a one-entry cache
    second = int(created)
    cached, prefix = _utc_second
    if second != cached:
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _utc_second = (second, prefix)
    return prefix + _MILLIS[int(created * 1000) % 1000]


def _text_line(
    created: float,
    level: str,
    logger: str,
    *,
    request_id: str,
    message: str,
    fields: dict[str, object] | None,
) -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(created)) + f",{int(created * 1000) % 1000:03d}"
    line = f"{stamp} {level.upper():<5} [{request_id}] {logger}: {message}"
    if fields:
        line += " " + " ".join(f"{k}={v}" for k, v in fields.items() if v is not None)
    return line


class _LineFormatter(logging.Formatter):
    def __init__(self, json: bool) -> None:
        super().__init__()
        self._json = json

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", None)
        fields = dict(fields) if isinstance(fields, dict) else {}
        exception = self.formatException(record.exc_info) if record.exc_info else None
        if self._json and exception:
            fields["exception"] = exception
        request_id = getattr(record, "request_id", "-")
        level, message = record.levelname.lower(), record.getMessage()
        if self._json:
            line = _json_line(
                record.created, level, record.name, request_id=request_id, message=message, fields=fields
            )
            return line.decode()
        text = _text_line(
            record.created, level, record.name, request_id=request_id, message=message, fields=fields
        )
        return text + "\n" + exception if exception else text


@attrs.frozen
class LineOutput:
    """Where log lines go and how they look, for writers that batch their own lines (request records):
    the same stream and format as the logging handler, without a `LogRecord` and a flush per line."""

    stream: TextIO
    json: bool
    redact: Redactor

    def line(self, created: float, entry: dict[str, object]) -> bytes:
        """An info line with its newline, as the handler would print it. ``entry`` holds the line's
        keys in order: ``time`` (`utc_stamp`), ``level``, ``logger``, ``request_id``, ``message``,
        then the fields. The caller builds it in one piece: a record line per request is worth it."""
        if self.json:
            return orjson.dumps(entry, default=str, option=orjson.OPT_APPEND_NEWLINE)
        head = ("time", "level", "logger", "request_id", "message")
        fields = {key: value for key, value in entry.items() if key not in head}
        text = _text_line(
            created,
            str(entry["level"]),
            str(entry["logger"]),
            request_id=str(entry["request_id"]),
            message=str(entry["message"]),
            fields=fields,
        )
        return (text + "\n").encode()

    def write(self, lines: list[bytes]) -> None:
        """One write for many lines, straight to the byte stream under the text one when there is
        one (the log handler flushes after each of its lines, so nothing waits in the text layer)."""
        data = b"".join(lines)
        binary = getattr(self.stream, "buffer", None)
        if binary is not None:
            binary.write(data)
            binary.flush()
        else:
            self.stream.write(data.decode())
            self.stream.flush()


_output = LineOutput(sys.stderr, json=False, redact=Redactor())


def line_output() -> LineOutput:
    """The output `configure_logging` installed (text on stderr before it runs)."""
    return _output


def configure_logging(
    fmt: Literal["auto", "text", "json"], level: str, secrets: Iterable[str] = ()
) -> Redactor:
    """Install the root handler; returns the redactor so other components can scrub text too."""
    if fmt == "auto":
        fmt = "text" if sys.stderr.isatty() else "json"
    global _output  # noqa: PLW0603 - logging itself is process-wide state; this mirrors its handler
    redactor = Redactor(secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LineFormatter(json=fmt == "json"))
    _output = LineOutput(sys.stderr, json=fmt == "json", redact=redactor)
    handler.addFilter(_ContextFilter(redactor))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    return redactor
