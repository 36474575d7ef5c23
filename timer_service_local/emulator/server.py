"""The emulator's process: restore, serve moto with cheroot, sweep TTL, exit when stdin closes."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import IO

from timer_service_local.emulator.capture import activate, install
from timer_service_local.emulator.persistence import Persistence, StateInUseError
from timer_service_local.emulator.ttl import TTL_SWEEP_S, sweep_expired
from timer_service_local.loopback_only import loopback_only

__all__ = ["main", "serve"]

logger = logging.getLogger(__name__)

SERVER_THREADS = 32  # requests at once (long polls hold one each)


def serve(state_dir: Path | None, *, host: str, port: int, out: IO[str]) -> None:
    """Restore, serve, report ``{"url": ...}`` on ``out``; return when stdin closes."""
    from cheroot import wsgi
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    persistence = None
    restored: dict[str, int] = {}
    if state_dir is not None:
        persistence = Persistence(state_dir)
        install()
        restored = persistence.restore()
        activate(persistence)
        sweep_expired(persistence)  # what expired while the stack was down
    else:
        install()
    # moto's own server (werkzeug's, a thread per connection) takes 5 ms a GetItem here;
    # cheroot's pool of threads 3 ms.
    app = DomainDispatcherApplication(create_backend_app)
    server = wsgi.Server(
        (host, port), app, numthreads=SERVER_THREADS, server_name="timer-service-emulator"
    )
    server.prepare()
    server.wsgi_app = loopback_only(app, port=server.bind_addr[1])  # the port, once bound
    threading.Thread(target=server.serve, daemon=True, name="http").start()
    bound_host, bound_port = server.bind_addr[:2]
    out.write(json.dumps({"url": f"http://{bound_host}:{bound_port}", "restored": restored}))
    out.write("\n")
    out.flush()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the stack, which stops us

    def watch_stdin() -> None:
        with contextlib.suppress(OSError):
            while os.read(sys.stdin.fileno(), 1024):
                pass
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True, name="stdin").start()
    while not stop.wait(TTL_SWEEP_S):
        if persistence is not None:
            try:
                sweep_expired(persistence)
            except Exception:
                logger.exception("TTL sweep failed")
    if persistence is not None:
        with persistence.lock:  # no change half-written; then out, without waiting on moto
            persistence.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m timer_service_local.emulator")
    parser.add_argument("--state-dir", type=Path, help="keep state here (default: in memory)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    # moto parses an UpdateExpression recursively: a shard with hundreds of rate bases nests
    # past Python's default limit of 1,000 (loadtest cost's 1,000 periods do)
    sys.setrecursionlimit(20_000)
    logging.basicConfig(level=logging.WARNING, format="emulator: %(levelname)s %(message)s")
    try:
        serve(args.state_dir, host=args.host, port=args.port, out=sys.stdout)
    except StateInUseError as exc:
        print(json.dumps({"error": str(exc)}), flush=True)
        return 1
    sys.stdout.flush()
    os._exit(0)  # moto's server threads need not wind down
