"""Model lists, model ids in URLs and embedding bodies of AI Studio and Vertex AI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gomodel.core.errors import UpstreamError
from gomodel.dialects.gemini.embeddings import (
    decode_batch_embed,
    decode_vertex_embed_content,
    decode_vertex_predict,
    encode_batch_embed,
    encode_vertex_embed_content,
    encode_vertex_predict,
    vertex_embedding_method,
)
from gomodel.dialects.gemini.models import ai_studio_page, ai_studio_resource, vertex_model_id, vertex_page

FIXTURES = Path(__file__).parent / "fixtures"


def _load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def test_ai_studio_page_keeps_generating_and_embedding_models() -> None:
    assert ai_studio_page(_load("models_page.json")) == (
        ["gemini-2.5-flash", "gemini-embedding-001"],
        "Chltb2RlbHMvZ2VtaW5pLTIuNS1wcm8=",
    )
    assert ai_studio_page({"models": []}) == ([], None)
    assert ai_studio_page("garbage") == ([], None)


def test_vertex_page_keeps_gemini_and_embedding_families() -> None:
    assert vertex_page(_load("vertex_publisher_models.json")) == (
        ["google/gemini-2.5-flash", "google/text-embedding-005", "google/gemini-embedding-001"],
        "CgdwYWdlLTI=",
    )


@pytest.mark.parametrize(
    ("model", "resource"),
    [
        ("gemini-2.5-flash", "models/gemini-2.5-flash"),
        ("models/gemini-2.5-flash", "models/gemini-2.5-flash"),
        ("tunedModels/my-model-42", "tunedModels/my-model-42"),
        ("odd:name?x", "models/odd%3Aname%3Fx"),
    ],
)
def test_ai_studio_resource(model: str, resource: str) -> None:
    assert ai_studio_resource(model) == resource


@pytest.mark.parametrize(
    ("model", "bare"),
    [
        ("gemini-2.5-flash", "gemini-2.5-flash"),
        ("google/gemini-2.5-flash", "gemini-2.5-flash"),
        ("publishers/google/models/gemini-2.5-pro", "gemini-2.5-pro"),
    ],
)
def test_vertex_model_id(model: str, bare: str) -> None:
    assert vertex_model_id(model) == bare


def test_batch_embed_bodies() -> None:
    assert encode_batch_embed(("a", "b"), "models/gemini-embedding-001", 64) == {
        "requests": [
            {
                "model": "models/gemini-embedding-001",
                "content": {"parts": [{"text": "a"}]},
                "outputDimensionality": 64,
            },
            {
                "model": "models/gemini-embedding-001",
                "content": {"parts": [{"text": "b"}]},
                "outputDimensionality": 64,
            },
        ]
    }
    assert "outputDimensionality" not in encode_batch_embed(("a",), "models/m", None)["requests"][0]
    assert decode_batch_embed(_load("batch_embed.json"), "gemini", 2) == [
        (0.0123, -0.0456, 0.0789, 0.0012),
        (-0.0321, 0.0654, -0.0987, 0.0021),
    ]


@pytest.mark.parametrize(
    "payload", [{"embeddings": [{"values": [1.0]}]}, {"embeddings": [{"values": "x"}, {}]}, {}, None]
)
def test_unreadable_batch_embeddings(payload: Any) -> None:
    with pytest.raises(UpstreamError):
        decode_batch_embed(payload, "gemini", 2)


def test_vertex_predict_bodies() -> None:
    assert encode_vertex_predict(("a", "b"), None) == {"instances": [{"content": "a"}, {"content": "b"}]}
    assert encode_vertex_predict(("a",), 32)["parameters"] == {"outputDimensionality": 32}
    vectors, tokens = decode_vertex_predict(_load("vertex_predict.json"), "vertex", 2)
    assert vectors == [(0.0123, -0.0456, 0.0789), (-0.0321, 0.0654, -0.0987)]
    assert tokens == 10


def test_vertex_embed_content_bodies() -> None:
    assert encode_vertex_embed_content("a", 16) == {
        "content": {"parts": [{"text": "a"}]},
        "embedContentConfig": {"outputDimensionality": 16},
    }
    answer = {"embedding": {"values": [0.5, 0.25]}, "usageMetadata": {"promptTokenCount": 3}}
    assert decode_vertex_embed_content(answer, "vertex") == ([(0.5, 0.25)], 3)


@pytest.mark.parametrize(
    ("model", "method"),
    [
        ("text-embedding-005", ("predict", 250)),
        ("text-multilingual-embedding-002", ("predict", 250)),
        ("gemini-embedding-001", ("predict", 1)),
        ("gemini-embedding-2-preview", ("embedContent", 1)),
    ],
)
def test_vertex_embedding_method(model: str, method: tuple[str, int]) -> None:
    assert vertex_embedding_method(model) == method
