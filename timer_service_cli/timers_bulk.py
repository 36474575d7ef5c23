"""``timer-service timers`` on many timers at once: ``--label K=V`` (on put, and as a list
filter with ``--job-type`` and ``--state``), and ``timers bulk ACTION (--label K=V ... | --ids
A,B)``, which drives the action to its end, a slice a call, with a progress bar on a terminal
(rich's, when the ``local`` extra installed it; else a line a call)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from timer_service_cli.output import print_table
from timer_service_cli.timer_body import UsageError, positive_arg

if TYPE_CHECKING:
    from timer_service.bulk_requests import BulkResult
    from timer_service.client import TimerClient

__all__ = ["add_bulk", "add_list_filters", "add_put_labels", "label_arg", "list_filters"]

ACTIONS = ("pause", "resume", "trigger", "delete", "relabel")
Command = Callable[..., Any]  # timers.configure's: adds a command that calls `run`


def label_arg(text: str) -> tuple[str, str]:
    """``KEY=VALUE`` as a checked label pair (argparse reports the rule it breaks)."""
    from timer_service.errors import InvalidRequestError
    from timer_service.labels import parse_pair

    try:
        return parse_pair(text, separator="=", field="--label")
    except InvalidRequestError as exc:
        raise argparse.ArgumentTypeError(exc.message.removeprefix("--label: ")) from None


def _label_option(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument(
        "--label", action="append", type=label_arg, metavar="K=V", default=[], help=help
    )


def add_put_labels(put: argparse.ArgumentParser) -> None:
    _label_option(put, "a label of the timer (repeatable), over the body's labels")


def add_list_filters(listing: argparse.ArgumentParser) -> None:
    _label_option(listing, "only timers with this label (repeatable: with every one)")
    listing.add_argument("--job-type", help="only timers of this job type")
    listing.add_argument("--state", choices=("active", "paused", "completed"))


def list_filters(args: argparse.Namespace) -> dict[str, Any]:
    """The list command's filters as ``iter_timers`` takes them."""
    return {"labels": dict(args.label) or None, "job_type": args.job_type, "state": args.state}


def add_bulk(command: Command, *, failed_exit: int) -> None:
    """The ``bulk`` command; it exits ``failed_exit`` when some timers failed."""

    def run(client: TimerClient, args: argparse.Namespace) -> int:
        return 0 if _bulk(client, args) else failed_exit

    bulk = command(
        "bulk",
        "pause, resume, trigger, delete or relabel every timer of a label selector or of ids,"
        " to the end",
        run,
    )
    bulk.add_argument("action", choices=ACTIONS)
    _label_option(bulk, "the timers with this label (repeatable: with every one)")
    bulk.add_argument("--ids", metavar="A,B", help="the timers of these ids, comma-separated")
    bulk.add_argument(
        "--set", action="append", type=label_arg, metavar="K=V", default=[], help="relabel: set"
    )
    bulk.add_argument(
        "--remove", action="append", metavar="K", default=[], help="relabel: remove this key"
    )
    bulk.add_argument("--limit", type=positive_arg, help="timers a call (100; at most 200)")


def _bulk(client: TimerClient, args: argparse.Namespace) -> bool:
    """Run the action to its end and show what it did; whether no timer failed."""
    if bool(args.label) == (args.ids is not None):
        raise UsageError("name the timers with --label K=V (repeatable) or --ids A,B: one")
    ids = None if args.ids is None else [i for i in args.ids.split(",") if i]
    if ids is not None and not ids:
        raise UsageError("--ids names no timer")
    if args.action == "relabel" and not (args.set or args.remove):
        raise UsageError("relabel: give --set K=V or --remove K")
    if args.action != "relabel" and (args.set or args.remove):
        raise UsageError("--set and --remove are for relabel")
    with _progress(len(set(ids)) if ids is not None else None, args.action) as step:
        total = client.bulk(
            args.action,
            selector=dict(args.label) or None,
            ids=ids,
            set_labels=dict(args.set),
            remove_labels=args.remove,
            limit=args.limit,
            on_call=step,
        )
    if bool(args.json) or not sys.stdout.isatty():
        print(total.model_dump_json(by_alias=True))
    else:
        rows = [
            (name, str(getattr(total, name)))
            for name in ("matched", "changed", "skipped", "failed")
        ]
        rows += [(f"  {reason}", str(count)) for reason, count in total.reasons.items()]
        print_table((args.action, "timers"), rows)
        for failure in total.failures:
            print(f"failed {failure.id}: {failure.reason}", file=sys.stderr)
    return total.failed == 0


@contextmanager
def _progress(total: int | None, action: str) -> Iterator[Callable[[BulkResult], None]]:
    """A callback moving a progress bar on stderr by each call's timers (none when piped)."""
    calls = [0, 0]  # calls, timers

    def line(result: BulkResult) -> None:
        calls[0] += 1
        calls[1] += result.matched
        print(f"{action}: {calls[1]} timers, {calls[0]} calls", file=sys.stderr)

    if not sys.stderr.isatty():
        yield lambda result: None
        return
    try:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
    except ImportError:
        yield line
        return
    with Progress(
        "[bold]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
        console=_stderr_console(),
    ) as progress:
        task = progress.add_task(action, total=total)

        def advance(result: BulkResult) -> None:
            progress.advance(task, result.matched)

        yield advance


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)
