#!/usr/bin/env python3
"""The reference ceiling of the stack: aiohttp + uvloop + orjson forwarding POSTs, nothing else.

No auth, routing, usage or records: whatever gomodel costs above this is the price of being a
gateway. It parses the JSON body once (a gateway must, to route) and streams the reply through.

    python scripts/bench/peers/bare_relay.py --port 8090 --upstream http://127.0.0.1:8080
"""

from __future__ import annotations

import argparse

import orjson
import uvloop
from aiohttp import ClientSession, ClientTimeout, TCPConnector, web

_HOP_HEADERS = ("Content-Type", "Cache-Control")


async def relay(request: web.Request) -> web.StreamResponse:
    body = await request.read()
    orjson.loads(body)
    upstream: str = request.app["upstream"]
    session: ClientSession = request.app["session"]
    headers = {"Content-Type": "application/json", "Authorization": request.headers.get("Authorization", "")}
    async with session.post(upstream + request.path, data=body, headers=headers) as reply:
        if reply.content_type != "text/event-stream":
            return web.Response(body=await reply.read(), status=reply.status, content_type=reply.content_type)
        out = web.StreamResponse(status=reply.status)
        for name in _HOP_HEADERS:
            if name in reply.headers:
                out.headers[name] = reply.headers[name]
        await out.prepare(request)
        async for chunk in reply.content.iter_any():
            await out.write(chunk)
        await out.write_eof()
        return out


def build_app(upstream: str) -> web.Application:
    app = web.Application()
    app["upstream"] = upstream.rstrip("/")

    async def session_ctx(app: web.Application):  # type: ignore[no-untyped-def]
        app["session"] = ClientSession(
            connector=TCPConnector(limit=0), timeout=ClientTimeout(total=None), auto_decompress=False
        )
        yield
        await app["session"].close()

    app.cleanup_ctx.append(session_ctx)
    app.router.add_post("/{tail:.*}", relay)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="base URL, e.g. http://127.0.0.1:8080")
    args = parser.parse_args()
    uvloop.install()
    web.run_app(build_app(args.upstream), host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
