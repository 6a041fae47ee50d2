"""The peer gateways gomodel is compared with: the LiteLLM proxy and the Portkey gateway.

Each is started in front of the run's upstream, pinned like gomodel, on a free 127.0.0.1 port, and
returned as a `Target` that the same request bodies load (`bodies.py`). Both live outside the
project, under ``~/.cache/gomodel-bench/``: LiteLLM in its own virtual environment, Portkey in its
own npm directory. With ``install=True`` a missing one is installed once; later runs reuse it.

    peer = start_litellm(procs, workdir, "1", upstream, install=True)
    peer.target.endpoints["chat"]   # where the load goes; the process stops with ``procs``

How each is configured, and what it cannot serve, is written at its start function.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from harness.procs import ManagedProcess, ProcessSet, free_port, pinned, wait_http
from harness.scenarios import (
    CHAT_PATH,
    EMBEDDING_MODEL,
    EMBEDDINGS_PATH,
    MESSAGES_PATH,
    UPSTREAM_KEY,
    Endpoint,
    Target,
)
from harness.upstreams import RunningUpstream

__all__ = [
    "CACHE_DIR",
    "LITELLM_VENV",
    "PORTKEY_DIR",
    "RunningPeer",
    "ensure_litellm",
    "ensure_portkey",
    "start_litellm",
    "start_portkey",
]

CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gomodel-bench"
LITELLM_VENV = CACHE_DIR / "litellm-venv"
PORTKEY_DIR = CACHE_DIR / "portkey"

# gomodel's bench key with the "sk-" prefix LiteLLM requires of a master key.
_LITELLM_MASTER_KEY = "sk-bench-master-key"
# Portkey sets headers on the upstream's Response, which @hono/node-server after 1.14.2 makes
# immutable: every chat completion then fails with "TypeError: immutable" (Portkey-AI/gateway#1389).
# The gateway asks for ^1.3.3, so npm "overrides" pins it. 1.13.5 in turn crashes on Node 24
# (Portkey-AI/gateway#1604).
_HONO_NODE_SERVER = "1.13.5"
_NODE_MAJORS = range(18, 24)
# USD per input and output token for LiteLLM's models: gpt-4o-mini's, Claude Sonnet's and
# text-embedding-3-small's list prices (see `litellm_config`).
_CHAT_PRICE = (0.15e-6, 0.6e-6)
_CLAUDE_PRICE = (3e-6, 15e-6)
_EMBEDDING_PRICE = (0.02e-6, 0.0)
# pip resolves ~150 packages for litellm[proxy]; LiteLLM imports for seconds (10-20 s on a busy VM).
_INSTALL_TIMEOUT = 1800.0
_LITELLM_START_TIMEOUT = 180.0
_PORTKEY_START_TIMEOUT = 60.0
# As for the gateway (`gateway.py`): nothing from the caller's shell that could change behaviour.
# PYTHONPATH and VIRTUAL_ENV in particular would mix the project's packages into LiteLLM's venv.
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")

# start-server.js only takes --port, and @hono/node-server then listens on every interface; this
# preload makes a listen() without a host bind loopback, leaving the gateway's code as published.
_LOOPBACK_PRELOAD = """\
const net = require("node:net");
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === "number" && (args[1] === undefined || typeof args[1] === "function")) {
    args.splice(1, args[1] === undefined ? 1 : 0, "127.0.0.1");
  }
  return listen.apply(this, args);
};
"""


@dataclass(frozen=True)
class RunningPeer:
    #: The server process itself (python running uvicorn, or node), so /proc CPU and RSS are its own.
    process: ManagedProcess
    target: Target
    version: str
    #: One line per scenario this peer does not serve, and why.
    notes: tuple[str, ...]


class _Upstream(NamedTuple):
    #: scheme://host:port, without any path.
    base: str
    model: str


@dataclass(frozen=True)
class _Upstreams:
    """Where each kind of request goes upstream; None: this upstream has none."""

    chat: _Upstream | None
    stream: _Upstream | None
    anthropic: _Upstream | None
    embeddings: _Upstream | None


def _upstreams(upstream: RunningUpstream) -> _Upstreams:
    direct = upstream.direct.endpoints

    def find(key: str, path: str) -> _Upstream | None:
        endpoint = direct.get(key)
        if endpoint is None:
            return None
        if not endpoint.url.endswith(path):
            raise RuntimeError(f"upstream URL {endpoint.url} does not end with {path}")
        return _Upstream(endpoint.url.removesuffix(path), endpoint.model)

    chat = find("chat", CHAT_PATH)
    embeddings = find("embeddings", EMBEDDINGS_PATH)
    if embeddings is None and chat is not None:
        # An upstream without its own embeddings entry would answer them next to chat, if at all;
        # the harness's probe tells.
        embeddings = _Upstream(chat.base, EMBEDDING_MODEL)
    return _Upstreams(
        chat, find("chat_stream", CHAT_PATH), find("messages_native", MESSAGES_PATH), embeddings
    )


def _base_env() -> dict[str, str]:
    return {name: os.environ[name] for name in _INHERITED if name in os.environ}


def _run_install(argv: list[str], cwd: Path | None = None) -> None:
    try:
        subprocess.run(argv, cwd=cwd, check=True, timeout=_INSTALL_TIMEOUT)
    except (OSError, subprocess.SubprocessError) as error:
        raise RuntimeError(f"install step failed: {' '.join(argv)}: {error}") from None


# --- LiteLLM ---------------------------------------------------------------------------------------


def _litellm_version() -> str | None:
    """The installed litellm's version, from its dist-info name (no interpreter start needed)."""
    if not (LITELLM_VENV / "bin" / "litellm").exists():
        return None
    for info in LITELLM_VENV.glob("lib/python*/site-packages/litellm-*.dist-info"):
        return info.name.removeprefix("litellm-").removesuffix(".dist-info")
    return None


def ensure_litellm(*, install: bool) -> str:
    """LiteLLM's version, after installing it into its own venv if it is missing and ``install``."""
    version = _litellm_version()
    if version:
        return version
    command = f"{sys.executable} -m venv {LITELLM_VENV} && {LITELLM_VENV}/bin/pip install 'litellm[proxy]'"
    if not install:
        raise RuntimeError(f"LiteLLM is not installed in {LITELLM_VENV}; to install it: {command}")
    print(f"LiteLLM not found; installing it: {command}", flush=True)
    LITELLM_VENV.parent.mkdir(parents=True, exist_ok=True)
    _run_install([sys.executable, "-m", "venv", str(LITELLM_VENV)])
    _run_install([str(LITELLM_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "litellm[proxy]"])
    version = _litellm_version()
    if not version:
        raise RuntimeError(f"litellm still missing from {LITELLM_VENV} after pip install")
    return version


def litellm_config(ups: _Upstreams, base: str) -> tuple[dict[str, object], dict[str, Endpoint]]:
    """The proxy's config (one model per upstream) and the endpoints of a client at ``base``."""
    models: list[dict[str, object]] = []
    endpoints: dict[str, Endpoint] = {}
    key = _LITELLM_MASTER_KEY

    def model(name: str, provider_model: str, api_base: str, price: tuple[float, float]) -> str:
        params = {
            "model": provider_model,
            "api_base": api_base,
            "api_key": UPSTREAM_KEY,
            # A price per token, as every real model has in LiteLLM's cost map. An unpriced model
            # costs 0, and for a 0 LiteLLM runs its zero-cost diagnostic on every request
            # (litellm_core_utils/llm_cost_calc/zero_cost_diagnostic.py): several ms per request
            # here, which no deployment of a priced model pays. Custom pricing is documented
            # (docs/proxy/custom_pricing); the figures are list prices of similar models.
            "input_cost_per_token": price[0],
            "output_cost_per_token": price[1],
        }
        models.append({"model_name": name, "litellm_params": params})
        return name

    if ups.chat:
        name = model(ups.chat.model, f"openai/{ups.chat.model}", f"{ups.chat.base}/v1", _CHAT_PRICE)
        endpoints["chat"] = Endpoint(base + CHAT_PATH, name, key)
    if ups.stream:
        # A name of its own: it is another upstream (nginx's SSE port) serving the same model.
        stream = ups.stream
        name = model(f"{stream.model}-sse", f"openai/{stream.model}", f"{stream.base}/v1", _CHAT_PRICE)
        endpoints["chat_stream"] = Endpoint(base + CHAT_PATH, name, key)
        endpoints["messages_to_openai"] = Endpoint(base + MESSAGES_PATH, name, key)
    if ups.anthropic:
        # LiteLLM appends /v1/messages to an anthropic api_base.
        claude = ups.anthropic
        name = model(claude.model, f"anthropic/{claude.model}", claude.base, _CLAUDE_PRICE)
        endpoints["openai_to_anthropic"] = Endpoint(base + CHAT_PATH, name, key)
        endpoints["messages_native"] = Endpoint(base + MESSAGES_PATH, name, key)
    if ups.embeddings:
        emb = ups.embeddings
        name = model(emb.model, f"openai/{emb.model}", f"{emb.base}/v1", _EMBEDDING_PRICE)
        endpoints["embeddings"] = Endpoint(base + EMBEDDINGS_PATH, name, key)
    config: dict[str, object] = {
        "model_list": models,
        "litellm_settings": {
            # LiteLLM sends a /v1/messages request for an `openai/` model to OpenAI's Responses API
            # (/v1/responses) by default. The scenario's upstream speaks chat completions (what
            # gomodel translates to, and what every OpenAI-compatible server offers); this is
            # LiteLLM's own switch for that (litellm.use_chat_completions_url_for_anthropic_messages).
            "use_chat_completions_url_for_anthropic_messages": True,
        },
        # No database_url and no callbacks: no spend or error logs, no key/budget lookups (the
        # master key is compared in memory), no logging integrations; the default for a proxy
        # configured only by this file.
        "general_settings": {"master_key": key},
    }
    return config, endpoints


def litellm_env() -> dict[str, str]:
    return _base_env() | {
        # LiteLLM fetches its model cost map from GitHub when it is imported; this uses the copy in
        # the package instead (documented in litellm_core_utils/get_model_cost_map.py). There is
        # no network here, and a run must not depend on one.
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        # The environment veto for the proxy's telemetry (litellm/proxy/telemetry/settings.py).
        # Without a database it has no stored consent and is off anyway; this makes sure.
        "LITELLM_TELEMETRY_DISABLED": "true",
        # litellm/__init__.py loads a .env from the working directory unless in production mode.
        "LITELLM_MODE": "PRODUCTION",
        # Errors only (docs/proxy/debugging). This also sets uvicorn's log level, so there is no
        # access log line per request, as for gomodel (ACCESS_LOG_ENABLED=false in `gateway.py`).
        "LITELLM_LOG": "ERROR",
    }


def start_litellm(
    procs: ProcessSet, workdir: Path, cpus: str | None, upstream: RunningUpstream, *, install: bool
) -> RunningPeer:
    """The LiteLLM proxy (uvicorn, 1 worker, no database, no callbacks) in front of ``upstream``.

    It serves every scenario the upstream has: `openai/` models for chat completions and
    embeddings, `anthropic/` for the Anthropic upstream, and /v1/messages for both (translated to
    chat completions for the OpenAI upstream). Stopped with ``procs``.
    """
    version = ensure_litellm(install=install)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    config, endpoints = litellm_config(_upstreams(upstream), base)
    config_path = workdir / "litellm-config.yaml"
    # JSON is YAML, so the config needs no YAML writer.
    config_path.write_text(json.dumps(config, indent=2))
    argv = [
        str(LITELLM_VENV / "bin" / "litellm"), "--config", str(config_path),
        "--host", "127.0.0.1", "--port", str(port), "--num_workers", "1",
    ]  # fmt: skip
    # The console script's shebang is the venv's python and taskset execs it, and uvicorn with one
    # worker serves in that same process, so the pid is the server's.
    proc = procs.start(
        "litellm", pinned(argv, cpus), log_path=workdir / "litellm.log", env=litellm_env(), cwd=workdir
    )
    wait_http(proc, f"{base}/health/liveliness", timeout=_LITELLM_START_TIMEOUT)
    return RunningPeer(proc, Target("litellm", f"LiteLLM {version}", endpoints), f"litellm {version}", ())


# --- Portkey ---------------------------------------------------------------------------------------


def _package_version(package_dir: Path) -> str | None:
    try:
        return str(json.loads((package_dir / "package.json").read_text())["version"])
    except (OSError, ValueError, KeyError):
        return None


def _portkey_state() -> tuple[str | None, bool]:
    """(the installed gateway's version, whether @hono/node-server is the pinned one)."""
    modules = PORTKEY_DIR / "node_modules"
    gateway = modules / "@portkey-ai" / "gateway"
    version = _package_version(gateway) if (gateway / "build" / "start-server.js").exists() else None
    return version, _package_version(modules / "@hono" / "node-server") == _HONO_NODE_SERVER


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} not found: the Portkey gateway needs Node.js 18-23 and npm")
    return found


def ensure_portkey(*, install: bool) -> str:
    """The gateway's version, after installing it (with the pinned node-server) if missing and ``install``."""
    version, pinned_ok = _portkey_state()
    if version and pinned_ok:
        return version
    command = (
        f"cd {PORTKEY_DIR} && npm install --ignore-scripts @portkey-ai/gateway, with package.json "
        f'"overrides": {{"@hono/node-server": "{_HONO_NODE_SERVER}"}}'
    )
    if not install:
        raise RuntimeError(f"the Portkey gateway is not installed in {PORTKEY_DIR}; to install it: {command}")
    print(f"Portkey gateway not found; installing it: {command}", flush=True)
    npm = _tool("npm")
    PORTKEY_DIR.mkdir(parents=True, exist_ok=True)
    package = {
        "name": "gomodel-bench-portkey",
        "private": True,
        "description": "The Portkey gateway for scripts/bench, written by harness/peers.py",
        "overrides": {"@hono/node-server": _HONO_NODE_SERVER},
    }
    (PORTKEY_DIR / "package.json").write_text(json.dumps(package, indent=2) + "\n")
    # --ignore-scripts: the gateway's one install script is patch-package, and the published
    # package ships no patches (only build/), so there is nothing for it to do.
    _run_install(
        [npm, "install", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error",
         "@portkey-ai/gateway"],
        cwd=PORTKEY_DIR,
    )  # fmt: skip
    version, pinned_ok = _portkey_state()
    if not version or not pinned_ok:
        raise RuntimeError(
            f"npm install in {PORTKEY_DIR} did not leave the gateway with "
            f"@hono/node-server {_HONO_NODE_SERVER}"
        )
    return version


def _node_version(node: str) -> str:
    result = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30, check=False)
    version = result.stdout.strip()
    try:
        major = int(version.removeprefix("v").split(".")[0])
    except ValueError:
        raise RuntimeError(
            f"cannot tell the version of {node}: {version or result.stderr.strip()!r}"
        ) from None
    if major not in _NODE_MAJORS:
        raise RuntimeError(
            f"node {version}: the Portkey gateway with @hono/node-server {_HONO_NODE_SERVER} needs "
            f"Node.js {_NODE_MAJORS.start}-{_NODE_MAJORS.stop - 1}"
        )
    return version


def portkey_endpoints(ups: _Upstreams, base: str) -> tuple[dict[str, Endpoint], list[str]]:
    """The endpoints of a client of the gateway at ``base``, and the scenarios it cannot serve."""
    endpoints: dict[str, Endpoint] = {}
    notes: list[str] = []

    def endpoint(path: str, to: _Upstream, provider: str) -> Endpoint:
        # Routing is per request, by these headers; the client's key (Bearer, or x-api-key for
        # Messages) is the provider's key, which Portkey passes on. It has no auth of its own.
        headers = (("x-portkey-provider", provider), ("x-portkey-custom-host", f"{to.base}/v1"))
        return Endpoint(base + path, to.model, UPSTREAM_KEY, headers=headers)

    if ups.chat:
        endpoints["chat"] = endpoint(CHAT_PATH, ups.chat, "openai")
    if ups.stream:
        endpoints["chat_stream"] = endpoint(CHAT_PATH, ups.stream, "openai")
        # Its /v1/messages reaches only providers that take Messages themselves (anthropic here).
        notes.append(
            "(g) /v1/messages client -> OpenAI upstream: not served; Portkey translates no Messages "
            'request to chat completions (HTTP 500 "messages is not supported by openai")'
        )
    if ups.anthropic:
        endpoints["openai_to_anthropic"] = endpoint(CHAT_PATH, ups.anthropic, "anthropic")
        endpoints["messages_native"] = endpoint(MESSAGES_PATH, ups.anthropic, "anthropic")
    if ups.embeddings:
        endpoints["embeddings"] = endpoint(EMBEDDINGS_PATH, ups.embeddings, "openai")
    return endpoints, notes


def start_portkey(
    procs: ProcessSet, workdir: Path, cpus: str | None, upstream: RunningUpstream, *, install: bool
) -> RunningPeer:
    """The Portkey gateway (node build/start-server.js, headless, production) in front of ``upstream``.

    Every request names its provider and the upstream's URL in ``x-portkey-provider`` and
    ``x-portkey-custom-host``, which the endpoints carry as headers. Stopped with ``procs``.
    """
    version = ensure_portkey(install=install)
    node = _tool("node")
    node_version = _node_version(node)
    preload = workdir / "portkey-loopback.cjs"
    preload.write_text(_LOOPBACK_PRELOAD)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = PORTKEY_DIR / "node_modules" / "@portkey-ai" / "gateway" / "build" / "start-server.js"
    # NODE_ENV=production (Portkey's documented production setting) and --headless: no web UI and
    # no log-stream routes. node runs the server itself (no npm or npx wrapper), so the pid is the
    # server's.
    argv = [node, "--require", str(preload), str(server), f"--port={port}", "--headless"]
    env = _base_env() | {"NODE_ENV": "production"}
    proc = procs.start("portkey", pinned(argv, cpus), log_path=workdir / "portkey.log", env=env, cwd=workdir)
    wait_http(proc, f"{base}/", timeout=_PORTKEY_START_TIMEOUT)
    endpoints, notes = portkey_endpoints(_upstreams(upstream), base)
    return RunningPeer(
        proc,
        Target("portkey", f"Portkey {version}", endpoints),
        f"@portkey-ai/gateway {version} (node {node_version}, @hono/node-server {_HONO_NODE_SERVER})",
        tuple(notes),
    )
