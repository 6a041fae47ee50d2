"""Typed application and request state (no module-level mutable state)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from gomodel.config.schema import Config
from gomodel.observability.logging import Redactor

if TYPE_CHECKING:
    from gomodel.gateway.audio import AudioService
    from gomodel.gateway.inference import InferenceService
    from gomodel.gateway.messages import MessagesService
    from gomodel.gateway.responses import ResponsesService
    from gomodel.providers.registry import Provider
    from gomodel.routing.catalog import ModelCatalog
    from gomodel.routing.refresher import ModelRefresher

__all__ = [
    "AUDIO",
    "CATALOG",
    "CONFIG",
    "INFERENCE",
    "MESSAGES",
    "REDACTOR",
    "REFRESHER",
    "RESPONSES",
]

CONFIG = web.AppKey("config", Config)
REDACTOR = web.AppKey("redactor", Redactor)
INFERENCE: web.AppKey[InferenceService] = web.AppKey("inference")
AUDIO: web.AppKey[AudioService] = web.AppKey("audio")
RESPONSES: web.AppKey[ResponsesService] = web.AppKey("responses")
MESSAGES: web.AppKey[MessagesService] = web.AppKey("messages")
CATALOG: web.AppKey[ModelCatalog[Provider]] = web.AppKey("catalog")
REFRESHER: web.AppKey[ModelRefresher[Provider]] = web.AppKey("refresher")
