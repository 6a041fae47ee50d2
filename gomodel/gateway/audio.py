"""``/v1/audio/speech`` and ``/v1/audio/transcriptions``.

OpenAI-compatible providers get the request relayed to their own audio endpoints; Xiaomi MiMo's
speech models get it translated into MiMo's chat-completions audio dialect (`dialects.mimo_audio`).
Providers with neither answer a clear 400.
"""

from __future__ import annotations

import orjson

from gomodel.core.errors import InvalidRequestError
from gomodel.core.records import RecordSink
from gomodel.dialects import mimo_audio
from gomodel.dialects.json_body import decode_object, require_model
from gomodel.dialects.multipart import FormField, encode_form, fields_by_name, parse_form
from gomodel.dialects.openai_chat import usage_from_response
from gomodel.gateway.context import CallContext, RecordBuilder
from gomodel.gateway.inference import InferenceService, Reply
from gomodel.providers.registry import Provider
from gomodel.routing.catalog import Route

__all__ = ["AudioService"]

CHAT_PATH = "/chat/completions"
_TRANSCRIPT_FORMATS = {"json", "text", "verbose_json"}


def _is_mimo(route: Route[Provider], test: str) -> bool:
    model = route.model
    return route.provider.type == "xiaomi" and (
        mimo_audio.is_tts_model(model) if test == "tts" else mimo_audio.is_asr_model(model)
    )


def _unsupported(route: Route[Provider], what: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"provider {route.provider.name} does not offer {what} for model {route.model}",
        param="model",
        code="unsupported_endpoint",
    )


class AudioService:
    def __init__(self, inference: InferenceService, records: RecordSink) -> None:
        self._inference = inference
        self._records = records

    async def speech(self, ctx: CallContext, raw: bytes) -> Reply:
        with RecordBuilder(ctx, self._records) as record:
            payload = decode_object(raw)
            record.requested_model = require_model(payload)
            route = await self._inference.route(record.requested_model, record)
            if route.provider.type == "xiaomi" and not _is_mimo(route, "tts"):
                raise _unsupported(route, "speech synthesis")  # MiMo speaks only through its TTS models
            if _is_mimo(route, "tts"):
                body, content_type = mimo_audio.tts_chat_body(payload, route.model)
                answer = await self._inference.post(route, CHAT_PATH, body, record)
                record.usage = usage_from_response(answer.body)
                audio = mimo_audio.speech_from_chat(answer.body, route.provider.name)
                return Reply(status=200, body=audio, content_type=content_type)
            if route.provider.dialect_for(route.model) != "openai_chat":
                raise _unsupported(route, "speech synthesis")
            body = (
                raw
                if route.model == record.requested_model
                else orjson.dumps({**payload, "model": route.model})
            )
            return await self._inference.post(route, "/audio/speech", body, record)

    async def transcription(self, ctx: CallContext, raw: bytes, content_type: str) -> Reply:
        with RecordBuilder(ctx, self._records) as record:
            parts = parse_form(raw, content_type)
            fields = fields_by_name(parts, single=("model", "file"))
            model = fields.get("model")
            if model is None or not model.text.strip():
                raise InvalidRequestError("you must provide a model parameter", param="model")
            if "file" not in fields:
                raise InvalidRequestError("you must provide an audio 'file'", param="file")
            record.requested_model = model.text.strip()
            route = await self._inference.route(record.requested_model, record)
            if route.provider.type == "xiaomi" and not _is_mimo(route, "asr"):
                raise _unsupported(route, "transcription")
            if _is_mimo(route, "asr"):
                return await self._mimo_transcription(route, fields, record)
            if route.provider.dialect_for(route.model) != "openai_chat":
                raise _unsupported(route, "transcription")
            if route.model != record.requested_model:
                renamed = FormField(name="model", value=route.model.encode())
                raw, content_type = encode_form([renamed if p.name == "model" else p for p in parts])
            return await self._inference.post(route, "/audio/transcriptions", raw, record, content_type)

    async def _mimo_transcription(
        self, route: Route[Provider], fields: dict[str, FormField], record: RecordBuilder
    ) -> Reply:
        response_format = (
            fields["response_format"].text.strip().lower() if "response_format" in fields else "json"
        )
        if response_format not in _TRANSCRIPT_FORMATS:
            raise InvalidRequestError(
                "Xiaomi MiMo transcription supports the json, verbose_json and text formats",
                param="response_format",
            )
        file = fields["file"]
        language = fields["language"].text.strip() if "language" in fields else None
        body = mimo_audio.asr_chat_body(file.value, file.filename, file.content_type, route.model, language)
        answer = await self._inference.post(route, CHAT_PATH, body, record)
        record.usage = usage_from_response(answer.body)
        text = mimo_audio.text_from_chat(answer.body, route.provider.name)
        if response_format == "text":
            return Reply(status=200, body=text.encode(), content_type="text/plain")
        return Reply(status=200, body=orjson.dumps({"text": text}))
