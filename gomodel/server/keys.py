"""Typed application state (no module-level mutable state)."""

from __future__ import annotations

from aiohttp import web

from gomodel.observability.logging import Redactor

__all__ = ["REDACTOR"]

REDACTOR = web.AppKey("redactor", Redactor)
