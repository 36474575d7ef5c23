"""Firings and the queue port that carries them from ticker (or API) to callbacks."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from timer_service.clock import Clock, format_utc
from timer_service.errors import TimerServiceError
from timer_service.keys import IndexKey

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

__all__ = [
    "MAX_DELAY_S",
    "DispatchError",
    "DispatchQueue",
    "Firing",
    "InMemoryDispatchQueue",
    "SqsDispatchQueue",
    "delay_seconds",
]

MAX_DELAY_S = 900  # SQS's limit on DelaySeconds
BATCH_SIZE = 10  # SQS's limit on SendMessageBatch entries
SEND_ATTEMPTS = 4


class DispatchError(TimerServiceError):
    """Some firings could not be enqueued after retries."""

    code = "dispatch_failed"


@dataclass(frozen=True)
class Firing:
    """One firing of one timer version at one second; the unit of delivery."""

    owner: str
    timer_id: str
    version: int
    scheduled_s: int
    next_key: IndexKey | None = None  # cron: the successor item, removed if the timer is stale
    manual: bool = False  # POST /trigger
    raced: bool = False  # both the API and a ticker may have sent it: delivery claims it once

    @property
    def firing_id(self) -> str:
        """``{owner}#{id}@{scheduledAt}``: the same for every delivery of this firing."""
        suffix = "~manual" if self.manual else ""
        return f"{self.owner}#{self.timer_id}@{format_utc(self.scheduled_s)}{suffix}"

    def to_message(self) -> str:
        body: dict[str, Any] = {
            "o": self.owner,
            "i": self.timer_id,
            "v": self.version,
            "s": self.scheduled_s,
        }
        if self.next_key is not None:
            body["n"] = [self.next_key.pk, self.next_key.sk]
        if self.manual:
            body["m"] = 1
        if self.raced:
            body["r"] = 1
        return json.dumps(body, separators=(",", ":"))

    @classmethod
    def from_message(cls, text: str) -> Firing:
        body = json.loads(text)
        next_key = body.get("n")
        return cls(
            owner=str(body["o"]),
            timer_id=str(body["i"]),
            version=int(body["v"]),
            scheduled_s=int(body["s"]),
            next_key=None if next_key is None else IndexKey(*next_key),
            manual=bool(body.get("m", 0)),
            raced=bool(body.get("r", 0)),
        )


def delay_seconds(scheduled_s: float, now_s: float) -> int:
    """Whole seconds to hold a message so it arrives at most 1 s before ``scheduled_s``.

    Rounding down never makes a firing late; the callback waits out the sub-second rest.
    """
    return max(0, min(MAX_DELAY_S, math.floor(scheduled_s - now_s)))


class DispatchQueue(Protocol):
    """Where firings go: each arrives at most a second before its time."""

    def send(self, firings: Sequence[Firing]) -> None:
        """Enqueue every firing; DispatchError when some could not be after retries."""
        ...


class SqsDispatchQueue:
    """SQS: batches of 10 with per-message DelaySeconds, several batches in flight, retries."""

    def __init__(
        self, client: SQSClient, queue_url: str, *, clock: Clock, concurrency: int = 8
    ) -> None:
        self._client = client
        self._url = queue_url
        self._clock = clock
        self._concurrency = concurrency
        self.calls = 0  # SendMessageBatch requests made: what the cost model counts
        self._lock = threading.Lock()

    def send(self, firings: Sequence[Firing]) -> None:
        batches = [firings[i : i + BATCH_SIZE] for i in range(0, len(firings), BATCH_SIZE)]
        if len(batches) <= 1:
            failed = [f for batch in batches for f in self._send_batch(batch)]
        else:
            workers = min(self._concurrency, len(batches))
            with ThreadPoolExecutor(max_workers=workers) as pool:
                failed = [f for result in pool.map(self._send_batch, batches) for f in result]
        if failed:
            raise DispatchError(f"{len(failed)} firings could not be enqueued")

    def _send_batch(self, batch: Sequence[Firing]) -> list[Firing]:
        pending = list(batch)
        for attempt in range(SEND_ATTEMPTS):
            if attempt:
                time.sleep(0.05 * 2**attempt)
            now_s = self._clock.now()
            entries = [
                {
                    "Id": str(n),
                    "MessageBody": firing.to_message(),
                    "DelaySeconds": delay_seconds(firing.scheduled_s, now_s),
                }
                for n, firing in enumerate(pending)
            ]
            with self._lock:
                self.calls += 1
            try:
                response = self._client.send_message_batch(QueueUrl=self._url, Entries=entries)  # type: ignore[arg-type]
            except (ClientError, BotoCoreError):  # the whole call failed: retry the batch
                if attempt == SEND_ATTEMPTS - 1:
                    return pending
                continue
            failed_ids = {int(entry["Id"]) for entry in response.get("Failed", [])}
            pending = [firing for n, firing in enumerate(pending) if n in failed_ids]
            if not pending:
                return []
        return pending


@dataclass
class InMemoryDispatchQueue:
    """A queue in a list: ``(firing, visible_at_s)`` pairs, for tests and simulation."""

    clock: Clock
    sent: list[tuple[Firing, float]] = field(default_factory=list)
    calls: int = 0

    def send(self, firings: Sequence[Firing]) -> None:
        now_s = self.clock.now()
        for start in range(0, len(firings), BATCH_SIZE):
            self.calls += 1
            for firing in firings[start : start + BATCH_SIZE]:
                self.sent.append((firing, now_s + delay_seconds(firing.scheduled_s, now_s)))
