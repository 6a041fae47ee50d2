"""Logging setup (and, later, metrics)."""
