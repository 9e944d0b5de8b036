"""The ``one-api`` console script: the original's flags, served by daphne."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from config.affinity import WorkerPinner


@contextlib.contextmanager
def exit_on_configuration_error() -> Iterator[None]:
    """Turn a configuration mistake into one line on stderr and exit status 2, never a traceback."""
    from django.core.exceptions import ImproperlyConfigured

    try:
        yield
    except ImproperlyConfigured as exc:
        print(f"one-api: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="one-api", description="One API: an OpenAI-compatible LLM gateway.")
    parser.add_argument("--port", type=int, default=3000, help="port to listen on (env PORT wins)")
    parser.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"), help="address to bind")
    parser.add_argument("--log-dir", default="./logs", help="directory for rotated log files")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument(
        "--server",
        choices=("daphne", "uvicorn"),
        default=os.environ.get("ONE_API_SERVER", "daphne"),
        help="ASGI server (default daphne)",
    )
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", "1")))
    parser.add_argument(
        "--cpu-affinity",
        action="store_true",
        help="keep each worker process on a core of its own (env ONE_API_CPU_AFFINITY=1; see config/affinity.py)",
    )
    return parser


def _port(args: argparse.Namespace) -> int:
    raw = os.environ.get("PORT")
    if not raw:
        return args.port
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        print(f"one-api: configuration error: PORT={raw!r}: expected a port number 1-65535", file=sys.stderr)
        raise SystemExit(2)
    return int(raw)


def _start_pinning(args: argparse.Namespace) -> WorkerPinner | None:
    """--cpu-affinity: several uvicorn workers are pinned by a thread here, in their supervisor; a process
    serving alone pins itself."""
    from config.env import env_bool

    with exit_on_configuration_error():
        wanted = args.cpu_affinity or env_bool("ONE_API_CPU_AFFINITY")
    if not wanted:
        return None
    if not hasattr(os, "sched_setaffinity"):
        print("one-api: --cpu-affinity needs Linux (sched_setaffinity); ignored", file=sys.stderr)
        return None
    from config.affinity import WorkerPinner, pin_self

    if args.server == "uvicorn" and args.workers > 1:
        pinner = WorkerPinner()
        pinner.start()
        return pinner
    pin_self()
    return None


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if args.version:
        from config.settings import VERSION

        print(VERSION)
        return
    os.environ["ONE_API_LOG_DIR"] = os.path.abspath(args.log_dir)
    port = _port(args)
    with exit_on_configuration_error():
        import django

        django.setup()
    pinner = _start_pinning(args)
    if args.server == "uvicorn":
        import uvicorn

        uvicorn.run(
            "config.asgi:application",
            host=args.host,
            port=port,
            workers=args.workers,
            access_log=False,
            proxy_headers=False,  # the gateway applies TRUSTED_PROXIES itself (config.net)
            log_level="warning",
        )
        if pinner is not None:
            pinner.stop()
        return
    from daphne.cli import CommandLineInterface

    # Verbosity 0: no access-log line per request (it costs CPU on the relay's hot path); ONE_API_ACCESS_LOG=1
    # brings it back on stdout.
    verbosity = "1" if os.environ.get("ONE_API_ACCESS_LOG") else "0"
    CommandLineInterface().run(["-b", args.host, "-p", str(port), "-v", verbosity, "config.asgi:application"])
