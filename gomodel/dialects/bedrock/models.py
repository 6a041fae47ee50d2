"""ListFoundationModels (Bedrock control plane): the query and the model ids of its answer."""

from __future__ import annotations

from typing import Any

import orjson

from gomodel.core.errors import UpstreamError

__all__ = ["FOUNDATION_MODELS_PATH", "FOUNDATION_MODELS_QUERY", "foundation_model_ids"]

FOUNDATION_MODELS_PATH = "/foundation-models"
#: Models callable by id without provisioned throughput that answer in text: what Converse serves.
FOUNDATION_MODELS_QUERY = {"byInferenceType": "ON_DEMAND", "byOutputModality": "TEXT"}


def foundation_model_ids(body: bytes) -> list[str]:
    try:
        payload: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise UpstreamError("Bedrock returned a model list that is not JSON") from None
    summaries = payload.get("modelSummaries") if isinstance(payload, dict) else None
    if not isinstance(summaries, list):
        raise UpstreamError("Bedrock returned a model list without 'modelSummaries'")
    return [
        summary["modelId"]
        for summary in summaries
        if isinstance(summary, dict) and isinstance(summary.get("modelId"), str) and summary["modelId"]
    ]
