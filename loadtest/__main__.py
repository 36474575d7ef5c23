"""``python -m loadtest <scenario>``: the load and cost harness, one command per question.

    e2e    firings through a running stack's public API: lost, doubled, early, late
    scale  one shard's tick against a modelled AWS with real boto3: firings per minute
    cost   AWS requests and capacity per firing on the real handlers, priced, vs EventBridge
    html   html_monitor's text extraction vs changedetection.io's
    html-browser  html_monitor's browser fetcher: 200 renders of a JavaScript page, speed, memory
    api    the local stack as a user meets it: request latency, stop time, crash loss
    dlq    one tenant's dead letters among many of another's: list and redrive times
    coldstart  each Lambda handler's import time from the bundle, on arm64 (qemu)
    client creates through AsyncTimerClient and TimerClient; its cost a call over httpx
    labels a listing by label and a bulk action over 10,000 timers: reads, calls, seconds

Every scenario prints a summary table, and writes its figures with ``--json PATH`` (stable
keys) and a chart with ``--plot PATH.png`` where it has one.
"""

from __future__ import annotations

import sys
from types import ModuleType

from loadtest import harness


def _scenarios() -> dict[str, ModuleType]:
    from loadtest import (
        api,
        client,
        coldstart,
        cost,
        dead_letters,
        e2e,
        html,
        html_browser,
        labels,
        scale,
    )

    return {
        "e2e": e2e,
        "scale": scale,
        "cost": cost,
        "html": html,
        "html-browser": html_browser,
        "api": api,
        "dlq": dead_letters,
        "coldstart": coldstart,
        "client": client,
        "labels": labels,
    }


def main(argv: list[str] | None = None) -> int:
    return harness.run(_scenarios(), argv, description=__doc__ or "")


if __name__ == "__main__":
    sys.exit(main())
