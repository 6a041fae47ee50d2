"""Gemini fixtures: the fake Google API on a real socket and a gateway with an AI Studio provider."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from gomodel.testing.fake_gemini import DEFAULT_MODELS, TEST_API_KEY, FakeGemini
from gomodel.testing.fake_gemini_wire import FAULT_MODES
from tests.harness import MASTER_KEY, Gateway


@pytest.fixture
def make_fake_gemini() -> Iterator[Callable[..., FakeGemini]]:
    """``make_fake_gemini(**FakeGemini kwargs)``; fault models are listed too, so the gateway routes them."""
    with contextlib.ExitStack() as stack:

        def factory(**kwargs: Any) -> FakeGemini:
            kwargs.setdefault("models", (*DEFAULT_MODELS, *sorted(FAULT_MODES)))
            return stack.enter_context(FakeGemini(**kwargs).serve())

        yield factory


@pytest.fixture
def fake_gemini(make_fake_gemini: Callable[..., FakeGemini]) -> FakeGemini:
    return make_fake_gemini()


@pytest.fixture
def gemini_gateway(make_gateway: Callable[..., Gateway], fake_gemini: FakeGemini) -> Gateway:
    env = {"GEMINI_API_KEY": TEST_API_KEY, "GEMINI_BASE_URL": fake_gemini.ai_studio_url}
    return make_gateway({**env, "GOMODEL_MASTER_KEY": MASTER_KEY})
