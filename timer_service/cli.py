"""``timer-service``: the command line. It parses arguments and calls the code that does
the work; ``dev`` starts :class:`timer_service.local.stack.LocalStack`."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from timer_service import __version__

if TYPE_CHECKING:
    from timer_service.local.stack import Resources

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        return int(args.run(args))
    except Exception as exc:
        message = _operational_error(exc, args)
        if message is None:
            raise
        print(f"timer-service {args.command}: {message}", file=sys.stderr)
        return 1


def _operational_error(exc: Exception, args: argparse.Namespace) -> str | None:
    """What to tell the user when a command fails for a reason outside this program (no
    stack, no credentials, AWS refused); None for anything else, which keeps its traceback."""
    import botocore.exceptions as boto
    import httpx

    from timer_service.deployment import DeploymentError

    if isinstance(exc, boto.NoCredentialsError):
        state_dir = getattr(args, "state_dir", None)
        if state_dir is not None and getattr(args, "stack", None) is None:
            return (
                f"no local stack in {state_dir} (it has no endpoint.json: is `make dev`"
                " running with that --state-dir?) and no AWS credentials for --stack NAME"
            )
        return "no AWS credentials: configure them as for the AWS CLI"
    if isinstance(exc, boto.EndpointConnectionError):
        return f"{exc}: is the stack running?"
    if isinstance(exc, DeploymentError | boto.BotoCoreError | boto.ClientError):
        return str(exc)
    if isinstance(exc, httpx.TransportError):
        return f"cannot reach the API: {exc or type(exc).__name__}"
    return None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="timer-service", description="Open timer service for AWS: local stack and tools."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(title="commands", dest="command")
    state_dir_help = "the local stack's state directory (its endpoint.json names the resources)"

    dev = commands.add_parser("dev", help="run the whole service on this machine")
    dev.add_argument("--host", default="127.0.0.1", help="address to serve the API on")
    dev.add_argument("--port", type=int, default=8080, help="API port (0: any free port)")
    dev.add_argument(
        "--shards", type=_shard_count, default=4, help="number of active shards (1-1000)"
    )
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
        help="where the stack keeps its state (journaled: it survives a crash)",
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
    dev.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="let pages from this origin call the API (e.g. http://localhost:3000; repeat it)",
    )
    dev.add_argument(
        "--api-instances",
        type=int,
        default=2,
        metavar="N",
        help="warm API Lambda instances, each a process of its own (0: in the stack's process)",
    )
    dev.add_argument("--quiet", action="store_true", help="do not print each request and firing")
    dev.add_argument(
        "--record-aws-calls",
        type=Path,
        metavar="FILE",
        help="append each AWS call the Lambda handlers make to FILE, one JSON line each: what"
        " their roles (or a job type's callback_policy_statements) must allow",
    )
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
    resize.add_argument("count", type=_shard_count, help="1-1000")
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

    console = commands.add_parser(
        "console",
        help="the web console for a deployed stack, on 127.0.0.1; its API calls signed (SigV4)",
    )
    console.add_argument("--stack", metavar="NAME", help="read the API URL from this stack")
    console.add_argument("--url", help="the API URL instead of a stack's ApiUrl output")
    console.add_argument("--host", default="127.0.0.1", help="address to serve on (127.0.0.1)")
    console.add_argument("--port", type=int, default=8090, help="port to serve on (8090; 0: any)")
    console.set_defaults(run=_run_console)

    job_types = commands.add_parser(
        "job-types", help="the installed job types and the schema of their job config"
    )
    job_types.add_argument("--json", action="store_true", help="print them as one JSON document")
    job_types.set_defaults(run=_run_job_types)

    dlq = commands.add_parser("dlq", help="inspect or redrive firings that failed")
    dlq.add_argument("--state-dir", type=Path, default=Path(".timer-service"), help=state_dir_help)
    dlq.add_argument("--stack", metavar="NAME", help=stack_help)
    dlq_commands = dlq.add_subparsers(title="dlq commands", required=True)
    owner_help = "only this owner's (an API key id or IAM ARN); every owner's without it"
    dlq_list = dlq_commands.add_parser("list", help="show failed firings without removing them")
    dlq_list.add_argument("--limit", type=_positive, default=50)
    dlq_list.add_argument("--owner", help=owner_help)
    dlq_list.set_defaults(run=_run_dlq_list)
    dlq_redrive = dlq_commands.add_parser("redrive", help="send failed firings back for delivery")
    dlq_redrive.add_argument("--owner", help=owner_help)
    dlq_redrive.add_argument(
        "--firing-id", action="append", dest="firing_ids", help="only this firing (repeatable)"
    )
    dlq_redrive.set_defaults(run=_run_dlq_redrive)
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _shard_count(text: str) -> int:
    from timer_service.models import MAX_SHARDS

    value = _positive(text)
    if value > MAX_SHARDS:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_SHARDS}")
    return value


def _ranges(numbers: Sequence[int]) -> str:
    """``2, 3`` as it is, ``4, 5, 6, 9`` as ``4-6, 9``: a run of three or more as a range."""
    runs: list[list[int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return ", ".join(
        f"{a}-{b}" if b - a >= 2 else ", ".join(map(str, range(a, b + 1))) for a, b in runs
    )


# --- dev ----------------------------------------------------------------------------------


def _run_dev(args: argparse.Namespace) -> int:
    from rich.console import Console

    from timer_service.local.aws_calls import CALL_LOG_ENV
    from timer_service.local.emulator import StateInUseError
    from timer_service.local.stack import LocalStack, StackConfig

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


# --- shards and dlq -----------------------------------------------------------------------


def _connect(state_dir: Path, stack: str | None = None) -> tuple[Resources, Any]:
    """The resources of a deployed stack (``--stack``), of the running local stack (its
    endpoint file), else of the environment."""
    from timer_service.local.stack import ENDPOINT_FILE, SIGNING_KEY_FILE, Resources
    from timer_service.settings import Settings

    endpoint_file = state_dir / ENDPOINT_FILE
    update: dict[str, Any] = {}
    if stack is not None:
        from timer_service.deployment import Deployment

        deployment = Deployment.load(stack, endpoint_url=os.environ.get("AWS_ENDPOINT_URL"))
        os.environ.setdefault("AWS_REGION", deployment.region)
        resources = Resources(
            endpoint_url=os.environ.get("AWS_ENDPOINT_URL"),
            table=deployment.output("TableName"),
            idempotency_table="",
            dispatch_queue_url=deployment.output("QueueUrl"),
            dlq_url=deployment.output("DlqUrl"),
            output_queue_url=deployment.output("OutputQueueUrl"),
        )
        if (key_arn := deployment.outputs.get("MessageSigningKeyArn")) is not None:
            update["message_signing_key_arn"] = key_arn
    elif endpoint_file.exists():
        resources = Resources(**json.loads(endpoint_file.read_text()))
        if (key_file := state_dir / SIGNING_KEY_FILE).exists():
            update["message_signing_key"] = key_file.read_text().strip()
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
        os.environ.setdefault("AWS_REGION", "us-east-1")
    else:
        settings = Settings.from_env()
        resources = Resources(
            endpoint_url=settings.endpoint_url,
            table=settings.table_name,
            idempotency_table=settings.idempotency_table or "",
            dispatch_queue_url=settings.dispatch_queue_url or "",
            dlq_url=settings.dlq_url or "",
            output_queue_url=settings.output_queue_url or "",
        )
    update |= {"endpoint_url": resources.endpoint_url, "table_name": resources.table}
    return resources, Settings.from_env().model_copy(update=update)


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
    from timer_service.local.stack import apply_shard_count

    store = _store(args)
    draining = apply_shard_count(store, args.count)
    message = f"{args.count} active shards"
    if draining:
        message += f"; draining {_ranges(draining)}: run `timer-service shards rebalance`"
    print(message)
    return 0


def _run_shards_rebalance(args: argparse.Namespace) -> int:
    from timer_service.clock import SystemClock
    from timer_service.rebalance import Rebalancer

    store = _store(args)
    report = Rebalancer(store=store, clock=SystemClock()).rebalance()
    print(
        f"moved {report.moved} timers; {report.waiting} could not move yet"
        + (f"; retired shards {_ranges(report.retired)}" if report.retired else "")
    )
    return 0 if report.waiting == 0 else 1


def _api_target(args: argparse.Namespace) -> tuple[str, str] | None:
    """The deployed API's URL (``--url``, else the ``--stack``'s ApiUrl) and its region."""
    from timer_service.deployment import Deployment, api_region

    if args.url is None and args.stack is None:
        print(f"timer-service {args.command}: give --stack NAME or --url URL", file=sys.stderr)
        return None
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    url: str = args.url
    if url is None:
        deployment = Deployment.load(args.stack, endpoint_url=os.environ.get("AWS_ENDPOINT_URL"))
        url, region = deployment.output("ApiUrl"), deployment.region
    return url, api_region(url, region)


def _run_api(args: argparse.Namespace) -> int:
    from timer_service.deployment import parse_body, signed_call

    target = _api_target(args)
    if target is None:
        return 2
    url, region = target
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
        region=region,
        api_key=args.api_key,
    )
    print(f"HTTP {response.status_code}", file=sys.stderr)
    try:
        print(json.dumps(response.json(), indent=2))
    except ValueError:
        print(response.text)
    return 0 if response.is_success else 1


def _run_console(args: argparse.Namespace) -> int:
    from timer_service.console.proxy import ConsoleProxy

    target = _api_target(args)
    if target is None:
        return 2
    url, region = target
    proxy = ConsoleProxy(url, region=region, host=args.host, port=args.port)
    print(f"Console  {proxy.url}/console/", flush=True)
    print(f"API      {url} (calls signed with your AWS credentials)", flush=True)
    print("Ctrl-C stops.", flush=True)
    try:
        proxy.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        proxy.stop()
    return 0


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


def _dead_letters(args: argparse.Namespace, *, redrive: bool = True) -> Any:
    """The one redrive path (timer_service.dead_letters), on the stack's table and queue."""
    from timer_service import wiring
    from timer_service.clock import SystemClock

    resources, settings = _connect(args.state_dir, args.stack)
    settings = wiring.resolved(
        settings.model_copy(update={"dispatch_queue_url": resources.dispatch_queue_url})
    )
    return wiring.dead_letters(settings, SystemClock(), redrive=redrive)


def _run_dlq_list(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    dead_letters = _dead_letters(args, redrive=False)
    items: list[Any] = []
    token = None
    while len(items) < args.limit:
        page = dead_letters.look(args.owner, limit=args.limit - len(items), token=token)
        items += page.items
        token = page.next_token
        if token is None:
            break
    table = Table("firing", "version", "deliveries", "error")
    for item in items:
        table.add_row(item.firing_id, str(item.version), str(item.receive_count), item.error)
    console = Console()
    if console.is_terminal:
        console.print(table)
    else:  # whole ids, one firing a line, for grep and scripts
        for row in zip(*(column.cells for column in table.columns), strict=True):
            print("\t".join(str(cell) for cell in row))
    more = " (more: raise --limit)" if token is not None else ""
    print(f"{len(items)} firings in the dead-letter queue{more}")
    return 0


def _run_dlq_redrive(args: argparse.Namespace) -> int:
    dead_letters = _dead_letters(args)
    ids = None if args.firing_ids is None else set(args.firing_ids)
    moved = 0
    while True:
        result = dead_letters.redrive(args.owner, firing_ids=ids)
        moved += result.redriven
        if not result.more or result.redriven == 0:
            break
    print(f"redrove {moved} firings to the dispatch queue")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
