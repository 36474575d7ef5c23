"""Firings through a stack's public API only: expected, received, lost, doubled, early, late.

Creates ``--timers`` webhook timers (the mix in :mod:`loadtest.e2e_mix`: one-shots spread over
``--spread-seconds``, shares of ``rate(1 minute)`` timers, every-minute crons, rates of
seconds, jittered timers and ``maxFirings`` timers), deletes a sample of the one-shots before
they fire and of the rates of seconds while they fire, pauses a sample of the rate timers,
receives the webhooks on a local receiver, and compares what arrived with what the API said
would fire in the window (each timer's ``nextFireTimes`` and ``firingsLeft``). Lateness is
receipt - (``scheduledAt`` + the firing's jitter offset, from the API's ``nextRunTimes``); an
arrival before that is early. After the window, every ``maxFirings`` timer must have run
exactly that many firings, none after, and be gone (``onComplete: delete``, GET 404) or
completed. Default: starts a fresh local stack (``timer-service dev --allow-private-targets``,
``--firing-limit`` what the mix needs); ``--url`` uses a running one that can reach this
machine's receiver. ``--stack NAME`` uses a deployed stack (its outputs, the usual AWS
credentials): calls are SigV4-signed, the timers use the ``sqs`` job type, and their firings
are received by draining the stack's output queue (receipt = when a long poll returned it).
On a stack that stays (``--url``, ``--stack``) the run deletes its timers at the end. Every
call goes through :class:`timer_service.client.TimerClient`, shared by the creating threads
(one connection pool).

The first firing is ``--lead-seconds`` ahead (default: at the start of a minute the ticker
claims only after every timer is created, so firings go through the ticker and the queue; a
lead of a few seconds sends them through the API's own hand-off instead, each a raced message
of its own).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from loadtest import e2e_mix as mix
from loadtest.e2e_mix import Plan
from loadtest.e2e_tally import tally
from loadtest.stack import QueueReceiver, WebhookReceiver, start_stack
from timer_service.client import NotFoundError, PreconditionFailedError, TimerClient

__all__ = ["QueueReceiver", "configure", "plot", "report", "run"]

# Creates a second, at worst, by --concurrency clients on a busy machine: the default lead.
CREATE_S_PER_TIMER = 0.05
STRAGGLER_WAIT_S = 120.0
STRAGGLER_QUIET_S = 5.0


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timers", type=int, default=1000)
    parser.add_argument("--spread-seconds", type=int, default=60, help="one-shots over this")
    parser.add_argument("--concurrency", type=int, default=8, help="clients creating timers")
    parser.add_argument("--rate-share", type=float, default=0.05, help="rate(1 minute) timers")
    parser.add_argument("--cron-share", type=float, default=0.05, help="every-minute crons")
    parser.add_argument(
        "--second-rate-share", type=float, default=0.05, help="rate(1 second) / rate(5 seconds)"
    )
    parser.add_argument("--jitter-share", type=float, default=0.05, help="jittered timers")
    parser.add_argument("--jitter-seconds", type=int, default=20, help="their jitterSeconds")
    parser.add_argument(
        "--max-firings-share", type=float, default=0.05, help="maxFirings timers (onComplete)"
    )
    parser.add_argument("--sample", type=float, default=0.05, help="share deleted / paused")
    parser.add_argument(
        "--deduplicated-share",
        type=float,
        default=0.25,
        help="share of each kind with delivery: deduplicated",
    )
    parser.add_argument("--lead-seconds", type=float, default=None)
    parser.add_argument("--url", help="a running stack's API (default: start a local one)")
    parser.add_argument("--stack", metavar="NAME", help="a deployed stack (SigV4, output queue)")
    parser.add_argument("--api-key", help="X-Api-Key for a stack deployed with API keys")
    parser.add_argument(
        "--firing-limit",
        type=int,
        metavar="N",
        help="the local stack's firings a minute per tenant (default: what the mix needs)",
    )


def run(args: argparse.Namespace, progress: Any = None) -> dict[str, Any]:
    if args.stack is not None:
        return {"scenario": "e2e"} | _run_deployed(args, progress)
    receiver = WebhookReceiver()
    scratch = tempfile.TemporaryDirectory()
    stack = None
    url = args.url
    # The mix's firings a minute, with its times as if it started now (counts do not depend
    # on them): the limit of the stack started here covers them.
    weight = mix.firing_weight(mix.bodies(args, 0, args.spread_seconds))
    limit = None
    if url is None:
        state = Path(scratch.name)
        limit = mix.firing_limit(args.firing_limit, weight)
        stack = start_stack(
            "--allow-private-targets",
            "--quiet",
            "--rate-limit",
            "0",
            "--firing-limit",
            str(limit),
            "--state-dir",
            str(state),
            cwd=state,
        )
        url = stack.url
    try:
        with TimerClient(url, timeout=60) as api:
            figures = _measure(
                args,
                api,
                receiver,
                progress,
                lambda timer_id: _webhook(receiver, timer_id),
                cleanup=stack is None,
            )
        return {"scenario": "e2e"} | figures | {"firing_weight": weight, "firing_limit": limit}
    except Exception:
        if stack is not None:  # what the stack said last: why a call failed
            print("\n".join(stack.output[-30:]), file=sys.stderr)
        raise
    finally:
        if stack is not None:
            stack.stop()
        receiver.close()
        scratch.cleanup()


def _webhook(receiver: WebhookReceiver, timer_id: str) -> dict[str, Any]:
    return {"jobType": "webhook", "job": {"url": f"{receiver.url}/{timer_id}"}}


def _run_deployed(args: argparse.Namespace, progress: Any) -> dict[str, Any]:
    import os

    from timer_service.client import Deployment

    deployment = Deployment.load(args.stack, endpoint_url=os.environ.get("AWS_ENDPOINT_URL"))
    api = TimerClient.for_stack(
        args.stack, api_key=args.api_key, lookup=lambda *_, **__: deployment, timeout=60
    )
    receiver = QueueReceiver(deployment.output("OutputQueueUrl"), deployment.region)
    try:
        return _measure(
            args,
            api,
            receiver,
            progress,
            lambda timer_id: {"jobType": "sqs"},
            cleanup=True,
        )
    finally:
        receiver.close()
        api.close()


def _measure(
    args: argparse.Namespace,
    api: TimerClient,
    receiver: WebhookReceiver | QueueReceiver,
    progress: Any,
    job: Callable[[str], dict[str, Any]],
    *,
    cleanup: bool = False,
) -> dict[str, Any]:
    count = args.timers
    if args.lead_seconds is not None:
        base_s = math.ceil(time.time() + args.lead_seconds)
    else:  # the minute after the one a ticker claims by the time the last create is done
        created_by_s = time.time() + 10 + CREATE_S_PER_TIMER * count
        base_s = (int(created_by_s) // 60 + 2) * 60
    end_s = base_s + args.spread_seconds
    bodies = mix.bodies(args, base_s, end_s)
    for timer_id in bodies:
        bodies[timer_id] |= job(timer_id)
    plans: dict[str, Plan] = {}
    lock = threading.Lock()
    created = [0]

    run_started_s = int(time.time())

    def create(chunk: list[str]) -> None:
        for timer_id in chunk:
            # Only a create: a timer left by an earlier run would fire outside the window.
            try:
                timer = api.put(timer_id, bodies[timer_id], if_none_match=True)
            except PreconditionFailedError:  # a retried create whose first try went through?
                timer = api.get(timer_id)
                if mix.epoch(timer.created_at) < run_started_s:
                    raise
            plan = mix.plan_of(api, timer, base_s, end_s)
            with lock:
                plans[timer_id] = plan
                created[0] += 1
                if progress is not None:
                    progress(created[0], count, "creating timers")

    started = time.perf_counter()
    ids = list(bodies)
    with ThreadPoolExecutor(args.concurrency) as pool:
        list(pool.map(create, [ids[w :: args.concurrency] for w in range(args.concurrency)]))
    create_s = time.perf_counter() - started
    stopped: dict[str, tuple[float, float]] = {}  # deleted or paused: the call's start and end
    step = max(1, int(1 / args.sample)) if args.sample > 0 else 0

    def sample(prefix: str) -> list[str]:
        return [i for i in ids if i.startswith(prefix)][::step] if step else []

    def stop(timer_id: str, call: Callable[[str], Any]) -> None:
        called_s = time.time()
        call(timer_id)
        stopped[timer_id] = (called_s, time.time())

    for timer_id in sample("one-"):
        if time.time() < min(plans[timer_id].fires or [base_s]) - 2:
            stop(timer_id, api.delete)
    for timer_id in sample("rate-"):
        stop(timer_id, api.pause)
    # Rates of seconds are deleted while they fire, halfway through the window.
    deletes_s, to_delete = base_s + args.spread_seconds // 2, sample("sec-")
    jitter_s = args.jitter_seconds if any(p.offsets for p in plans.values()) else 0
    wait_until_s = max(end_s, *(p.until_s for p in plans.values())) + jitter_s + 5
    while time.time() < wait_until_s:
        if to_delete and time.time() >= deletes_s:
            for timer_id in to_delete:
                stop(timer_id, api.delete)
            to_delete = []
        if progress is not None:
            progress(
                int(max(0, time.time() - base_s)), wait_until_s - base_s, "waiting for firings"
            )
        time.sleep(0.2)
    # Firings still on their way (a loaded machine): wait while they keep arriving.
    extra_s = _wait_for_stragglers(lambda: tally(plans, stopped, receiver, base_s, end_s), receiver)
    completion = mix.completion(api, plans)
    if cleanup:  # a stack that stays: nothing of this run keeps firing or blocks the next
        for timer_id in ids:
            with contextlib.suppress(NotFoundError):
                api.delete(timer_id)
    figures = tally(plans, stopped, receiver, base_s, end_s)
    return (
        {"timers": len(plans), "create_seconds": round(create_s, 1)}
        | figures
        | completion
        | {"extra_wait_seconds": round(extra_s, 1)}
    )


def _wait_for_stragglers(
    count: Callable[[], dict[str, Any]], receiver: WebhookReceiver | QueueReceiver
) -> float:
    """After the window: wait while firings are missing and some arrived in the last
    STRAGGLER_QUIET_S, at most STRAGGLER_WAIT_S; the seconds waited. Only what never comes
    is lost (late ones show in the lateness)."""
    started = time.monotonic()
    seen, quiet_since = len(receiver.requests), time.monotonic()
    while count()["lost"] and time.monotonic() - started < STRAGGLER_WAIT_S:
        time.sleep(1)
        if len(receiver.requests) != seen:
            seen, quiet_since = len(receiver.requests), time.monotonic()
        elif time.monotonic() - quiet_since >= STRAGGLER_QUIET_S:
            break
    return time.monotonic() - started


def report(figures: dict[str, Any], console: Any) -> None:
    from rich.table import Table

    table = Table("measured", "figure", "goal")
    table.add_row("timers created", f"{figures['timers']} in {figures['create_seconds']} s", "")
    table.add_row("firings expected", str(figures["firings_expected"]), "")
    table.add_row(
        "  of rates of seconds / jittered",
        f"{figures['second_rate_firings']} / {figures['jittered_firings']}",
        "",
    )
    table.add_row("firings received", str(figures["firings_received"]), "all")
    for key in ("lost", "duplicates", "early", "fired_after_delete", "fired_after_completion"):
        table.add_row(key.replace("_", " "), str(figures[key]), "0")
    deleted, kept = figures["on_complete_delete"], figures["on_complete_keep"]
    for name, done, of in (
        (
            "maxFirings: ran exactly N",
            figures["max_firings_ran_exactly"],
            figures["max_firings_timers"],
        ),
        ("onComplete delete: gone (404)", deleted["gone"], deleted["timers"]),
        ("onComplete keep: completed", kept["completed"], kept["timers"]),
    ):
        table.add_row(name, f"{done} / {of}", "all")
    for name, value in figures["lateness_ms"].items():
        table.add_row(f"lateness {name}", f"{value} ms", "<= 1000 ms" if name == "p99" else "")
    for kind, values in figures["lateness_ms_by_kind"].items():
        table.add_row(
            f"  p99 (max), {mix.KIND_NAMES[kind]}",
            f"{values['p99']} ms ({values['max']} ms), {values['firings']} firings",
            "<= 1000 ms",
        )
    console.print(table)
    console.print("lateness = receipt - (scheduledAt + the firing's jitter offset)")
    if figures.get("lost_sample"):
        console.print(f"lost (the first {len(figures['lost_sample'])}): {figures['lost_sample']}")


def plot(figures: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 3.5))
    axis.hist([s * 1000 for s in figures["lateness_s"]], bins=50)
    axis.set_xlabel("lateness (ms): webhook receipt - (scheduledAt + jitter offset)")
    axis.set_ylabel("firings")
    axis.set_title(f"{figures['firings_received']} firings over {figures['spread_seconds']} s")
    figure.tight_layout()
    figure.savefig(path)
