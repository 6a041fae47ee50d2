"""gomodel: one OpenAI-compatible HTTP API in front of many LLM providers."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
