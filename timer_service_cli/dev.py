"""``timer-service dev``: the whole service on this machine (:mod:`timer_service_local`, which
the ``local`` extra installs)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from importlib.util import find_spec

__all__ = ["run"]

LOCAL_EXTRA = "pip install 'timer-service[local]'"


def run(args: argparse.Namespace) -> int:
    # Found, not imported: the emulator imports moto in its own process (0.5 s saved here).
    missing = next((name for name in ("moto", "rich") if find_spec(name) is None), None)
    if missing is not None:
        print(f"timer-service dev: the local stack needs {missing}: {LOCAL_EXTRA}", file=sys.stderr)
        return 2

    from rich.console import Console

    from timer_service_local.aws_calls import CALL_LOG_ENV
    from timer_service_local.emulator import StateInUseError
    from timer_service_local.stack import LocalStack, StackConfig

    if args.record_aws_calls is not None:  # the environment: the API instances read it too
        os.environ[CALL_LOG_ENV] = str(args.record_aws_calls.resolve())

    config = StackConfig(
        host=args.host,
        port=args.port,
        shards=args.shards,
        api_keys=tuple(args.api_key),
        rate_limit=args.rate_limit,
        burst=args.burst,
        timer_quota=args.timer_quota,
        firing_limit=args.firing_limit,
        allow_private_targets=args.allow_private_targets,
        state_dir=args.state_dir,
        embedded=not args.no_embedded,
        print_output=args.print_output,
        quiet=args.quiet,
        cors_origins=tuple(args.cors_origin),
        api_instances=max(0, args.api_instances),
    )
    console = Console(highlight=False)
    stack = LocalStack(config, console)
    try:
        stack.start()
    except (StateInUseError, OSError, RuntimeError) as exc:
        print(
            f"timer-service dev: {_start_failure(exc, config.host, config.port)}", file=sys.stderr
        )
        return 1
    stop = threading.Event()
    previous = {
        signum: signal.signal(signum, lambda *_: stop.set())
        for signum in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        stack.banner()
        code = stack.wait(stop)
    finally:
        started = time.monotonic()
        stack.stop()
        console.print(f"Stopped in {time.monotonic() - started:.1f} s.")
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return code


def _start_failure(exc: BaseException, host: str, port: int) -> str:
    import errno

    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        return f"{host}:{port} is in use: stop what serves it, or give --port (0: any free port)"
    return str(exc)
