"""Firings through a stack's public API only: expected, received, lost, doubled, early, late.

Creates ``--timers`` webhook timers (one-shots spread over ``--spread-seconds``, and a share of
``rate(1 minute)`` and every-minute crons), deletes a sample of the one-shots and pauses a
sample of the rate timers before they fire, receives the webhooks on a local receiver, and
compares what arrived with what the API said would fire (each timer's ``nextFireTimes``) in
the window. Lateness is receipt - ``scheduledAt``. Default: starts a fresh local stack
(``timer-service dev --allow-private-targets``); ``--url`` uses a running one that can reach
this machine's receiver. ``--stack NAME`` uses a deployed stack (its outputs, the usual AWS
credentials): calls are SigV4-signed, the timers use the ``sqs`` job type, and their firings
are received by draining the stack's output queue (receipt = when a long poll returned it).
Every call goes through :class:`timer_service.client.TimerClient`, shared by the creating
threads (one connection pool).

The first firing is ``--lead-seconds`` ahead (default: long enough that every timer exists
before the ticker claims its minute, so firings go through the ticker and the queue; a lead of
a few seconds sends them through the API's own hand-off instead).
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loadtest.stack import Received, WebhookReceiver, start_stack
from timer_service.client import TimerClient

__all__ = ["QueueReceiver", "configure", "plot", "report", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timers", type=int, default=1000)
    parser.add_argument("--spread-seconds", type=int, default=60, help="one-shots over this")
    parser.add_argument("--concurrency", type=int, default=8, help="clients creating timers")
    parser.add_argument("--rate-share", type=float, default=0.05, help="rate(1 minute) timers")
    parser.add_argument("--cron-share", type=float, default=0.05, help="every-minute crons")
    parser.add_argument("--sample", type=float, default=0.05, help="share deleted / paused")
    parser.add_argument("--lead-seconds", type=float, default=None)
    parser.add_argument("--url", help="a running stack's API (default: start a local one)")
    parser.add_argument("--stack", metavar="NAME", help="a deployed stack (SigV4, output queue)")
    parser.add_argument("--api-key", help="X-Api-Key for a stack deployed with API keys")


def _at(epoch_s: int) -> str:
    return datetime.fromtimestamp(epoch_s, tz=UTC).strftime("at(%Y-%m-%dT%H:%M:%S)")


def _epoch(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def run(args: argparse.Namespace, progress: Any = None) -> dict[str, Any]:
    if args.stack is not None:
        return _run_deployed(args, progress)
    receiver = WebhookReceiver()
    scratch = tempfile.TemporaryDirectory()
    stack = None
    url = args.url
    if url is None:
        state = Path(scratch.name)
        stack = start_stack(
            "--allow-private-targets",
            "--quiet",
            "--rate-limit",
            "0",
            "--state-dir",
            str(state),
            cwd=state,
        )
        url = stack.url
    try:
        with TimerClient(url, timeout=60) as api:
            return _measure(
                args, api, receiver, progress, lambda timer_id: _webhook(receiver, timer_id)
            )
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
        return _measure(args, api, receiver, progress, lambda timer_id: {"jobType": "sqs"})
    finally:
        receiver.close()
        api.close()


class QueueReceiver:
    """Drains a deployed stack's output queue (what the ``sqs`` job type sends) in a thread;
    each message is recorded as the webhook receiver records a request."""

    def __init__(self, queue_url: str, region: str) -> None:
        import os

        from timer_service.aws import client

        self._sqs = client("sqs", region, os.environ.get("AWS_ENDPOINT_URL"))
        self._url = queue_url
        self.requests: list[Received] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drain, daemon=True, name="output-queue")
        self._thread.start()

    def _drain(self) -> None:
        while not self._stop.is_set():
            messages = self._sqs.receive_message(
                QueueUrl=self._url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=1,
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            at_s = time.time()
            for message in messages:
                attributes = message.get("MessageAttributes", {})
                body = {
                    name: attributes[name]["StringValue"]
                    for name in ("timerId", "scheduledAt")
                    if name in attributes
                }
                self.requests.append(Received("/", {}, json.dumps(body).encode(), at_s))
            if messages:
                self._sqs.delete_message_batch(
                    QueueUrl=self._url,
                    Entries=[
                        {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                        for n, m in enumerate(messages)
                    ],
                )

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def _measure(
    args: argparse.Namespace,
    api: TimerClient,
    receiver: WebhookReceiver | QueueReceiver,
    progress: Any,
    job: Callable[[str], dict[str, Any]],
) -> dict[str, Any]:
    count = args.timers
    lead_s = args.lead_seconds if args.lead_seconds is not None else 75 + 0.02 * count
    base_s = math.ceil(time.time() + lead_s)
    end_s = base_s + args.spread_seconds
    rates = int(count * args.rate_share)
    crons = int(count * args.cron_share)
    bodies: dict[str, dict[str, Any]] = {}
    for n in range(count - rates - crons):
        bodies[f"one-{n:05d}"] = {"schedule": _at(base_s + n * args.spread_seconds // count)}
    for n in range(rates):
        bodies[f"rate-{n:05d}"] = {"schedule": "rate(1 minute)"}
    for n in range(crons):
        bodies[f"cron-{n:05d}"] = {"schedule": "cron(* * * * ? *)"}
    for timer_id in bodies:
        bodies[timer_id] |= job(timer_id)
    expected: dict[str, list[int]] = {}
    lock = threading.Lock()
    created = [0]

    def create(chunk: list[str]) -> None:
        for timer_id in chunk:
            # Only a create: a timer left by an earlier run would fire outside the window.
            timer = api.put(timer_id, bodies[timer_id], if_none_match=True)
            fires = [_epoch(t) for t in timer.next_fire_times]
            with lock:
                expected[timer_id] = [s for s in fires if base_s <= s < end_s]
                created[0] += 1
                if progress is not None:
                    progress(created[0], count, "creating timers")

    started = time.perf_counter()
    ids = list(bodies)
    with ThreadPoolExecutor(args.concurrency) as pool:
        list(pool.map(create, [ids[w :: args.concurrency] for w in range(args.concurrency)]))
    create_s = time.perf_counter() - started
    stopped: dict[str, float] = {}  # deleted or paused: when the answer came
    step = max(1, int(1 / args.sample)) if args.sample > 0 else 0

    def sample(prefix: str) -> list[str]:
        return [i for i in ids if i.startswith(prefix)][::step] if step else []

    for timer_id in sample("one-"):
        if time.time() < _first(expected, timer_id, base_s) - 2:
            api.delete(timer_id)
            stopped[timer_id] = time.time()
    for timer_id in sample("rate-"):
        api.pause(timer_id)
        stopped[timer_id] = time.time()
    while time.time() < end_s + 5:
        if progress is not None:
            progress(int(max(0, time.time() - base_s)), end_s + 5 - base_s, "waiting for firings")
        time.sleep(0.5)
    return _figures(args, expected, stopped, receiver, base_s, end_s, create_s)


def _first(expected: dict[str, list[int]], timer_id: str, default: int) -> int:
    return min(expected.get(timer_id) or [default])


def _figures(
    args: argparse.Namespace,
    expected: dict[str, list[int]],
    stopped: dict[str, float],
    receiver: WebhookReceiver | QueueReceiver,
    base_s: int,
    end_s: int,
    create_s: float,
) -> dict[str, Any]:
    wanted = {
        (timer_id, s)
        for timer_id, fires in expected.items()
        for s in fires
        if timer_id not in stopped or s < stopped[timer_id]
    }
    arrivals: Counter[tuple[str, int]] = Counter()
    lateness: list[float] = []
    early = after_stop = 0
    for request in receiver.requests:
        body = json.loads(request.body)
        firing = (str(body["timerId"]), _epoch(body["scheduledAt"]))
        if not base_s <= firing[1] < end_s:
            continue
        arrivals[firing] += 1
        if firing[0] in stopped and firing[1] > stopped[firing[0]]:
            after_stop += 1
            continue
        if arrivals[firing] == 1:
            lateness.append(request.at_s - firing[1])
            early += request.at_s < firing[1]
    received = {f for f in arrivals if f in wanted}
    return {
        "scenario": "e2e",
        "timers": len(expected),
        "create_seconds": round(create_s, 1),
        "firings_expected": len(wanted),
        "firings_received": len(received),
        "lost": len(wanted - received),
        "duplicates": sum(n - 1 for n in arrivals.values()),
        "fired_after_delete": after_stop,
        "deleted_or_paused": len(stopped),
        "early": early,
        "lateness_ms": {
            "p50": round(percentile(lateness, 0.50) * 1000, 1),
            "p95": round(percentile(lateness, 0.95) * 1000, 1),
            "p99": round(percentile(lateness, 0.99) * 1000, 1),
            "max": round(max(lateness) * 1000, 1),
        }
        if lateness
        else {},
        "lateness_s": [round(s, 4) for s in lateness],
        "spread_seconds": args.spread_seconds,
    }


def report(figures: dict[str, Any], console: Any) -> None:
    from rich.table import Table

    table = Table("measured", "figure", "goal")
    table.add_row("timers created", f"{figures['timers']} in {figures['create_seconds']} s", "")
    table.add_row("firings expected", str(figures["firings_expected"]), "")
    table.add_row("firings received", str(figures["firings_received"]), "all")
    for key in ("lost", "duplicates", "early", "fired_after_delete"):
        table.add_row(key.replace("_", " "), str(figures[key]), "0")
    for name, value in figures["lateness_ms"].items():
        table.add_row(f"lateness {name}", f"{value} ms", "<= 1000 ms" if name == "p99" else "")
    console.print(table)


def plot(figures: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 3.5))
    axis.hist([s * 1000 for s in figures["lateness_s"]], bins=50)
    axis.set_xlabel("lateness (ms): webhook receipt - scheduledAt")
    axis.set_ylabel("firings")
    axis.set_title(f"{figures['firings_received']} firings over {figures['spread_seconds']} s")
    figure.tight_layout()
    figure.savefig(path)
