"""``timer-service timers feed (ID | --label K=V) [--revoke]``: a new URL of the Atom feed of a
timer's changes, or of the changes of your timers with a label (shown once: the last URL ends),
or its revocation; and ``timers feeds``, your feeds without their URLs."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from timer_service_cli.output import print_table
from timer_service_cli.timer_body import UsageError
from timer_service_cli.timers_bulk import label_arg

if TYPE_CHECKING:
    from timer_service.client import TimerClient

__all__ = ["add_feeds"]

Command = Callable[..., Any]  # timers.configure's: adds a command that calls `run`


def add_feeds(command: Command) -> None:
    """The ``feed`` and ``feeds`` commands."""
    feed = command(
        "feed",
        "a new URL of a timer's (or a label's) Atom feed of changes, shown once; --revoke ends it",
        _feed,
    )
    feed.add_argument("id", nargs="?", help="the timer whose changes the feed holds")
    feed.add_argument(
        "--label", type=label_arg, metavar="K=V", help="the changes of your timers with this label"
    )
    feed.add_argument("--revoke", action="store_true", help="end the feed: its URL answers 404")
    command("feeds", "your feeds (never their URLs)", _feeds)


def _json_lines(args: argparse.Namespace) -> bool:
    return bool(args.json) or not sys.stdout.isatty()


def _feed(client: TimerClient, args: argparse.Namespace) -> int:
    if (args.id is None) == (args.label is None):
        raise UsageError("name a timer ID or a --label K=V: one")
    label = None if args.label is None else "=".join(args.label)
    if args.revoke:
        if label is None:
            client.revoke_feed(args.id)
        else:
            client.revoke_label_feed(label)
        done = {"id": args.id} if label is None else {"label": label}
        print(_json(done) if _json_lines(args) else f"revoked the feed of {label or args.id}")
        return 0
    made = client.open_feed(args.id) if label is None else client.open_label_feed(label)
    if _json_lines(args):
        print(made.model_dump_json(by_alias=True))
    else:
        print(made.feed_url)
        print("(shown this once: the service keeps only its hash)", file=sys.stderr)
    return 0


def _feeds(client: TimerClient, args: argparse.Namespace) -> int:
    feeds = client.feeds().items
    if _json_lines(args):
        for feed in feeds:
            print(feed.model_dump_json(by_alias=True))
        return 0
    rows = [
        ("label" if f.label else "timer", f.label or f.timer_id or "", f.created_at) for f in feeds
    ]
    print_table(("feed of", "name", "created"), rows)
    return 0


def _json(value: dict[str, str]) -> str:
    import json

    return json.dumps(value, separators=(",", ":"))
