"""Test and benchmark helpers: an OpenAI-compatible fake upstream and a threaded aiohttp server.

Import the submodules directly (``gomodel.testing.fake_upstream``,
``gomodel.testing.threaded_server``); the package itself exports nothing.
"""

from __future__ import annotations

__all__: list[str] = []
