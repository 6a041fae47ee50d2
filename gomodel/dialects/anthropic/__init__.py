"""The Anthropic Messages dialect: request encoder, response and stream decoders, errors, model list.

Pure wire code (no I/O): `gomodel.providers.anthropic` sends what these build and feeds them what
comes back.
"""

from __future__ import annotations

from gomodel.dialects.anthropic.errors import error_from_anthropic, error_from_event
from gomodel.dialects.anthropic.models import MODELS_PAGE_LIMIT, ModelsPage, decode_models_page, models_query
from gomodel.dialects.anthropic.request_encode import (
    API_VERSION,
    DEFAULT_MAX_TOKENS,
    THINKING_BUDGETS,
    encode_messages_request,
)
from gomodel.dialects.anthropic.response_decode import decode_messages_response, finish_reason, usage_from
from gomodel.dialects.anthropic.stream_decode import MessagesStreamDecoder

__all__ = [
    "API_VERSION",
    "DEFAULT_MAX_TOKENS",
    "MODELS_PAGE_LIMIT",
    "THINKING_BUDGETS",
    "MessagesStreamDecoder",
    "ModelsPage",
    "decode_messages_response",
    "decode_models_page",
    "encode_messages_request",
    "error_from_anthropic",
    "error_from_event",
    "finish_reason",
    "models_query",
    "usage_from",
]
