"""``timer-service timers``: your timers from a terminal or a script, through the client
(:mod:`timer_service.client`).

It calls the running local stack (its ``endpoint.json`` in ``--state-dir``) unless given
``--url URL`` or ``--stack NAME`` (a deployed stack's ``ApiUrl``, signed with SigV4 unless
``--api-key``). On a terminal it prints tables; with ``--json``, or when its output is piped,
one JSON object a line (the API's own JSON). Its exit codes (:data:`EXIT_CODES`) tell a script
what happened without reading the output.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from timer_service_cli.output import print_table
from timer_service_cli.timer_body import UsageError, positive_arg, put_body, version_arg
from timer_service_cli.timer_target import API_KEY_ENV, timers_client
from timer_service_cli.timers_bulk import add_bulk, add_list_filters, add_put_labels, list_filters
from timer_service_cli.timers_feeds import add_feeds

if TYPE_CHECKING:
    from pydantic import BaseModel

    from timer_service.client import TimerClient
    from timer_service.views import TimerView

__all__ = ["DESCRIPTION", "EXIT_CODES", "configure"]

DESCRIPTION = """Your timers through the API: the running local stack (its endpoint.json in
--state-dir) by default, or --url URL, or --stack NAME (its ApiUrl output, signed with your AWS
credentials unless --api-key). Tables on a terminal; one JSON object a line with --json or when
the output is piped. The options below go before or after the command."""

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_CONFLICT = 4
EXIT_UNAVAILABLE = 5
EXIT_BROKEN_PIPE = 141  # as a shell reports a command SIGPIPE ended (128 + 13)
#: What each exit code means (README "Command line", docs/client.md).
EXIT_CODES = {
    EXIT_OK: "done",
    EXIT_ERROR: "the API refused the request (a 4xx not below: 400, 401, 403, 413), or no stack"
    " to call (no local stack running, a stack that is not there, no AWS credentials, a URL"
    " that answers but not as the API), or a bulk action left some timers failed",
    EXIT_USAGE: "a mistake on the command line: unknown option, a body that is not a JSON object",
    EXIT_NOT_FOUND: "no such timer (404 not_found)",
    EXIT_CONFLICT: "the timer is not as the condition said (412: --if-match, --if-none-match; 409)",
    EXIT_UNAVAILABLE: "the service failed or did not answer, after the client's retries (5xx,"
    " 429, a connection refused or timed out)",
}
TIMELINE = 3  # next firings a table shows


# --- arguments ----------------------------------------------------------------------------


def configure(timers: argparse.ArgumentParser) -> None:
    """The ``timers`` command's options and subcommands."""
    _target_options(timers, argparse_default=True)
    commands = timers.add_subparsers(title="timer commands", dest="timers_command", required=True)

    def command(name: str, help: str, run: Callable[[TimerClient, argparse.Namespace], int]) -> Any:
        parser = commands.add_parser(name, help=help, description=help)
        _target_options(parser, argparse_default=False)
        parser.set_defaults(run=_runner(run))
        return parser

    put = command("put", "create or replace a timer (201 created, 200 replaced)", _put)
    put.add_argument("id", help="the timer's id")
    put.add_argument("body", nargs="?", help="the timer as JSON, @file, or - (stdin)")
    put.add_argument("--file", metavar="PATH", help="read the JSON body from PATH (- : stdin)")
    put.add_argument("--schedule", help="rate(5 minutes), cron(0 9 ? * MON-FRI *), at(...)")
    put.add_argument("--timezone", help="IANA time zone, e.g. Europe/Paris")
    put.add_argument("--start-at", help="no firing before (ISO 8601)")
    put.add_argument("--end-at", help="no firing after (ISO 8601)")
    put.add_argument("--job-type", help="sqs (default), webhook, html_monitor, ...")
    put.add_argument("--job", metavar="JSON", help='the job type\'s config, e.g. {"url": "..."}')
    put.add_argument("--data", metavar="JSON", help="timerCallbackData: any JSON")
    put.add_argument("--paused", action="store_true", help="store it paused (enabled: false)")
    put.add_argument("--misfire-policy", choices=("fireOnce", "fireAll", "skip"))
    put.add_argument("--delivery", choices=("atLeastOnce", "deduplicated"))
    put.add_argument("--history", choices=("all", "changes-and-errors", "errors", "none"))
    put.add_argument(
        "--jitter-seconds", type=int, metavar="N", help="run each firing up to N s late (0-900)"
    )
    put.add_argument(
        "--max-firings", type=positive_arg, metavar="N", help="complete after N firings"
    )
    put.add_argument(
        "--on-complete", choices=("keep", "delete"), help="delete: remove it once completed"
    )
    add_put_labels(put)
    _if_match(put)
    put.add_argument(
        "--if-none-match", action="store_true", help="only create: exit 4 if the timer exists"
    )

    get = command("get", "show a timer", _get)
    get.add_argument("id")

    listing = command("list", "list your timers, by id (every page)", _list)
    listing.add_argument("--limit", type=positive_arg, help="at most this many")
    add_list_filters(listing)

    delete = command("delete", "delete a timer", _delete)
    delete.add_argument("id")
    _if_match(delete)

    for name, enabled in (("pause", False), ("resume", True)):
        verb = "stop a timer firing until resumed" if not enabled else "let a timer fire again"
        parser = command(name, verb, _set_enabled(enabled))
        parser.add_argument("id")
        _if_match(parser)

    trigger = command("trigger", "fire a timer now, outside its schedule", _trigger)
    trigger.add_argument("id")

    runs = command("runs", "a timer's runs, newest first", _runs)
    runs.add_argument("id")
    runs.add_argument("--limit", type=positive_arg, default=20, help="at most this many (20)")

    add_bulk(command, failed_exit=EXIT_ERROR)
    add_feeds(command)

    preview = command("preview", "the next firings of a schedule", _preview)
    preview.add_argument("schedule", help="e.g. 'cron(30 2 * * ? *)'")
    preview.add_argument("--timezone", help="IANA time zone (UTC)")
    preview.add_argument("--count", type=positive_arg, help="how many firings (5; at most 20)")
    preview.add_argument("--start-at", help="no firing before (ISO 8601)")
    preview.add_argument("--end-at", help="no firing after (ISO 8601)")


def _target_options(parser: argparse.ArgumentParser, *, argparse_default: bool) -> None:
    """Where to call and how to print, on ``timers`` and on each of its commands (either
    place works: a command's unset option does not undo the one given before it)."""

    def default(value: Any) -> Any:
        return value if argparse_default else argparse.SUPPRESS

    parser.add_argument(
        "--state-dir",
        type=Path,
        default=default(Path(".timer-service")),
        help="the local stack's state directory (its endpoint.json has the API's URL)",
    )
    parser.add_argument("--stack", metavar="NAME", default=default(None), help="a deployed stack")
    parser.add_argument("--url", default=default(None), help="the API URL")
    parser.add_argument(
        "--api-key",
        default=default(None),
        help=f"send X-Api-Key (instead of SigV4); else ${API_KEY_ENV}, if set",
    )
    parser.add_argument(
        "--timeout", type=float, default=default(30.0), metavar="S", help="seconds a try (30)"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        default=default(False),
        help="one JSON object a line (also when the output is not a terminal)",
    )


def _if_match(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--if-match",
        metavar="VERSION",
        type=version_arg,
        help="only if the timer is at this version (* : only if it exists); exit 4 otherwise",
    )


# --- running ------------------------------------------------------------------------------


def _runner(
    run: Callable[[TimerClient, argparse.Namespace], int],
) -> Callable[[argparse.Namespace], int]:
    def call(args: argparse.Namespace) -> int:
        from timer_service.client import (
            ApiConnectionError,
            ClientConfigError,
            ConflictError,
            NotFoundError,
            PreconditionFailedError,
            RateLimitError,
            ServerError,
            TimerServiceApiError,
            UnexpectedResponseError,
        )

        name = f"timer-service timers {args.timers_command}"
        try:
            with timers_client(args) as client:
                code = run(client, args)
                sys.stdout.flush()  # here, so a closed pipe is caught below, not at exit
                return code
        except BrokenPipeError:
            # The reader left (`| head`): say nothing, and keep Python's final flush quiet.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_BROKEN_PIPE
        except UsageError as exc:
            print(f"{name}: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except (
            TimerServiceApiError,
            ApiConnectionError,
            ClientConfigError,
            UnexpectedResponseError,
        ) as exc:
            print(f"{name}: {exc}", file=sys.stderr)
            if isinstance(exc, NotFoundError) and exc.code == "not_found":
                return EXIT_NOT_FOUND  # not "no_route": a URL that is not the API's
            if isinstance(exc, PreconditionFailedError | ConflictError):
                return EXIT_CONFLICT
            if isinstance(exc, ServerError | RateLimitError | ApiConnectionError):
                return EXIT_UNAVAILABLE
            return EXIT_ERROR

    return call


def _json_lines(args: argparse.Namespace) -> bool:
    return bool(args.json) or not sys.stdout.isatty()


def _print_json(value: BaseModel | dict[str, Any]) -> None:
    if isinstance(value, dict):
        print(json.dumps(value, separators=(",", ":")))
    else:
        print(value.model_dump_json(by_alias=True, exclude_unset=True))  # the fields the API sent


# --- the commands -------------------------------------------------------------------------


def _put(client: TimerClient, args: argparse.Namespace) -> int:
    body = put_body(args)
    timer = client.put(args.id, body, if_match=args.if_match, if_none_match=args.if_none_match)
    if _json_lines(args):
        _print_json(timer)
    else:
        done = "created" if timer.version == 1 else "replaced"
        print(f"{done} {timer.id} (version {timer.version})")
        _timer_table(timer)
    return EXIT_OK


def _get(client: TimerClient, args: argparse.Namespace) -> int:
    timer = client.get(args.id)
    if _json_lines(args):
        _print_json(timer)
    else:
        _timer_table(timer)
    return EXIT_OK


def _list(client: TimerClient, args: argparse.Namespace) -> int:
    page_size = min(100, args.limit or 100)
    found = client.iter_timers(page_size=page_size, **list_filters(args))
    timers: Iterator[TimerView] = islice(found, args.limit)
    if _json_lines(args):
        for timer in timers:  # as they come: a script reads the first before the last page
            _print_json(timer)
        return EXIT_OK
    rows = [
        (
            t.id,
            t.schedule,
            t.job_type,
            "active" if t.enabled else "paused",
            t.next_fire_times[0] if t.next_fire_times else "-",
            str(t.version),
        )
        for t in timers
    ]
    print_table(("id", "schedule", "job type", "state", "next firing", "version"), rows)
    print(f"{len(rows)} timers")
    return EXIT_OK


def _delete(client: TimerClient, args: argparse.Namespace) -> int:
    client.delete(args.id, if_match=args.if_match)
    if _json_lines(args):
        _print_json({"id": args.id})
    else:
        print(f"deleted {args.id}")
    return EXIT_OK


def _set_enabled(enabled: bool) -> Callable[[TimerClient, argparse.Namespace], int]:
    def run(client: TimerClient, args: argparse.Namespace) -> int:
        change = client.resume if enabled else client.pause
        timer = change(args.id, if_match=args.if_match)
        if _json_lines(args):
            _print_json(timer)
        else:
            state = "resumed" if enabled else "paused"
            print(f"{state} {timer.id} (version {timer.version})")
        return EXIT_OK

    return run


def _trigger(client: TimerClient, args: argparse.Namespace) -> int:
    fired = client.trigger(args.id)
    if _json_lines(args):
        _print_json(fired)
    else:
        print_table(
            ("timer", "firing", "scheduled at"), [(fired.id, fired.firing_id, fired.scheduled_at)]
        )
    return EXIT_OK


def _runs(client: TimerClient, args: argparse.Namespace) -> int:
    runs = list(islice(client.iter_runs(args.id, page_size=min(100, args.limit)), args.limit))
    if _json_lines(args):
        for run in runs:
            _print_json(run)
        return EXIT_OK
    rows = [
        (
            run.scheduled_at,
            run.outcome,
            str(run.attempt),
            "-" if run.lateness_ms is None else f"{run.lateness_ms:.0f} ms",
            ("manual; " if run.manual else "") + run.summary,
        )
        for run in runs
    ]
    print_table(("scheduled", "outcome", "attempt", "lateness", "summary"), rows)
    print(f"{len(rows)} runs")
    return EXIT_OK


def _preview(client: TimerClient, args: argparse.Namespace) -> int:
    preview = client.preview(
        args.schedule,
        timezone=args.timezone,
        count=args.count,
        start_at=args.start_at,
        end_at=args.end_at,
    )
    if _json_lines(args):
        _print_json(preview)
        return EXIT_OK
    rows = list(zip(preview.next_fire_times, preview.next_fire_times_local, strict=True))
    print_table(("UTC", f"local ({preview.timezone})"), rows)
    return EXIT_OK


def _timer_table(timer: TimerView) -> None:
    def compact(value: Any) -> str:
        text = json.dumps(value, separators=(",", ":"))
        return text if len(text) <= 80 else text[:77] + "..."

    rows: Sequence[tuple[str, str]] = [
        ("id", timer.id),
        ("schedule", timer.schedule),
        ("timezone", timer.timezone),
        ("window", f"{timer.start_at or '-'} .. {timer.end_at or '-'}"),
        ("job type", timer.job_type),
        ("job", compact(timer.job)),
        ("callback data", compact(timer.timer_callback_data)),
        ("state", "active" if timer.enabled else "paused"),
        ("misfire policy", timer.misfire_policy),
        ("delivery", timer.delivery),
        ("history", timer.history),
        ("labels", ", ".join(f"{k}={v}" for k, v in timer.labels.items()) or "-"),
        ("version", str(timer.version)),
        ("shard", str(timer.shard_id)),
        ("next firings", ", ".join(timer.next_fire_times[:TIMELINE]) or "none"),
        ("updated", timer.updated_at),
    ]
    print_table(("field", "value"), rows)
