"""Upstream traffic honours HTTP(S)_PROXY and NO_PROXY, read once at startup (trust_env stays off)."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web

from gomodel.testing.fake_upstream import FakeUpstream
from gomodel.testing.threaded_server import ThreadedServer

MESSAGES = [{"role": "user", "content": "hi"}]


def forwarding_proxy(seen: list[str]) -> web.Application:
    """A plain HTTP forward proxy: requests arrive in absolute form and are sent on as they are."""

    async def forward(request: web.Request) -> web.Response:
        seen.append(str(request.url))
        headers = {k: v for k, v in request.headers.items() if k.lower() not in {"host", "content-length"}}
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                request.method, str(request.url), headers=headers, data=await request.read()
            ) as answer,
        ):
            body = await answer.read()
            return web.Response(body=body, status=answer.status, content_type=answer.content_type)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


@pytest.fixture
def proxy():
    seen: list[str] = []
    server = ThreadedServer()
    server.start(forwarding_proxy(seen))
    yield server.base_url, seen
    server.stop()


def test_requests_go_through_the_configured_proxy(
    monkeypatch, proxy, make_gateway, fake: FakeUpstream
) -> None:
    url, seen = proxy
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", url)
    monkeypatch.setenv("http_proxy", url)
    gw = make_gateway({"OPENAI_API_KEY": "fake-key", "OPENAI_BASE_URL": fake.base_url})

    answer = gw.client().chat.completions.create(model="gpt-fake", messages=MESSAGES)

    assert answer.choices[0].message.content
    # The SDK may go through the proxy too (it reads the same variables): look for the upstream's URL.
    assert fake.base_url + "/chat/completions" in seen, seen


def test_no_proxy_hosts_are_reached_directly(monkeypatch, proxy, make_gateway, fake: FakeUpstream) -> None:
    url, seen = proxy
    for name in ("HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, url)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    gw = make_gateway({"OPENAI_API_KEY": "fake-key", "OPENAI_BASE_URL": fake.base_url})

    assert gw.client().chat.completions.create(model="gpt-fake", messages=MESSAGES).choices
    assert fake.base_url + "/chat/completions" not in seen
    assert fake.requests, "the upstream was reached directly"
