"""The queue port that carries firings from ticker (or API) to the callbacks, and its adapters.

Firings arrive at most a second before their time (``DelaySeconds``); a firing whose
delivery failed is sent again alone, later (:meth:`DispatchQueue.retry`). Every message is
signed (:class:`timer_service.messages.MessageSigner`).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from timer_service.clock import Clock
from timer_service.errors import TimerServiceError
from timer_service.firing import Firing
from timer_service.messages import (
    PACK_MAX_FIRINGS,
    SIGNATURE_ATTRIBUTE,
    Message,
    MessageSigner,
    due_now,
    firings_in,
    messages_of,
    retry_message,
)

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

__all__ = [
    "MAX_DELAY_S",
    "PACK_MAX_FIRINGS",
    "DispatchError",
    "DispatchQueue",
    "Firing",
    "InMemoryDispatchQueue",
    "Message",
    "RetryQueue",
    "SqsDispatchQueue",
    "delay_seconds",
    "firings_in",
    "messages_of",
]

MAX_DELAY_S = 900  # SQS's limit on DelaySeconds
BATCH_SIZE = 10  # SQS's limit on SendMessageBatch entries
BATCH_MAX_BYTES = 250_000  # SendMessageBatch's limit on all bodies together is 256 KiB
ENTRY_ATTEMPTS = 3  # sends of an entry SQS failed without blaming the sender


class DispatchError(TimerServiceError):
    """Some firings could not be enqueued; ``failed`` lists them."""

    code = "dispatch_failed"

    def __init__(self, message: str, *, failed: Sequence[Firing] = ()) -> None:
        super().__init__(message)
        self.failed = list(failed)


def delay_seconds(scheduled_s: float, now_s: float) -> int:
    """Whole seconds to hold a message so it arrives at most 1 s before ``scheduled_s``.

    Rounding down never makes a firing late; the callback waits out the sub-second rest.
    """
    return max(0, min(MAX_DELAY_S, math.floor(scheduled_s - now_s)))


class DispatchQueue(Protocol):
    """Where firings go: each arrives at most a second before its time."""

    def send(self, firings: Sequence[Firing]) -> None:
        """Enqueue every firing; DispatchError (naming those not sent) when some could not be."""
        ...


class RetryQueue(DispatchQueue, Protocol):
    """The queue as the callbacks use it: firings that failed go back on it, alone."""

    def retry(self, firing: Firing, *, attempts_before: int, delay_s: int) -> None:
        """Send a firing again, alone, ``delay_s`` from now, with the deliveries it had."""
        ...

    def resend(self, firings: Sequence[Firing]) -> None:
        """Send firings for delivery now, whenever they were due (a redrive); DispatchError
        naming those not sent."""
        ...


class SqsDispatchQueue:
    """SQS: signed messages in batches of 10 with per-message DelaySeconds, several batches
    in flight. botocore retries a failed call; entries SQS failed on its side are sent again,
    entries it refused as the sender's fault are not (they would fail every time)."""

    def __init__(
        self,
        client: SQSClient,
        queue_url: str,
        *,
        clock: Clock,
        signer: MessageSigner,
        concurrency: int = 8,
        deflate: bool = False,
    ) -> None:
        self._client = client
        self._deflate = deflate  # packs' members deflated (Settings.pack_deflate)
        self._url = queue_url
        self._clock = clock
        self._signer = signer
        self._concurrency = concurrency
        self.calls = 0  # SendMessageBatch requests made: what the cost model counts
        self._lock = threading.Lock()

    def send(self, firings: Sequence[Firing]) -> None:
        self.send_messages(messages_of(firings, deflate=self._deflate))

    def retry(self, firing: Firing, *, attempts_before: int, delay_s: int) -> None:
        message = retry_message(firing, attempts_before=attempts_before)
        self._client.send_message(
            QueueUrl=self._url,
            MessageBody=message.body,
            DelaySeconds=max(0, min(MAX_DELAY_S, delay_s)),
            MessageAttributes=self._signature(message),
        )

    def resend(self, firings: Sequence[Firing]) -> None:
        self.send_messages(due_now(firings, deflate=self._deflate), delayed=False)

    def send_messages(self, messages: Sequence[Message], *, delayed: bool = True) -> None:
        """Send ``messages``, each to arrive by its second (``delayed``) or at once;
        DispatchError naming the firings not sent."""
        batches = _batches(messages)
        if len(batches) <= 1:
            failed = [f for batch in batches for f in self._send_batch(batch, delayed)]
        else:
            workers = min(self._concurrency, len(batches))
            with ThreadPoolExecutor(max_workers=workers) as pool:
                results = pool.map(lambda batch: self._send_batch(batch, delayed), batches)
                failed = [f for result in results for f in result]
        if failed:
            raise DispatchError(f"{len(failed)} firings could not be enqueued", failed=failed)

    def _signature(self, message: Message) -> Any:
        signature = self._signer.sign(message.body)
        return {SIGNATURE_ATTRIBUTE: {"DataType": "String", "StringValue": signature}}

    def _send_batch(self, batch: Sequence[Message], delayed: bool) -> list[Firing]:
        pending = list(batch)
        for attempt in range(ENTRY_ATTEMPTS):
            if attempt:
                time.sleep(0.05 * 2**attempt)
            now_s = self._clock.now()
            entries: list[SendMessageBatchRequestEntryTypeDef] = [
                {
                    "Id": str(n),
                    "MessageBody": message.body,
                    "DelaySeconds": delay_seconds(message.scheduled_s, now_s) if delayed else 0,
                    "MessageAttributes": self._signature(message),
                }
                for n, message in enumerate(pending)
            ]
            with self._lock:
                self.calls += 1
            try:
                response = self._client.send_message_batch(QueueUrl=self._url, Entries=entries)
            except (ClientError, BotoCoreError):  # botocore already retried what it could
                break
            failures = response.get("Failed", [])
            if not failures:
                return []
            refused = [pending[int(f["Id"])] for f in failures if f.get("SenderFault")]
            if refused:  # sending them again cannot help
                retried = {int(f["Id"]) for f in failures if not f.get("SenderFault")}
                rest = [m for n, m in enumerate(pending) if n in retried]
                return [f for m in refused + rest for f in m.firings]
            pending = [pending[int(f["Id"])] for f in failures]
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
    retried: list[tuple[Firing, int, float]] = field(default_factory=list)
    calls: int = 0
    messages: list[tuple[Message, float]] = field(default_factory=list)  # every one, in order

    def send(self, firings: Sequence[Firing]) -> None:
        now_s = self.clock.now()
        for batch in _batches(messages_of(firings)):
            self.calls += 1
            for message in batch:
                self.messages.append((message, now_s + delay_seconds(message.scheduled_s, now_s)))
                for firing in message.firings:
                    self.sent.append((firing, now_s + delay_seconds(firing.due_s, now_s)))

    def retry(self, firing: Firing, *, attempts_before: int, delay_s: int) -> None:
        self.calls += 1
        self.retried.append((firing, attempts_before, self.clock.now() + delay_s))
        message = retry_message(firing, attempts_before=attempts_before)
        self.messages.append((message, self.clock.now() + delay_s))

    def resend(self, firings: Sequence[Firing]) -> None:
        messages = due_now(firings)
        self.calls += len(_batches(messages))
        self.messages += [(m, self.clock.now()) for m in messages]
        self.sent += [(firing, self.clock.now()) for m in messages for firing in m.firings]
