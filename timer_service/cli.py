"""``timer-service``: the command line, and the local stack's composition root.

This module is the one place in ``timer_service`` that imports the Lambda packages
(``api``, ``ticker``, ``callbacks``), lazily, to run them together on one machine.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from timer_service import __version__

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["main"]

LOCAL_TABLE = "timer-service"
LOCAL_QUEUE_PREFIX = "timer-service"
STATE_FILE = "dynamodb.json"
SAVE_EVERY_S = 30.0


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    return int(args.run(args))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="timer-service", description="Open timer service for AWS: local stack and tools."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(title="commands")

    dev = commands.add_parser("dev", help="run the whole service on this machine")
    dev.add_argument("--host", default="127.0.0.1", help="address to serve the API on")
    dev.add_argument("--port", type=int, default=8080, help="API port (0: any free port)")
    dev.add_argument("--shards", type=_positive, default=4, help="number of active shards")
    dev.add_argument("--api-key", help="require this X-Api-Key header on every request")
    dev.add_argument(
        "--allow-private-targets",
        action="store_true",
        help="let webhooks reach loopback and private addresses (local testing only)",
    )
    dev.add_argument(
        "--state-dir",
        type=Path,
        default=Path(".timer-service"),
        help="where timers are saved on shutdown and restored from on start",
    )
    dev.add_argument(
        "--no-embedded",
        action="store_true",
        help="use AWS_ENDPOINT_URL / credentials from the environment, not an embedded emulator",
    )
    dev.set_defaults(run=_run_dev)
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


# --- dev ----------------------------------------------------------------------------------


@dataclass
class _Resources:
    endpoint_url: str | None
    table: str
    dispatch_queue_url: str
    dlq_url: str
    output_queue_url: str


def _run_dev(args: argparse.Namespace) -> int:
    from rich.console import Console

    from timer_service.local.embedded import EmbeddedAws, fake_credentials

    console = Console(highlight=False)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    if args.no_embedded:
        return _serve_dev(args, console, stop, embedded_url=None)
    with fake_credentials(), EmbeddedAws() as aws:
        return _serve_dev(args, console, stop, embedded_url=aws.url)


def _serve_dev(
    args: argparse.Namespace,
    console: Console,
    stop: threading.Event,
    *,
    embedded_url: str | None,
) -> int:
    from api.handler import lambda_handler
    from api.local_gateway import LocalGateway
    from timer_service.aws import dynamodb_client
    from timer_service.local.state import load_table, save_table
    from timer_service.settings import Settings

    resources = _provision(embedded_url)
    os.environ.update(
        TIMER_TABLE=resources.table,
        DISPATCH_QUEUE_URL=resources.dispatch_queue_url,
        DLQ_URL=resources.dlq_url,
        OUTPUT_QUEUE_URL=resources.output_queue_url,
        POWERTOOLS_TRACE_DISABLED="true",
        POWERTOOLS_LOG_LEVEL=os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
        ALLOW_PRIVATE_TARGETS="true" if args.allow_private_targets else "false",
    )
    if embedded_url is not None:
        os.environ["AWS_ENDPOINT_URL"] = embedded_url
    settings = Settings.from_env()
    client = dynamodb_client(settings)
    state_file: Path = args.state_dir / STATE_FILE
    persist = embedded_url is not None
    restored = load_table(client, settings.table_name, state_file) if persist else 0
    _apply_shard_count(settings, args.shards)

    def on_request(method: str, path: str, status: int, elapsed_ms: float) -> None:
        style = "green" if status < 400 else "yellow" if status < 500 else "red"
        console.print(f"[{style}]{status}[/] {method} {path} [dim]{elapsed_ms:.1f} ms[/]")

    gateway = LocalGateway(
        lambda_handler,
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        on_request=on_request,
    ).start()
    _banner(console, args, gateway.url, resources, restored, state_file if persist else None)

    save_lock = threading.Lock()

    def save() -> None:
        if persist:
            with save_lock:
                save_table(client, settings.table_name, state_file)

    try:
        while not stop.wait(SAVE_EVERY_S):
            save()
    finally:
        gateway.stop()
        save()
        if persist:
            console.print(f"Saved state to {state_file}. Stopped.")
        else:
            console.print("Stopped.")
    return 0


def _provision(embedded_url: str | None) -> _Resources:
    from timer_service.aws import dynamodb_client, sqs_client
    from timer_service.provisioning import create_queues, create_table
    from timer_service.settings import Settings

    base = Settings.from_env().model_copy(update={"endpoint_url": embedded_url})
    if embedded_url is None:
        base = base.model_copy(update={"endpoint_url": os.environ.get("AWS_ENDPOINT_URL")})
    table = os.environ.get("TIMER_TABLE", LOCAL_TABLE)
    create_table(dynamodb_client(base), table)
    queues = create_queues(sqs_client(base), LOCAL_QUEUE_PREFIX)
    return _Resources(base.endpoint_url, table, queues.dispatch, queues.dlq, queues.output)


def _apply_shard_count(settings: object, shards: int) -> None:
    from timer_service.aws import dynamodb_client
    from timer_service.models import ShardRegistry
    from timer_service.settings import Settings
    from timer_service.store.dynamodb import DynamoTimerStore

    assert isinstance(settings, Settings)
    store = DynamoTimerStore(dynamodb_client(settings), settings.table_name)
    current = store.get_registry()
    active = tuple(range(shards))
    if current.active != active:
        draining = tuple(n for n in current.all if n not in active)
        store.put_registry(ShardRegistry(active=active, draining=draining))


def _banner(
    console: Console,
    args: argparse.Namespace,
    url: str,
    resources: _Resources,
    restored: int,
    state_file: Path | None,
) -> None:
    key_header = f" -H 'X-Api-Key: {args.api_key}'" if args.api_key else ""
    rows = [
        ("API", url),
        ("Swagger UI", f"{url}/docs"),
        ("OpenAPI", f"{url}/openapi.json"),
        ("AWS endpoint", resources.endpoint_url or "from the environment"),
        ("Table", resources.table),
        ("Dispatch queue", resources.dispatch_queue_url),
        ("Output queue", resources.output_queue_url),
        ("State", f"{state_file} ({restored} items restored)" if state_file else "not saved"),
    ]
    console.print(f"[bold]timer-service {__version__}[/] local stack, {args.shards} shards")
    for name, value in rows:
        console.print(f"  {name:<15} {value}")
    console.print("Try:")
    console.print(
        f"  curl -X PUT {url}/periodic/hello{key_header} -H 'Content-Type: application/json'"
        """ -d '{"schedule": "rate(1 minute)", "timerCallbackData": {"hello": "world"}}'""",
        soft_wrap=True,
    )
    console.print(f"  curl {url}/periodic{key_header}", soft_wrap=True)
    console.print("Ctrl-C stops (state is saved).")
    sys.stdout.flush()


if __name__ == "__main__":
    raise SystemExit(main())
