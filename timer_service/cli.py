"""``timer-service``: the command line, and the local stack's composition root.

This module is the one place in ``timer_service`` that imports the Lambda packages
(``api``, ``ticker``, ``callbacks``), lazily, to run them together on one machine.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from timer_service import __version__

if TYPE_CHECKING:
    from rich.console import Console

    from timer_service.dispatch import Firing

__all__ = ["main"]

LOCAL_TABLE = "timer-service"
LOCAL_IDEMPOTENCY_TABLE = "timer-service-idempotency"
LOCAL_QUEUE_PREFIX = "timer-service"
LOCAL_SNAPSHOT_BUCKET = "timer-service-snapshots"
STATE_FILE = "dynamodb.json"
HELD_FILE = "firings.json"  # firings a tick had sent that were still held at shutdown
ENDPOINT_FILE = "endpoint.json"  # where a running local stack tells the other commands its URLs
SAVE_EVERY_S = 30.0
CALLBACK_WORKERS = 8  # concurrent callback invocations, as Lambda would scale out


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
    state_dir_help = "the local stack's state directory (its endpoint.json names the resources)"

    dev = commands.add_parser("dev", help="run the whole service on this machine")
    dev.add_argument("--host", default="127.0.0.1", help="address to serve the API on")
    dev.add_argument("--port", type=int, default=8080, help="API port (0: any free port)")
    dev.add_argument("--shards", type=_positive, default=4, help="number of active shards")
    dev.add_argument(
        "--api-key",
        action="append",
        default=[],
        metavar="KEY",
        help="require an X-Api-Key header with this key (repeat it: each key is a tenant)",
    )
    dev.add_argument(
        "--rate-limit",
        type=float,
        default=50.0,
        metavar="RPS",
        help="requests a second per tenant, as a usage plan would allow (0: no limit)",
    )
    dev.add_argument("--burst", type=_positive, default=100, help="requests at once per tenant")
    dev.add_argument(
        "--timer-quota",
        type=_positive,
        default=10_000,
        metavar="N",
        help="the most timers a tenant may have",
    )
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
    dev.add_argument(
        "--print-output",
        action="store_true",
        help="print what the sqs job type delivers to the output queue",
    )
    dev.add_argument("--quiet", action="store_true", help="do not print each request and firing")
    dev.set_defaults(run=_run_dev)

    stack_help = "a deployed stack: its outputs name the resources (AWS credentials as usual)"
    shards = commands.add_parser("shards", help="list, resize or rebalance the shards")
    shards.add_argument(
        "--state-dir", type=Path, default=Path(".timer-service"), help=state_dir_help
    )
    shards.add_argument("--stack", metavar="NAME", help=stack_help)
    shard_commands = shards.add_subparsers(title="shard commands", required=True)
    shard_commands.add_parser("list", help="shards, their state and timers").set_defaults(
        run=_run_shards_list
    )
    resize = shard_commands.add_parser("set", help="make shards 0..N-1 active; others drain")
    resize.add_argument("count", type=_positive)
    resize.set_defaults(run=_run_shards_set)
    shard_commands.add_parser(
        "rebalance", help="move timers off draining shards and even out the active ones"
    ).set_defaults(run=_run_shards_rebalance)

    api = commands.add_parser(
        "api", help="call a deployed stack's API, signed with your AWS credentials (SigV4)"
    )
    api.add_argument("method", help="GET, PUT, POST or DELETE")
    api.add_argument("path", help="e.g. /periodic/my-timer")
    api.add_argument("body", nargs="?", help="JSON, or @file")
    api.add_argument("--stack", metavar="NAME", help="read the API URL from this stack")
    api.add_argument("--url", help="the API URL instead of a stack's ApiUrl output")
    api.add_argument("--api-key", help="send X-Api-Key (stacks deployed with apiAuth=API_KEY)")
    api.set_defaults(run=_run_api)

    job_types = commands.add_parser(
        "job-types", help="the installed job types and the schema of their job config"
    )
    job_types.add_argument("--json", action="store_true", help="print them as one JSON document")
    job_types.set_defaults(run=_run_job_types)

    dlq = commands.add_parser("dlq", help="inspect or redrive firings that failed")
    dlq.add_argument("--state-dir", type=Path, default=Path(".timer-service"), help=state_dir_help)
    dlq.add_argument("--stack", metavar="NAME", help=stack_help)
    dlq_commands = dlq.add_subparsers(title="dlq commands", required=True)
    dlq_list = dlq_commands.add_parser("list", help="show failed firings without removing them")
    dlq_list.add_argument("--limit", type=_positive, default=50)
    dlq_list.set_defaults(run=_run_dlq_list)
    dlq_commands.add_parser("redrive", help="send failed firings back for delivery").set_defaults(
        run=_run_dlq_redrive
    )
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


@dataclass
class _Resources:
    endpoint_url: str | None
    table: str
    idempotency_table: str
    dispatch_queue_url: str
    dlq_url: str
    output_queue_url: str
    snapshot_bucket: str | None = None


# --- dev ----------------------------------------------------------------------------------


def _run_dev(args: argparse.Namespace) -> int:
    from rich.console import Console

    from timer_service.local.embedded import EmbeddedAws, fake_credentials

    console = Console(highlight=False, quiet=False)
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
    from timer_service.aws import dynamodb_client, sqs_client
    from timer_service.clock import SystemClock
    from timer_service.dispatch import SqsDispatchQueue
    from timer_service.local.held_queue import HeldDispatchQueue
    from timer_service.local.state import load_firings, load_table, save_firings, save_table
    from timer_service.settings import Settings
    from timer_service.store.dynamodb import DynamoTimerStore
    from timer_service.tick import TickEngine, TickSettings

    resources = _provision(embedded_url)
    os.environ.update(
        TIMER_TABLE=resources.table,
        IDEMPOTENCY_TABLE=resources.idempotency_table,
        DISPATCH_QUEUE_URL=resources.dispatch_queue_url,
        DLQ_URL=resources.dlq_url,
        OUTPUT_QUEUE_URL=resources.output_queue_url,
        POWERTOOLS_TRACE_DISABLED="true",
        POWERTOOLS_METRICS_DISABLED="true",
        POWERTOOLS_LOG_LEVEL=os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
        ALLOW_PRIVATE_TARGETS="true" if args.allow_private_targets else "false",
        MAX_TIMERS_PER_OWNER=str(args.timer_quota),
    )
    if embedded_url is not None:
        os.environ["AWS_ENDPOINT_URL"] = embedded_url
    if resources.snapshot_bucket is not None:
        os.environ["SNAPSHOT_BUCKET"] = resources.snapshot_bucket
    # Metrics are off locally (no CloudWatch): powertools would warn at every invocation.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    # The Lambda handlers read their logging settings when imported: after the environment.
    import api.handler
    import callbacks.handler
    import ticker.handler
    from api.local_gateway import LocalGateway
    from callbacks.local_worker import QueueWorker
    from ticker.local_loop import TickerLoop
    from timer_service.local.limits import RateLimiter

    settings = Settings.from_env()
    client = dynamodb_client(settings)
    sqs = sqs_client(settings)
    state_file: Path = args.state_dir / STATE_FILE
    persist = embedded_url is not None
    restored = load_table(client, settings.table_name, state_file) if persist else 0
    store = DynamoTimerStore(client, settings.table_name)
    if restored:
        from timer_service.recovery import rebuild_index

        rebuild_index(store, now_s=int(time.time()))
    _apply_shard_count(store, args.shards)

    clock = SystemClock()
    held = HeldDispatchQueue(
        SqsDispatchQueue(sqs, resources.dispatch_queue_url, clock=clock), clock=clock
    ).start()
    held_file: Path = args.state_dir / HELD_FILE
    if persist:
        held.send(load_firings(held_file))
    ticker.handler.use_engine(
        TickEngine(
            store=store,
            queue=held,
            clock=clock,
            settings=TickSettings.from_settings(settings),
        )
    )
    quiet = args.quiet

    def on_request(method: str, path: str, status: int, elapsed_ms: float) -> None:
        if not quiet:
            style = "green" if status < 400 else "yellow" if status < 500 else "red"
            console.print(f"[{style}]{status}[/] {method} {path} [dim]{elapsed_ms:.1f} ms[/]")

    def on_firing(firing: Firing, result: Any, error: Exception | None) -> None:
        if quiet:
            return
        when = datetime.fromtimestamp(firing.scheduled_s, tz=UTC).strftime("%H:%M:%S")
        if error is not None:
            console.print(f"[red]failed[/] {firing.timer_id} @ {when}: {error}", soft_wrap=True)
        elif result.outcome == "delivered":
            ran = result.result
            said = "" if ran is None else f" {ran.outcome}"
            if ran is not None and ran.summary:
                said += f": {ran.summary}"
            console.print(
                f"[cyan]fired[/] {firing.timer_id} @ {when} [dim]late {result.lateness_s:+.3f} s[/]"
                + said,
                soft_wrap=True,
            )
        else:
            console.print(f"[dim]skipped {firing.timer_id} @ {when}: {result.outcome}[/]")

    callbacks.handler.listeners.append(on_firing)
    loop = TickerLoop(ticker.handler.lambda_handler, lambda: store.get_registry().all).start()
    workers = [
        QueueWorker(sqs, resources.dispatch_queue_url, callbacks.handler.lambda_handler).start()
        for _ in range(CALLBACK_WORKERS)
    ]
    if args.print_output:
        workers.append(
            QueueWorker(
                sqs, resources.output_queue_url, _output_printer(console), name="output"
            ).start()
        )
    gateway = LocalGateway(
        api.handler.lambda_handler,
        host=args.host,
        port=args.port,
        api_keys=args.api_key,
        limiter=None
        if args.rate_limit <= 0
        else RateLimiter(rate=args.rate_limit, burst=args.burst),
        on_request=on_request,
    ).start()
    args.state_dir.mkdir(parents=True, exist_ok=True)
    endpoint_file = args.state_dir / ENDPOINT_FILE
    endpoint_file.write_text(json.dumps(asdict(resources)))
    _banner(console, args, gateway.url, resources, restored, state_file if persist else None)

    save_lock = threading.Lock()
    saved_changes = -1

    def save() -> None:
        if persist:
            with save_lock:
                save_table(client, settings.table_name, state_file)

    try:
        # Saving scans the table through the emulator, which pauses everything for a moment
        # on big tables: it runs only after the API changed something (and at shutdown).
        while not stop.wait(SAVE_EVERY_S):
            if gateway.changes != saved_changes:
                saved_changes = gateway.changes
                save()
    finally:
        gateway.stop()
        loop.stop()
        still_held = held.stop()
        for worker in workers:
            worker.request_stop()
        for worker in workers:
            worker.stop()
        save()
        if persist and still_held:
            save_firings(still_held, held_file)
        endpoint_file.unlink(missing_ok=True)
        console.print(f"Saved state to {state_file}. Stopped." if persist else "Stopped.")
    return 0


def _output_printer(console: Console) -> Any:
    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        for record in event["Records"]:
            console.print(f"[magenta]output[/] {record['body']}", soft_wrap=True)
        return {"batchItemFailures": []}

    return handle


def _provision(embedded_url: str | None) -> _Resources:
    from timer_service.aws import client, dynamodb_client, sqs_client
    from timer_service.provisioning import (
        create_bucket,
        create_idempotency_table,
        create_queues,
        create_table,
    )
    from timer_service.settings import Settings

    base = Settings.from_env().model_copy(
        update={"endpoint_url": embedded_url or os.environ.get("AWS_ENDPOINT_URL")}
    )
    table = os.environ.get("TIMER_TABLE", LOCAL_TABLE)
    idempotency = os.environ.get("IDEMPOTENCY_TABLE", LOCAL_IDEMPOTENCY_TABLE)
    create_table(dynamodb_client(base), table)
    create_idempotency_table(dynamodb_client(base), idempotency)
    queues = create_queues(
        sqs_client(base), LOCAL_QUEUE_PREFIX, max_receive_count=base.max_attempts
    )
    bucket = base.snapshot_bucket
    if embedded_url is not None:
        bucket = LOCAL_SNAPSHOT_BUCKET
        create_bucket(client("s3", base.region, embedded_url), bucket)
    return _Resources(
        base.endpoint_url, table, idempotency, queues.dispatch, queues.dlq, queues.output, bucket
    )


def _apply_shard_count(store: Any, shards: int) -> tuple[int, ...]:
    """Shards 0..N-1 active; shards beyond that drain. The draining ones, as now."""
    from timer_service.models import ShardRegistry

    current = store.get_registry()
    active = tuple(range(shards))
    draining = tuple(n for n in current.all if n not in active)
    if current.active != active or current.draining != draining:
        store.put_registry(ShardRegistry(active=active, draining=draining))
    return draining


def _banner(
    console: Console,
    args: argparse.Namespace,
    url: str,
    resources: _Resources,
    restored: int,
    state_file: Path | None,
) -> None:
    key_header = f" -H 'X-Api-Key: {args.api_key[0]}'" if args.api_key else ""
    rows = [
        ("API", url),
        ("Swagger UI", f"{url}/docs"),
        ("OpenAPI", f"{url}/openapi.json"),
        ("AWS endpoint", resources.endpoint_url or "from the environment"),
        ("Table", resources.table),
        ("Dispatch queue", resources.dispatch_queue_url),
        ("Dead letters", resources.dlq_url),
        ("Output queue", resources.output_queue_url),
        ("Job types", ", ".join(_job_type_names())),
        ("State", f"{state_file} ({restored} items restored)" if state_file else "not saved"),
    ]
    console.print(f"[bold]timer-service {__version__}[/] local stack, {args.shards} shards")
    for name, value in rows:
        console.print(f"  {name:<15} {value}", soft_wrap=True)
    console.print("Try:")
    console.print(
        f"  curl -X PUT {url}/periodic/hello{key_header} -H 'Content-Type: application/json'"
        """ -d '{"schedule": "rate(1 minute)", "timerCallbackData": {"hello": "world"}}'""",
        soft_wrap=True,
    )
    console.print(f"  curl {url}/periodic{key_header}", soft_wrap=True)
    console.print("Ctrl-C stops (state is saved).")
    sys.stdout.flush()


def _job_type_names() -> list[str]:
    from timer_service.job_types import JobTypeRegistry

    return JobTypeRegistry.from_entry_points().names


# --- shards and dlq -----------------------------------------------------------------------


def _connect(state_dir: Path, stack: str | None = None) -> tuple[_Resources, Any]:
    """The resources of a deployed stack (``--stack``), of the running local stack (its
    endpoint file), else of the environment."""
    from timer_service.settings import Settings

    endpoint_file = state_dir / ENDPOINT_FILE
    if stack is not None:
        from timer_service.deployment import Deployment

        deployment = Deployment.load(stack, endpoint_url=os.environ.get("AWS_ENDPOINT_URL"))
        os.environ.setdefault("AWS_REGION", deployment.region)
        resources = _Resources(
            endpoint_url=os.environ.get("AWS_ENDPOINT_URL"),
            table=deployment.output("TableName"),
            idempotency_table="",
            dispatch_queue_url=deployment.output("QueueUrl"),
            dlq_url=deployment.output("DlqUrl"),
            output_queue_url=deployment.output("OutputQueueUrl"),
        )
    elif endpoint_file.exists():
        resources = _Resources(**json.loads(endpoint_file.read_text()))
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
        os.environ.setdefault("AWS_REGION", "us-east-1")
    else:
        settings = Settings.from_env()
        resources = _Resources(
            endpoint_url=settings.endpoint_url,
            table=settings.table_name,
            idempotency_table=settings.idempotency_table or "",
            dispatch_queue_url=settings.dispatch_queue_url or "",
            dlq_url=settings.dlq_url or "",
            output_queue_url=settings.output_queue_url or "",
        )
    settings = Settings.from_env().model_copy(
        update={"endpoint_url": resources.endpoint_url, "table_name": resources.table}
    )
    return resources, settings


def _store(args: argparse.Namespace) -> Any:
    from timer_service.aws import dynamodb_client
    from timer_service.store.dynamodb import DynamoTimerStore

    resources, settings = _connect(args.state_dir, args.stack)
    return DynamoTimerStore(dynamodb_client(settings), resources.table)


def _run_shards_list(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from timer_service.clock import format_utc

    store = _store(args)
    registry = store.get_registry()
    counts = store.count_timers_by_shard()
    table = Table("shard", "status", "timers", "done through", "claimed", "rate bases")
    for shard in sorted({*registry.all, *counts}):
        state = store.get_shard_state(shard)
        status = (
            "active"
            if shard in registry.active
            else "draining"
            if shard in registry.draining
            else "retired"
        )
        table.add_row(
            str(shard),
            status,
            str(counts.get(shard, 0)),
            "-" if state.done is None else format_utc(state.done * 60 + 59),
            "-" if state.claimed is None else format_utc(state.claimed * 60),
            ", ".join(
                f"{b} min" + (" (retiring)" if b in state.retiring else "")
                for b in sorted(state.bases)
            )
            or "-",
        )
    Console().print(table)
    return 0


def _run_shards_set(args: argparse.Namespace) -> int:
    store = _store(args)
    draining = _apply_shard_count(store, args.count)
    message = f"{args.count} active shards"
    if draining:
        message += (
            f"; draining {', '.join(map(str, draining))}: run `timer-service shards rebalance`"
        )
    print(message)
    return 0


def _run_shards_rebalance(args: argparse.Namespace) -> int:
    from timer_service.clock import SystemClock
    from timer_service.rebalance import Rebalancer

    store = _store(args)
    report = Rebalancer(store=store, clock=SystemClock()).rebalance()
    print(
        f"moved {report.moved} timers; {report.waiting} could not move yet"
        + (f"; retired shards {', '.join(map(str, report.retired))}" if report.retired else "")
    )
    return 0 if report.waiting == 0 else 1


def _run_api(args: argparse.Namespace) -> int:
    from timer_service.deployment import Deployment, api_region, parse_body, signed_call

    if args.url is None and args.stack is None:
        print("timer-service api: give --stack NAME or --url URL", file=sys.stderr)
        return 2
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    url = args.url
    if url is None:
        deployment = Deployment.load(args.stack, endpoint_url=os.environ.get("AWS_ENDPOINT_URL"))
        url, region = deployment.output("ApiUrl"), deployment.region
    try:
        body = parse_body(args.body)
    except (ValueError, OSError) as exc:
        print(f"timer-service api: the body is not JSON: {exc}", file=sys.stderr)
        return 2
    response = signed_call(
        args.method,
        url,
        args.path,
        body=body,
        region=api_region(url, region),
        api_key=args.api_key,
    )
    print(f"HTTP {response.status_code}", file=sys.stderr)
    try:
        print(json.dumps(response.json(), indent=2))
    except ValueError:
        print(response.text)
    return 0 if response.is_success else 1


def _run_job_types(args: argparse.Namespace) -> int:
    from timer_service.job_types import ENTRY_POINT_GROUP, JobTypeRegistry

    described = JobTypeRegistry.from_entry_points().describe()
    if args.json:
        print(json.dumps(described, indent=2))
        return 0
    from rich.console import Console

    console = Console(highlight=False)
    console.print(f"{len(described)} job types installed (entry points {ENTRY_POINT_GROUP!r}):")
    for job_type in described:
        console.print(
            f"\n[bold]{job_type['name']}[/]: {job_type['summary']}"
            f" [dim](history by default: {job_type['defaultHistory']})[/]"
        )
        console.print_json(json.dumps(job_type["schema"]))
    return 0


def _run_dlq_list(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from timer_service.aws import sqs_client
    from timer_service.dispatch import Firing

    resources, settings = _connect(args.state_dir, args.stack)
    sqs = sqs_client(settings)
    table = Table("firing", "version", "deliveries", "error")
    seen: set[str] = set()
    while len(seen) < args.limit:
        response = sqs.receive_message(
            QueueUrl=resources.dlq_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        fresh = [m for m in response.get("Messages", []) if m["MessageId"] not in seen]
        if not fresh:
            break
        for message in fresh:
            seen.add(message["MessageId"])
            attributes: dict[str, Any] = dict(message.get("MessageAttributes", {}))
            error = attributes.get("error", {}).get("StringValue", "")
            try:
                firing = Firing.from_message(message["Body"])
                firing_id, version = firing.firing_id, str(firing.version)
            except (ValueError, KeyError, TypeError):
                firing_id, version = message["Body"][:60], "-"
            table.add_row(
                firing_id,
                version,
                message.get("Attributes", {}).get("ApproximateReceiveCount", "?"),
                error or "retries exhausted",
            )
    console = Console()
    if console.is_terminal:
        console.print(table)
    else:  # whole ids, one firing a line, for grep and scripts
        for row in zip(*(column.cells for column in table.columns), strict=True):
            print("\t".join(str(cell) for cell in row))
    print(f"{len(seen)} firings in the dead-letter queue")
    return 0


def _redriven(body: str) -> str:
    """A dead letter sent back: a raced firing's race is long over, so it runs unclaimed."""
    from dataclasses import replace

    from timer_service.dispatch import Firing

    try:
        return replace(Firing.from_message(body), raced=False).to_message()
    except (ValueError, KeyError, TypeError):
        return body


def _run_dlq_redrive(args: argparse.Namespace) -> int:
    from timer_service.aws import sqs_client

    resources, settings = _connect(args.state_dir, args.stack)
    sqs = sqs_client(settings)
    moved = 0
    while True:
        response = sqs.receive_message(
            QueueUrl=resources.dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=60
        )
        messages = response.get("Messages", [])
        if not messages:
            break
        sqs.send_message_batch(
            QueueUrl=resources.dispatch_queue_url,
            Entries=[
                {"Id": str(n), "MessageBody": _redriven(m["Body"])} for n, m in enumerate(messages)
            ],
        )
        sqs.delete_message_batch(
            QueueUrl=resources.dlq_url,
            Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)
            ],
        )
        moved += len(messages)
    print(f"redrove {moved} firings to the dispatch queue")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
