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
    "Message",
    "SqsDispatchQueue",
    "delay_seconds",
    "firings_in",
    "messages_of",
]

MAX_DELAY_S = 900  # SQS's limit on DelaySeconds
BATCH_SIZE = 10  # SQS's limit on SendMessageBatch entries
BATCH_MAX_BYTES = 250_000  # SendMessageBatch's limit on all bodies together is 256 KiB
PACK_MAX_FIRINGS = 100  # firings due in one second that share a message
PACK_MAX_BYTES = 60_000  # a message stays within one 64 KB billing chunk
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
        return json.dumps(self._body(), separators=(",", ":"))

    @classmethod
    def from_message(cls, text: str) -> Firing:
        """The firing of a single-firing message (``firings_in`` reads packs too)."""
        return cls._from_body(json.loads(text))

    def _body(self) -> dict[str, Any]:
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
        return body

    @classmethod
    def _from_body(cls, body: dict[str, Any]) -> Firing:
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


@dataclass(frozen=True)
class Message:
    """One queue message: one firing, or a pack of firings due in the same second."""

    body: str
    scheduled_s: int
    firings: tuple[Firing, ...]


def messages_of(firings: Sequence[Firing]) -> list[Message]:
    """Firings as queue messages. Firings due in the same second travel together, up to
    ``PACK_MAX_FIRINGS`` (and one 64 KB billing chunk) a message: at scale that divides the
    SQS requests of the ticker and the callbacks, and the callback invocations, by up to 100.
    Raced and manual firings travel alone (their delivery claims them by message)."""
    messages: list[Message] = []
    by_second: dict[int, list[Firing]] = {}
    for firing in firings:
        if firing.raced or firing.manual:
            messages.append(Message(firing.to_message(), firing.scheduled_s, (firing,)))
        else:
            by_second.setdefault(firing.scheduled_s, []).append(firing)
    for second, group in by_second.items():
        pack: list[str] = []
        members: list[Firing] = []
        size = 0
        for firing in group:
            text = json.dumps(firing._body(), separators=(",", ":"))
            if members and (
                len(members) == PACK_MAX_FIRINGS or size + len(text) + 1 > PACK_MAX_BYTES
            ):
                messages.append(_message(second, pack, members))
                pack, members, size = [], [], 0
            pack.append(text)
            members.append(firing)
            size += len(text) + 1
        messages.append(_message(second, pack, members))
    return messages


def _message(second: int, texts: list[str], members: list[Firing]) -> Message:
    if len(members) == 1:
        return Message(texts[0], second, (members[0],))
    return Message('{"p":[' + ",".join(texts) + "]}", second, tuple(members))


def firings_in(text: str) -> list[Firing]:
    """The firings of a message body: one, or a pack's."""
    body = json.loads(text)
    if isinstance(body, dict) and isinstance(body.get("p"), list):
        return [Firing._from_body(member) for member in body["p"]]
    return [Firing._from_body(body)]


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
        batches = _batches(messages_of(firings))
        if len(batches) <= 1:
            failed = [f for batch in batches for f in self._send_batch(batch)]
        else:
            workers = min(self._concurrency, len(batches))
            with ThreadPoolExecutor(max_workers=workers) as pool:
                failed = [f for result in pool.map(self._send_batch, batches) for f in result]
        if failed:
            raise DispatchError(f"{len(failed)} firings could not be enqueued")

    def _send_batch(self, batch: Sequence[Message]) -> list[Firing]:
        pending = list(batch)
        for attempt in range(SEND_ATTEMPTS):
            if attempt:
                time.sleep(0.05 * 2**attempt)
            now_s = self._clock.now()
            entries = [
                {
                    "Id": str(n),
                    "MessageBody": message.body,
                    "DelaySeconds": delay_seconds(message.scheduled_s, now_s),
                }
                for n, message in enumerate(pending)
            ]
            with self._lock:
                self.calls += 1
            try:
                response = self._client.send_message_batch(QueueUrl=self._url, Entries=entries)  # type: ignore[arg-type]
            except (ClientError, BotoCoreError):  # the whole call failed: retry the batch
                if attempt == SEND_ATTEMPTS - 1:
                    break
                continue
            failed_ids = {int(entry["Id"]) for entry in response.get("Failed", [])}
            pending = [message for n, message in enumerate(pending) if n in failed_ids]
            if not pending:
                return []
        return [firing for message in pending for firing in message.firings]


def _batches(messages: Sequence[Message]) -> list[list[Message]]:
    """SendMessageBatch calls: up to 10 messages and 256 KiB each."""
    batches: list[list[Message]] = []
    size = 0
    for message in messages:
        if (
            not batches
            or len(batches[-1]) == BATCH_SIZE
            or size + len(message.body) > BATCH_MAX_BYTES
        ):
            batches.append([])
            size = 0
        batches[-1].append(message)
        size += len(message.body)
    return batches


@dataclass
class InMemoryDispatchQueue:
    """A queue in a list: ``(firing, visible_at_s)`` pairs, for tests and simulation."""

    clock: Clock
    sent: list[tuple[Firing, float]] = field(default_factory=list)
    calls: int = 0

    def send(self, firings: Sequence[Firing]) -> None:
        now_s = self.clock.now()
        for batch in _batches(messages_of(firings)):
            self.calls += 1
            for message in batch:
                for firing in message.firings:
                    self.sent.append((firing, now_s + delay_seconds(firing.scheduled_s, now_s)))
