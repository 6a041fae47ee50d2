"""Give every request an id (the client's ``X-Request-Id`` if sane) for responses and log lines.

The id lives in `request_id_var` while the request is served: handlers and log lines read it there
(a context variable read is a C call; ``request[key]`` was a Python-level method call each time).
"""

from __future__ import annotations

import itertools
import re
import secrets
from collections.abc import Mapping

__all__ = ["HEADER", "request_id_for"]

HEADER = "X-Request-Id"
_SANE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

# A random per-process prefix and a counter: as unique across replicas and workers as uuid4 (64
# random bits tell processes apart), without a getrandom() call and a UUID object per request.
_PREFIX = secrets.token_hex(8)
_COUNTER = itertools.count(1)


def request_id_for(headers: Mapping[str, str]) -> str:
    given = headers.get(HEADER)
    return given if given and _SANE.match(given) else f"{_PREFIX}{next(_COUNTER):016x}"
