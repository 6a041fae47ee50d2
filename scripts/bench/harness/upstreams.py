"""Upstreams for the benchmark: nginx serving canned replies (default) or the project's Python fake.

The upstream must be far cheaper than the gateway, or the run measures the upstream. The Python fake
is an aiohttp server like the gateway, and for streams (one write per event) it only manages a few
times the gateway's rate on one core; nginx sending a canned file costs next to nothing. nginx cannot
branch on a JSON body, so it listens twice: one port answers chat JSON (and embeddings JSON at
``/v1/embeddings``), the other the SSE transcript, and the gateway sees them as two providers
(``openai`` and ``openai-sse``). The SSE port also serves an Anthropic Messages stream at
``/v1/messages`` (the ``anthropic`` provider). Both upstreams send the same OpenAI bytes, since the
canned replies come from the fakes' own wire modules.

The Python fake is still the upstream for paced streams (a delay between chunks), which nginx cannot
do: the 1,000-slow-streams memory measurement uses it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from harness.bodies import build_request
from harness.procs import ManagedProcess, ProcessSet, free_port, pinned, wait_http
from harness.scenarios import (
    CHAT_PATH,
    CHUNKS,
    CLAUDE_MODEL,
    EMBEDDING_DIM,
    EMBEDDING_MODEL,
    EMBEDDINGS_PATH,
    MESSAGES_PATH,
    MODEL,
    UPSTREAM_KEY,
    Endpoint,
    Target,
    scenario,
)
from harness.source import GomodelSource
from harness.tools import find_or_install

__all__ = ["RunningUpstream", "nginx_version", "start_fake", "start_nginx"]

# Matches the words in wrk/*.lua; only decorative, nothing checks it.
_PROMPT_TOKENS = 12


@dataclass(frozen=True)
class RunningUpstream:
    kind: str
    description: str
    process: ManagedProcess
    direct: Target
    #: Provider variables that point the gateway at this upstream.
    gateway_env: dict[str, str]
    #: Scenario key -> the model a gateway client asks for; scenarios missing here are skipped.
    gateway_models: dict[str, str]


# --- the Python fake -------------------------------------------------------------------------------


def start_fake(
    procs: ProcessSet,
    workdir: Path,
    cpus: str | None,
    source: GomodelSource,
    *,
    chunks: int = CHUNKS,
    chunk_delay_ms: int = 0,
) -> RunningUpstream:
    """The project's fake; with ``chunk_delay_ms`` it paces its streams (one chunk per delay)."""
    port = free_port()
    argv = [
        sys.executable, "-m", "gomodel.testing.fake_upstream",
        "--host", "127.0.0.1", "--port", str(port),
        "--chunks", str(chunks), "--chunk-delay-ms", str(chunk_delay_ms), "--api-key", UPSTREAM_KEY,
        "--models", f"{MODEL},{EMBEDDING_MODEL}", "--embedding-dim", str(EMBEDDING_DIM),
    ]  # fmt: skip
    # The same code as the gateway's, so that a --gomodel-ref run does not depend on the checkout.
    env = dict(os.environ) | source.env()
    name = "fake" if not chunk_delay_ms else f"fake-paced-{chunk_delay_ms}ms"
    proc = procs.start(
        f"{name} upstream", pinned(argv, cpus), log_path=workdir / f"{name}.log", env=env, cwd=workdir
    )
    base = f"http://127.0.0.1:{port}"
    wait_http(proc, f"{base}/v1/models", headers={"Authorization": f"Bearer {UPSTREAM_KEY}"})
    url = base + CHAT_PATH
    direct = Target(
        "direct",
        "direct",
        {
            "chat": Endpoint(url, MODEL, UPSTREAM_KEY),
            "chat_stream": Endpoint(url, MODEL, UPSTREAM_KEY, include_usage=True),
            "embeddings": Endpoint(base + EMBEDDINGS_PATH, EMBEDDING_MODEL, UPSTREAM_KEY),
        },
    )
    pacing = f", {chunks} chunks {chunk_delay_ms} ms apart" if chunk_delay_ms else ""
    return RunningUpstream(
        kind="fake",
        description=f"gomodel.testing.fake_upstream (aiohttp + uvloop, one write per SSE event{pacing})",
        process=proc,
        direct=direct,
        gateway_env=_provider_env("OPENAI", f"{base}/v1", f"{MODEL},{EMBEDDING_MODEL}"),
        gateway_models={"chat": MODEL, "chat_stream": MODEL, "embeddings": EMBEDDING_MODEL},
    )


# --- nginx -----------------------------------------------------------------------------------------


def nginx_binary(install: bool) -> str:
    """The nginx executable; installs Debian's package when allowed and missing."""
    return find_or_install("nginx", "nginx", install=install)


def nginx_version(binary: str) -> str:
    # `nginx -v` writes "nginx version: nginx/1.22.1" to stderr.
    result = subprocess.run([binary, "-v"], capture_output=True, text=True, timeout=10, check=False)
    return result.stderr.strip().removeprefix("nginx version: ")


def canned_replies() -> tuple[bytes, bytes]:
    """The non-streamed completion and the full SSE transcript (usage chunk and [DONE] included)."""
    # Imported here, after run.py has put a --gomodel-ref export first on sys.path.
    from gomodel.testing.fake_upstream_wire import ChatReply  # noqa: PLC0415

    reply = ChatReply.build(CHUNKS)
    completion = reply.completion("chatcmpl-bench", MODEL, _PROMPT_TOKENS)
    events = reply.stream_events("chatcmpl-bench", MODEL, include_usage=True, prompt_tokens=_PROMPT_TOKENS)
    return completion, b"".join(events)


def embeddings_reply() -> bytes:
    """The fake's embeddings answer to the benchmark request (`bodies.py`): one float vector."""
    from gomodel.testing import fake_upstream_wire as wire  # noqa: PLC0415

    request = build_request(scenario("embeddings"), Endpoint("", EMBEDDING_MODEL, UPSTREAM_KEY))
    call = wire.validate_embeddings(wire.require_object(wire.parse_json(request.body)))
    body: bytes = wire.embeddings_body(call, EMBEDDING_DIM)
    return body


def anthropic_transcript() -> bytes:
    """The fake Anthropic's stream for the benchmark request: message_start, ping, content_block_start,
    50 text_delta events, content_block_stop, message_delta (with usage), message_stop."""
    from gomodel.testing import fake_anthropic_wire as wire  # noqa: PLC0415

    call = wire.validate(
        {
            "model": CLAUDE_MODEL,
            "max_tokens": 256,
            "stream": True,
            "system": "You are a helpful assistant.",
            "messages": [{"role": "user", "content": "Write fifty short words about load testing."}],
        },
        frozenset({CLAUDE_MODEL}),
    )
    style = wire.AnswerStyle(
        pieces=tuple(f"tok{i} " for i in range(CHUNKS)),
        json_pieces=4,
        cache_read_tokens=0,
        cache_creation_tokens=0,
    )
    return b"".join(wire.build_answer(call, "msg_bench", style).events())


def write_canned_files(www: Path) -> tuple[Path, Path]:
    """The replies as files nginx serves; one document root per port (the SSE root has two files)."""
    completion, transcript = canned_replies()
    roots = (www / "json", www / "sse")
    files = (
        (roots[0], CHAT_PATH, completion),
        (roots[0], EMBEDDINGS_PATH, embeddings_reply()),
        (roots[1], CHAT_PATH, transcript),
        (roots[1], MESSAGES_PATH, anthropic_transcript()),
    )
    for root, path, body in files:
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
    return roots


def _chat_location(root: Path, content_type: str, path: str = CHAT_PATH) -> str:
    # The static module refuses POST with 405; error_page turns that into an internal GET of the
    # same file, answered 200. (`return 200 '<body>'` would be simpler but nginx caps a config
    # token at 4 KiB, and the SSE transcript is about 13 KiB.)
    return f"""location = {path} {{
            root {root};
            default_type {content_type};
            error_page 405 =200 $uri;
        }}"""


def render_nginx_conf(workdir: Path, json_port: int, sse_port: int) -> str:
    json_root, sse_root = write_canned_files(workdir / "www")
    temp = workdir / "nginx-temp"
    # One process, in the foreground, with every path under the run's temp dir: nothing of the
    # system nginx (config, logs, pid, port 80) is touched.
    return f"""
daemon off;
master_process off;
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    # Keep the two reply files open instead of open/fstat/close per request.
    open_file_cache max=16;
    sendfile on;
    etag off;
    # The gateway keeps pooled connections; nginx's default closes them every 1000 requests.
    keepalive_requests 10000000;
    keepalive_timeout 120s;
    client_body_buffer_size 64k;
    server {{
        listen 127.0.0.1:{json_port};
        location = /health {{ return 200 'ok'; }}
        {_chat_location(json_root, "application/json")}
        {_chat_location(json_root, "application/json", EMBEDDINGS_PATH)}
    }}
    server {{
        listen 127.0.0.1:{sse_port};
        location = /health {{ return 200 'ok'; }}
        add_header Cache-Control no-cache;
        {_chat_location(sse_root, "text/event-stream")}
        {_chat_location(sse_root, "text/event-stream", MESSAGES_PATH)}
    }}
}}
"""


def start_nginx(procs: ProcessSet, workdir: Path, cpus: str | None, *, install: bool) -> RunningUpstream:
    binary = nginx_binary(install)
    json_port, sse_port = free_port(), free_port()
    (workdir / "nginx-temp").mkdir(exist_ok=True)
    conf = workdir / "nginx.conf"
    conf.write_text(render_nginx_conf(workdir, json_port, sse_port))
    # -e: errors before the config is read would otherwise go to /var/log/nginx.
    argv = [binary, "-p", str(workdir), "-c", str(conf), "-e", str(workdir / "nginx-error.log")]
    proc = procs.start("nginx upstream", pinned(argv, cpus), log_path=workdir / "nginx.log", cwd=workdir)
    for port in (json_port, sse_port):
        wait_http(proc, f"http://127.0.0.1:{port}/health")
    json_base, sse_base = f"http://127.0.0.1:{json_port}", f"http://127.0.0.1:{sse_port}"
    providers = (
        # Several models on one provider: gomodel's *_MODELS takes a comma-separated list.
        _provider_env("OPENAI", f"{json_base}/v1", f"{MODEL},{EMBEDDING_MODEL}")
        | _provider_env("OPENAI_SSE", f"{sse_base}/v1")
        | _provider_env("ANTHROPIC", f"{sse_base}/v1", CLAUDE_MODEL)
    )
    direct = Target(
        "direct",
        "direct",
        {
            "chat": Endpoint(json_base + CHAT_PATH, MODEL, UPSTREAM_KEY),
            "chat_stream": Endpoint(sse_base + CHAT_PATH, MODEL, UPSTREAM_KEY, include_usage=True),
            # What the gateway sends to its anthropic provider in scenarios (1) and (3).
            "messages_native": Endpoint(sse_base + MESSAGES_PATH, CLAUDE_MODEL, UPSTREAM_KEY),
            "embeddings": Endpoint(json_base + EMBEDDINGS_PATH, EMBEDDING_MODEL, UPSTREAM_KEY),
        },
    )
    return RunningUpstream(
        kind="nginx",
        description=f"{nginx_version(binary)}, 1 process, canned reply files (open_file_cache, sendfile)",
        process=proc,
        direct=direct,
        gateway_env=providers,
        gateway_models={
            "chat": MODEL,
            "chat_stream": f"openai-sse/{MODEL}",
            "openai_to_anthropic": CLAUDE_MODEL,
            "messages_to_openai": f"openai-sse/{MODEL}",
            "messages_native": CLAUDE_MODEL,
            "embeddings": EMBEDDING_MODEL,
        },
    )


def _provider_env(prefix: str, base_url: str, model: str = MODEL) -> dict[str, str]:
    # Configured models (allowlist mode, set by the gateway launcher) mean no /models endpoint is needed.
    return {
        f"{prefix}_API_KEY": UPSTREAM_KEY,
        f"{prefix}_BASE_URL": base_url,
        f"{prefix}_MODELS": model,
    }
