"""Configuration problems are collected and reported together, one line for the operator."""

from __future__ import annotations

__all__ = ["ConfigError"]


class ConfigError(Exception):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))
