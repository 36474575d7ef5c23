"""What the callbacks do with a batch of dispatch-queue messages: the one delivery policy.

1. Open each message: a body the service did not write, or whose signature does not hold, is
   never run (it is dropped and counted, see :mod:`timer_service.messages`).
2. Run every firing of the batch at once (the messages, and the firings of a pack): a batch
   lasts as long as its slowest job, so one tenant's slow webhook holds up no one else's
   firing and does not run the batch into the function's timeout.
3. A firing that failed is, by :class:`RetryRule`: dead-lettered at once when the failure is
   permanent (a 4xx, a blocked address, a denied AWS call) or was its last attempt; else sent
   again alone after the backoff, carrying its attempts (the rest of its pack is done).

A message is reported failed (to be delivered again whole) only when the hand-off itself failed:
a retry could not be sent or a dead letter not written. The SQS dead-letter queue catches what
never finishes (a crash, a timeout: ``maxReceiveCount`` receives); :meth:`DeliveryPolicy.intake`
turns those into dead letters too.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from timer_service.dead_letters import DeadLetters
from timer_service.delivery import Delivered, Delivery, RunOnce, TimerReads
from timer_service.dispatch import MAX_DELAY_S, RetryQueue
from timer_service.firing import Firing
from timer_service.flow import FlowWait
from timer_service.job_types import PermanentJobError
from timer_service.messages import Message, MessageSigner, read
from timer_service.metrics import Metrics, NullMetrics
from timer_service.pack_session import HandedOn, PackLedger
from timer_service.settings import Settings
from timer_service.timer_reads import MAX_EARLY_WAIT_S

__all__ = ["DeliveryPolicy", "Observer", "Received", "RetryRule"]

logger = logging.getLogger(__name__)

MESSAGE_WORKERS = 10  # the messages of a batch (the event source's batch size) run at once
PACK_WORKERS = 32  # firings of one pack run at once

Observer = Callable[[Firing, Delivered | None, Exception | None], None]
"""Told of each firing's delivery: its result, or the error it raised."""


@dataclass(frozen=True)
class RetryRule:
    """How often a firing is tried, and how long it waits between tries."""

    max_attempts: int = 5
    base_s: int = 10
    cap_s: int = MAX_DELAY_S

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryRule:
        return cls(max_attempts=settings.max_attempts, base_s=settings.retry_base_s)

    def final(self, attempt: int) -> bool:
        """Whether delivery ``attempt`` (1 is the first) is the last one."""
        return attempt >= self.max_attempts

    def delay_s(self, attempt: int) -> int:
        """Exponential backoff before delivery ``attempt + 1``: base, 2x base, 4x base ... cap."""
        return int(min(self.cap_s, self.base_s * 2 ** max(0, attempt - 1)))


@dataclass(frozen=True)
class Received:
    """A dispatch-queue message as the callback received it."""

    message_id: str
    body: str
    signature: str | None
    receive_count: int = 1


class DeliveryPolicy:
    """Runs batches of dispatch-queue messages: deliver, retry alone, or dead-letter."""

    def __init__(
        self,
        *,
        delivery: Delivery,
        queue: RetryQueue,
        dead_letters: DeadLetters,
        signer: MessageSigner,
        rule: RetryRule,
        run_once: RunOnce | None = None,
        metrics: Metrics | None = None,
        observer: Observer | None = None,
        ledger: PackLedger | None = None,
    ) -> None:
        self._delivery = delivery
        self._queue = queue
        self._dead_letters = dead_letters
        self._signer = signer
        self._rule = rule
        self._run_once = run_once
        self._metrics = metrics or NullMetrics()
        self._observer = observer
        self._ledger = ledger if run_once is not None else None

    def handle(self, batch: Sequence[Received]) -> list[str]:
        """Run every message of the batch; the ids of those to be delivered again."""
        opened = [(received, self._open(received)) for received in batch]
        firings = [f for _, message in opened if message is not None for f in message.firings]
        reads = self._delivery.reads(firings)
        workers = max(1, min(MESSAGE_WORKERS, len(opened)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            handed_on = list(pool.map(lambda pair: self._run(pair[0], pair[1], reads), opened))
        return [
            received.message_id
            for (received, _), ok in zip(opened, handed_on, strict=True)
            if not ok
        ]

    def intake(self, batch: Sequence[Received]) -> list[str]:
        """Messages SQS moved to its dead-letter queue (their callback never finished: a crash
        or a timeout, ``maxReceiveCount`` times) become dead letters; the ids not taken in."""
        failed: list[str] = []
        for received in batch:
            message = self._open(received)
            if message is None:
                continue
            attempts = message.attempts_before + received.receive_count
            try:
                for firing in message.firings:
                    self._dead_letters.record(
                        firing,
                        error="the callback did not finish it (it crashed or timed out)",
                        attempts=max(attempts, self._rule.max_attempts),
                    )
            except Exception:
                logger.exception("dead letter not written: %s", received.message_id)
                failed.append(received.message_id)
        return failed

    # --- internals ------------------------------------------------------------------------

    def _open(self, received: Received) -> Message | None:
        """The message, if the service wrote it; None (dropped, counted) otherwise."""
        if not self._signer.verify(received.body, received.signature):
            self._metrics.count("MessagesRejected")
            logger.warning("dropped a message the service did not sign: %s", received.message_id)
            return None
        try:
            return read(received.body)
        except ValueError as exc:
            self._metrics.count("MessagesRejected")
            logger.warning("dropped a message that holds no firing: %s", exc)
            return None

    def _run(self, received: Received, message: Message | None, reads: TimerReads) -> bool:
        """Deliver the message's firings; False when a failed one could not be handed on."""
        if message is None:
            return True
        attempt = message.attempts_before + received.receive_count
        firings = message.firings
        session = None
        if message.pack is not None and len(firings) > 1 and self._ledger is not None:
            assert self._run_once is not None
            session = self._ledger.session(message.pack, firings, self._run_once)

        def attempt_of(n: int) -> bool:
            """Member ``n`` delivered, or handed on (recorded in its pack's item at once, so a
            copy of it sent on alone finds it there); False when it could not be handed on."""
            firing = firings[n]
            delivery_id = received.message_id if len(firings) == 1 else f"{received.message_id}/{n}"
            run_once = self._run_once
            if session is not None:
                run_once = session.runner(n)
            elif run_once is not None and self._ledger is not None:
                run_once = self._ledger.checked(run_once, firing)
            error, sent_on = self._try(firing, attempt, delivery_id, reads, run_once)
            if error is not None:
                try:
                    self._hand_on(firing, attempt, error)
                except Exception:
                    logger.exception("failed firing not handed on: %s", firing.firing_id)
                    return False
                sent_on = True
            if sent_on and session is not None:
                session.handed(n)
            return True

        try:
            if len(firings) == 1:
                return attempt_of(0)
            with ThreadPoolExecutor(max_workers=min(PACK_WORKERS, len(firings))) as pool:
                return all(list(pool.map(attempt_of, range(len(firings)))))
        finally:
            if session is not None:
                session.close()

    def _try(
        self,
        firing: Firing,
        attempt: int,
        delivery_id: str,
        reads: TimerReads,
        run_once: RunOnce | None,
    ) -> tuple[Exception | None, bool]:
        """Its error, if it failed (to be handed on); and whether a copy of it was sent on."""
        early_s = self._delivery.early_s(firing)
        if early_s > MAX_EARLY_WAIT_S and (firing.jitter_s or firing.deliver_at_s):
            # Jittered or paced past SQS's 15-minute hold: sent on for the rest, same attempt.
            self._queue.retry(firing, attempts_before=attempt - 1, delay_s=math.ceil(early_s))
            self._metrics.count("FiringsHeldOver")
            return None, True
        try:
            result = self._delivery.deliver(
                firing,
                attempt=attempt,
                final=self._rule.final(attempt),
                reads=reads,
                run_once=run_once,
                delivery_id=delivery_id,
            )
        except FlowWait as wait:  # over its key's limits (or its pack busy): later, same attempt
            self._queue.retry(firing, attempts_before=attempt - 1, delay_s=wait.delay_s)
            return None, True
        except HandedOn:  # this delivery of it has nothing to do: a copy went on alone
            self._metrics.count("DuplicatesDropped")
            return None, False
        except Exception as exc:
            self._tell(firing, None, exc)
            return exc, False
        self._tell(firing, result, None)
        return None, False

    def _hand_on(self, firing: Firing, attempt: int, error: Exception) -> None:
        """Dead-letter a firing that failed for good; send any other back, alone, later."""
        if isinstance(error, PermanentJobError):
            reason = error.message
        elif self._rule.final(attempt):
            reason = f"retries exhausted: {error!r}"
        else:
            self._queue.retry(firing, attempts_before=attempt, delay_s=self._rule.delay_s(attempt))
            self._metrics.count("FiringsRetried")
            return
        self._dead_letters.record(firing, error=reason, attempts=attempt)
        self._metrics.count("DlqSends")
        self._delivery.complete(firing)  # its last firing failed for good: it fires no more

    def _tell(self, firing: Firing, result: Delivered | None, error: Exception | None) -> None:
        if self._observer is not None:
            self._observer(firing, result, error)
