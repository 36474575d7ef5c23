"""Runs a scenario of the harness: its options, a progress bar, its report, ``--json`` and
``--plot`` (the part ``python -m loadtest`` and ``python -m loadtest.<scenario>`` share)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from types import ModuleType
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

__all__ = ["run"]


def run(
    scenarios: dict[str, ModuleType], argv: list[str] | None = None, *, description: str = ""
) -> int:
    """Parse ``argv`` (``SCENARIO [options]``), run the scenario, report and write its figures."""
    parser = argparse.ArgumentParser(
        prog="python -m loadtest",
        description=description,
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
