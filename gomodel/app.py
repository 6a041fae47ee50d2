"""`build_app(config)`: the only place the parts are wired together.

Resources are acquired in `cleanup_ctx` order and released in reverse after aiohttp has stopped
accepting and let in-flight requests finish: refresher stops, provider sessions close, and the record
sink drains last so no record of a finished request is lost.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator

from aiohttp import web

from gomodel.config.schema import Config
from gomodel.core.records import RecordSink
from gomodel.gateway.audio import AudioService
from gomodel.gateway.inference import InferenceService
from gomodel.gateway.messages import MessagesService
from gomodel.gateway.responses import ResponsesService
from gomodel.observability.logging import Redactor
from gomodel.providers.registry import Provider, build_providers
from gomodel.routing.catalog import ModelCatalog
from gomodel.routing.refresher import ModelRefresher
from gomodel.server.handlers import Handlers
from gomodel.server.keys import REDACTOR
from gomodel.server.routes import add_routes
from gomodel.usage.log_sink import LogRecordSink

__all__ = ["build_app"]

log = logging.getLogger("gomodel")


def build_app(
    config: Config, *, records: RecordSink | None = None, redactor: Redactor | None = None
) -> web.Application:
    """The gateway as an aiohttp application. ``records`` replaces the default log sink (tests, storage)."""
    redactor = redactor or Redactor(config.secrets(os.environ))
    app = web.Application(
        client_max_size=config.server.body_size_limit,
        handler_args={"max_field_size": 65536},
    )
    providers = build_providers(config)
    catalog: ModelCatalog[Provider] = ModelCatalog(providers, config.models.configured_provider_models_mode)
    refresher = ModelRefresher(
        catalog,
        providers,
        interval=config.models.refresh_interval,
        timeout=config.models.fetch_timeout,
    )
    sink: RecordSink = records if records is not None else LogRecordSink(config.usage.buffer_size)

    app[REDACTOR] = redactor
    inference = InferenceService(
        catalog,
        refresher,
        sink,
        force_stream_usage=config.usage.enforce_returning_usage_data,
        redact=redactor,
    )
    handlers = Handlers(
        user_path_header=config.server.user_path_header,
        inference=inference,
        audio=AudioService(inference, sink),
        responses=ResponsesService(inference, sink, redactor),
        messages=MessagesService(inference, sink, redactor),
        catalog=catalog,
        refresher=refresher,
    )
    add_routes(app, config.server, handlers)

    async def record_sink_ctx(_: web.Application) -> AsyncIterator[None]:
        if isinstance(sink, LogRecordSink):
            sink.start()
        yield
        if isinstance(sink, LogRecordSink):
            await sink.aclose()

    async def providers_ctx(_: web.Application) -> AsyncIterator[None]:
        for provider in providers:
            await provider.start()
        try:
            yield
        finally:
            for provider in providers:
                await provider.aclose()

    async def refresher_ctx(_: web.Application) -> AsyncIterator[None]:
        refresher.start()
        yield
        await refresher.aclose()

    app.cleanup_ctx.extend([record_sink_ctx, providers_ctx, refresher_ctx])
    return app
