"""Upstream providers: data records per type, one OpenAI-compatible transport, the registry."""
