"""Flow control per destination: a timer's ``concurrencyKey`` with ``maxConcurrency`` and
``maxPerSecond``, shared by all of its owner's timers with that key, across every callback.

Concurrency is a lease per run in one item per (owner, key): a run takes a slot with one
conditional write (the item's map of holders has fewer than ``maxConcurrency``) and gives it
back with one unconditional write; a slot a crashed run kept expires after the lease. The rate
is a count per second in an item per (owner, key, second), one conditional write a run. A
firing over a limit waits a little in the callback (no write while this process already fills
the key's slots), then is sent back to the queue for later, its attempts unchanged: it is
never dropped and never counted as a failure. A firing without a key costs nothing here.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass

from timer_service.clock import Clock
from timer_service.errors import TimerServiceError
from timer_service.firing import Firing
from timer_service.metrics import Metrics
from timer_service.models import Timer
from timer_service.store.base import TimerStore

__all__ = ["FLOW_LEASE_S", "FlowControl", "FlowWait"]

FLOW_LEASE_S = 900  # a slot outlives the longest run (a Lambda's 15 minutes)
WAIT_IN_PROCESS_S = 2.0  # how long a firing waits for a slot before it goes back to the queue
SENT_BACK_DELAY_S = (1, 3)  # and then how long it waits on the queue (spread)


class FlowWait(TimerServiceError):
    """The firing's key is at its limit: it goes back to the queue, ``delay_s`` from now."""

    code = "flow_controlled"

    def __init__(self, key: str, delay_s: int) -> None:
        super().__init__(f"concurrencyKey {key!r} is at its limit: sent back for later")
        self.delay_s = delay_s


@dataclass
class _Local:
    """This process's runs of one key: no write is tried while they fill its slots."""

    running: int = 0


class FlowControl:
    """Takes and gives back a firing's place under its timer's flow limits."""

    def __init__(
        self,
        store: TimerStore,
        clock: Clock,
        sleep: Callable[[float], None],
        metrics: Metrics,
    ) -> None:
        self._store = store
        self._clock = clock
        self._sleep = sleep
        self._metrics = metrics
        self._lock = threading.Condition()
        self._local: dict[tuple[str, str], _Local] = {}

    def enter(self, timer: Timer, firing: Firing) -> Callable[[], None]:
        """Wait for the firing's place under its timer's limits; the call that gives it back.
        FlowWait when none came in time."""
        key = timer.concurrency_key
        if key is None:
            return _nothing
        deadline = self._clock.now() + WAIT_IN_PROCESS_S
        local = self._local_of(timer.owner, key)
        while True:
            if self._try(timer, firing, key, local):
                break
            if self._clock.now() >= deadline:
                self._metrics.count("FiringsSentBackByFlowControl")
                raise FlowWait(key, random.randint(*SENT_BACK_DELAY_S))
            self._sleep(0.05 + random.random() * 0.1)  # spread the retries

        def leave() -> None:
            with self._lock:
                local.running -= 1
                self._lock.notify_all()
            if timer.max_concurrency is not None:
                self._store.release_slot(timer.owner, key, firing.firing_id)

        return leave

    def _try(self, timer: Timer, firing: Firing, key: str, local: _Local) -> bool:
        limit = timer.max_concurrency
        with self._lock:
            if limit is not None and local.running >= limit:
                return False  # this process fills the key's slots: no write to try
            local.running += 1
        now_s = int(self._clock.now())
        taken = False
        try:
            if timer.max_per_second is not None and not self._store.take_rate(
                timer.owner, key, now_s, limit=timer.max_per_second
            ):
                return False
            if limit is not None and not self._store.acquire_slot(
                timer.owner,
                key,
                firing.firing_id,
                limit=limit,
                now_s=now_s,
                until_s=now_s + FLOW_LEASE_S,
            ):
                return False
            taken = True
            return True
        finally:
            if not taken:
                with self._lock:
                    local.running -= 1

    def _local_of(self, owner: str, key: str) -> _Local:
        with self._lock:
            return self._local.setdefault((owner, key), _Local())


def _nothing() -> None:
    return None
