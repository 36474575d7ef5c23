"""``python -m loadtest <scenario>``: the load and cost harness, one command per question.

    e2e    firings through a running stack's public API: lost, doubled, early, late
    scale  one shard's tick against a modelled AWS with real boto3: firings per minute
    cost   AWS requests and capacity per firing on the real handlers, priced, vs EventBridge
    html   html_monitor's text extraction vs changedetection.io's
    api    the local stack as a user meets it: request latency, stop time, crash loss
    dlq    one tenant's dead letters among many of another's: list and redrive times
    coldstart  each Lambda handler's import time from the bundle, on arm64 (qemu)

Every scenario prints a summary table, and writes its figures with ``--json PATH`` (stable
keys) and a chart with ``--plot PATH.png`` where it has one.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn


def _scenarios() -> dict[str, ModuleType]:
    from loadtest import api, coldstart, cost, dead_letters, e2e, html, scale

    return {
        "e2e": e2e,
        "scale": scale,
        "cost": cost,
        "html": html,
        "api": api,
        "dlq": dead_letters,
        "coldstart": coldstart,
    }


def main(argv: list[str] | None = None) -> int:
    scenarios = _scenarios()
    parser = argparse.ArgumentParser(
        prog="python -m loadtest",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="scenario", required=True)
    for name, module in scenarios.items():
        sub = commands.add_parser(name, help=(module.__doc__ or "").splitlines()[0])
        sub.add_argument("--json", type=Path, metavar="PATH", help="write the figures here")
        sub.add_argument("--plot", type=Path, metavar="PATH", help="write a chart (PNG) here")
        module.configure(sub)
    args = parser.parse_args(argv)
    module = scenarios[args.scenario]
    console = Console()
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        figures: dict[str, Any] = module.run(args, _Reporter(progress, args.scenario))
    module.report(figures, console)
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
        console.print(f"figures: {args.json}")
    if args.plot is not None:
        if not hasattr(module, "plot"):
            console.print(f"[yellow]{args.scenario} has no chart[/]")
        else:
            module.plot(figures, args.plot)
            console.print(f"chart: {args.plot}")
    return 0


class _Reporter:
    """What a scenario calls to move its progress bar: ``reporter(step, total, what)``."""

    def __init__(self, progress: Progress, scenario: str) -> None:
        self._progress = progress
        self._task = progress.add_task(scenario, total=None)

    def __call__(self, done: int, total: int | None = None, what: str | None = None) -> None:
        self._progress.update(self._task, completed=done, total=total, description=what or None)


if __name__ == "__main__":
    sys.exit(main())
