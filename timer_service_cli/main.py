"""``timer-service``: the command line. It parses arguments and calls the command's module
(:mod:`~timer_service_cli.dev`, :mod:`~timer_service_cli.admin`, :mod:`~timer_service_cli.remote`,
:mod:`~timer_service_cli.timers`), which calls the code that does the work."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from timer_service import __version__
from timer_service.limits import MAX_FIRINGS_PER_MINUTE, MAX_TIMERS_PER_OWNER
from timer_service_cli import admin, remote, timers
from timer_service_cli import dev as local_stack

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

    from timer_service.client.errors import ClientConfigError

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
    if isinstance(exc, ClientConfigError | boto.BotoCoreError | boto.ClientError):
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
        default=MAX_TIMERS_PER_OWNER,
        metavar="N",
        help="the most timers a tenant may have",
    )
    dev.add_argument(
        "--firing-limit",
        type=_positive,
        default=MAX_FIRINGS_PER_MINUTE,
        metavar="N",
        help="the most firings a minute a tenant's timers may have together"
        " (rate(1 second) counts 60)",
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
    dev.set_defaults(run=local_stack.run)

    stack_help = "a deployed stack: its outputs name the resources (AWS credentials as usual)"
    shards = commands.add_parser("shards", help="list, resize or rebalance the shards")
    shards.add_argument(
        "--state-dir", type=Path, default=Path(".timer-service"), help=state_dir_help
    )
    shards.add_argument("--stack", metavar="NAME", help=stack_help)
    shard_commands = shards.add_subparsers(title="shard commands", required=True)
    shard_commands.add_parser("list", help="shards, their state and timers").set_defaults(
        run=admin.shards_list
    )
    resize = shard_commands.add_parser("set", help="make shards 0..N-1 active; others drain")
    resize.add_argument("count", type=_shard_count, help="1-1000")
    resize.set_defaults(run=admin.shards_set)
    shard_commands.add_parser(
        "rebalance", help="move timers off draining shards and even out the active ones"
    ).set_defaults(run=admin.shards_rebalance)

    api = commands.add_parser(
        "api", help="call a deployed stack's API, signed with your AWS credentials (SigV4)"
    )
    api.add_argument("method", help="GET, PUT, POST or DELETE")
    api.add_argument("path", help="e.g. /periodic/my-timer")
    api.add_argument("body", nargs="?", help="JSON, or @file")
    api.add_argument("--stack", metavar="NAME", help="read the API URL from this stack")
    api.add_argument("--url", help="the API URL instead of a stack's ApiUrl output")
    api.add_argument("--api-key", help="send X-Api-Key (stacks deployed with apiAuth=API_KEY)")
    api.set_defaults(run=remote.api)

    timer_commands = commands.add_parser(
        "timers",
        help="create, read, list, pause, trigger and delete your timers (the local stack,"
        " --stack NAME or --url URL)",
        description=timers.DESCRIPTION,
        epilog="exit codes:\n"
        + "\n".join(f"  {code}  {meaning}" for code, meaning in timers.EXIT_CODES.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    timers.configure(timer_commands)

    console = commands.add_parser(
        "console",
        help="the web console for a deployed stack, on 127.0.0.1; its API calls signed (SigV4)",
    )
    console.add_argument("--stack", metavar="NAME", help="read the API URL from this stack")
    console.add_argument("--url", help="the API URL instead of a stack's ApiUrl output")
    console.add_argument("--host", default="127.0.0.1", help="address to serve on (127.0.0.1)")
    console.add_argument("--port", type=int, default=8090, help="port to serve on (8090; 0: any)")
    console.set_defaults(run=remote.console)

    job_types = commands.add_parser(
        "job-types", help="the installed job types and the schema of their job config"
    )
    job_types.add_argument("--json", action="store_true", help="print them as one JSON document")
    job_types.set_defaults(run=admin.job_types)

    dlq = commands.add_parser("dlq", help="inspect or redrive firings that failed")
    dlq.add_argument("--state-dir", type=Path, default=Path(".timer-service"), help=state_dir_help)
    dlq.add_argument("--stack", metavar="NAME", help=stack_help)
    dlq_commands = dlq.add_subparsers(title="dlq commands", required=True)
    owner_help = "only this owner's (an API key id or IAM ARN); every owner's without it"
    dlq_list = dlq_commands.add_parser("list", help="show failed firings without removing them")
    dlq_list.add_argument("--limit", type=_positive, default=50)
    dlq_list.add_argument("--owner", help=owner_help)
    dlq_list.set_defaults(run=admin.dlq_list)
    dlq_redrive = dlq_commands.add_parser("redrive", help="send failed firings back for delivery")
    dlq_redrive.add_argument("--owner", help=owner_help)
    dlq_redrive.add_argument(
        "--firing-id", action="append", dest="firing_ids", help="only this firing (repeatable)"
    )
    dlq_redrive.set_defaults(run=admin.dlq_redrive)
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


if __name__ == "__main__":
    raise SystemExit(main())
