"""What ``timer-service timers`` reads from its command line beyond argparse: the PUT body (an
argument, a file or stdin, with the flags over it) and version and count arguments; a mistake in
the body is a :class:`UsageError` (exit 2)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["UsageError", "positive_arg", "put_body", "version_arg"]


class UsageError(Exception):
    """A mistake on the command line that argparse cannot see (a body that is not JSON)."""


def version_arg(text: str) -> int | str:
    if text.strip() == "*":
        return "*"
    try:
        return int(text.strip().strip('"'))
    except ValueError:
        raise argparse.ArgumentTypeError("a version number (as in ETag) or *") from None


def positive_arg(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def put_body(args: argparse.Namespace) -> dict[str, Any]:
    """The PUT body: from the argument, ``--file`` or stdin, then the flags over it."""
    if args.body is not None and args.file is not None:
        raise UsageError("give the body as an argument or --file, not both")
    source = args.file if args.file is not None else args.body
    body: dict[str, Any] = {}
    if source is not None:
        if args.file is not None or source == "-" or source.startswith("@"):
            path = source if args.file is not None else source.removeprefix("@")
            text = _read(path)
        else:
            text = source
        body = _json_object(text, "the body")
    flags: dict[str, Any] = {
        "schedule": args.schedule,
        "timezone": args.timezone,
        "startAt": args.start_at,
        "endAt": args.end_at,
        "jobType": args.job_type,
        "misfirePolicy": args.misfire_policy,
        "delivery": args.delivery,
        "history": args.history,
        "jitterSeconds": args.jitter_seconds,
        "maxFirings": args.max_firings,
        "onComplete": args.on_complete,
    }
    body |= {name: value for name, value in flags.items() if value is not None}
    if args.job is not None:
        body["job"] = _json_object(args.job, "--job")
    if args.data is not None:
        body["timerCallbackData"] = _json_value(args.data, "--data")
    if args.paused:
        body["enabled"] = False
    if getattr(args, "label", None):  # over the body's labels, as each flag is over its field
        labels = body.get("labels", {})
        if not isinstance(labels, dict):
            raise UsageError("the body's labels must be a JSON object to add --label to")
        body["labels"] = labels | dict(args.label)
    return body


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None


def _json_value(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{what} is not JSON: {exc}") from None


def _json_object(text: str, what: str) -> dict[str, Any]:
    value = _json_value(text, what)
    if not isinstance(value, dict):
        raise UsageError(f'{what} must be a JSON object, e.g. {{"schedule": "rate(5 minutes)"}}')
    return value
