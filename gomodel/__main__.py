"""`gomodel` / `python -m gomodel`: load configuration, set up logging, run the server."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence

from gomodel import __version__

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gomodel", description="AI gateway: one OpenAI-compatible API, many providers."
    )
    parser.add_argument(
        "--config", help="path to config.yaml (default: $GOMODEL_CONFIG, else ./config.yaml if present)"
    )
    parser.add_argument("--host", help="address to listen on (default 0.0.0.0)")
    parser.add_argument("--port", type=int, help="port to listen on (default $PORT, else 8080)")
    parser.add_argument("--workers", type=int, help="worker processes sharing the port (default 1)")
    parser.add_argument("--version", action="version", version=f"gomodel {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Paused before the imports, the bulk of startup; `gomodel.server.heap` says why. The server
    # resumes it once the app is built; an early return resumes it here.
    gc.disable()
    try:
        return _run(args)
    finally:
        gc.enable()


def _run(args: argparse.Namespace) -> int:
    # Imported here, with the collector paused (see `main`).
    import attrs  # noqa: PLC0415

    from gomodel.config import ConfigError, load  # noqa: PLC0415
    from gomodel.observability.logging import configure_logging  # noqa: PLC0415
    from gomodel.providers.registry import build_providers  # noqa: PLC0415

    if os.path.exists(".env"):
        # Imported only when there is a file to read: a tenth of the imports' share of cold start.
        from dotenv import load_dotenv  # noqa: PLC0415

        load_dotenv(".env", override=False)
    try:
        config = load(args.config)
        # Building the providers checks what only their implementations know (e.g. Vertex auth types).
        build_providers(config)
    except ConfigError as exc:
        print(f"gomodel: configuration error: {exc}", file=sys.stderr)
        return 2
    overrides = {
        key: value
        for key, value in (("host", args.host), ("port", args.port), ("workers", args.workers))
        if value is not None
    }
    if overrides.get("workers", 1) < 1 or not 0 <= overrides.get("port", 0) <= 65535:
        print("gomodel: configuration error: --workers must be >= 1 and --port 0-65535", file=sys.stderr)
        return 2
    if overrides:
        config = attrs.evolve(config, server=attrs.evolve(config.server, **overrides))
    configure_logging(config.logging.format, config.logging.level, config.secrets(os.environ))
    from gomodel.server.runner import serve  # noqa: PLC0415 - keep `--version` and config errors fast

    return serve(config)


if __name__ == "__main__":
    sys.exit(main())
