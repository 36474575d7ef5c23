"""Firings asked for now, outside a timer's schedule: a trigger (of one timer, or of many in
one send) and a backfill of a past interval; part of :class:`timer_service.service.TimerService`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from timer_service.backfill import BackfillRequest, BackfillResult, backfill_times, interval_of
from timer_service.bursts import take_burst
from timer_service.clock import Clock, format_utc
from timer_service.dispatch import DispatchQueue, Firing
from timer_service.errors import InvalidRequestError, TimerServiceError
from timer_service.models import Timer
from timer_service.store.base import TimerStore
from timer_service.timer_writes import TriggerResult

__all__ = ["ManualFirings"]


class ManualFirings:
    """Trigger and backfill (mixed into the service, whose queue and clock they use)."""

    _clock: Clock
    _queue: DispatchQueue | None
    _store: TimerStore
    _max_firings: int | None

    if TYPE_CHECKING:  # the service's

        def _require(self, owner: str, timer_id: str) -> Timer: ...

    def trigger(self, owner: str, timer_id: str) -> TriggerResult:
        """Fire the timer now, outside its schedule, through the same queue and callbacks."""
        return self.trigger_timers([self._require(owner, timer_id)])[0]

    def trigger_timers(self, timers: Sequence[Timer]) -> list[TriggerResult]:
        """Fire each of ``timers`` (as read) now, in one send to the queue."""
        if self._queue is None:
            raise TimerServiceError("this service has no dispatch queue configured")
        now_s = int(self._clock.now())
        firings = [
            Firing(
                owner=timer.owner,
                timer_id=timer.id,
                version=timer.firing_version,
                scheduled_s=now_s,
                manual=True,
            )
            for timer in timers
        ]
        take_burst(
            self._store,
            timers[0].owner if timers else "",
            len(firings),
            now_s=now_s,
            firing_limit=self._max_firings,
        )
        if firings:
            self._queue.send(firings)
        return [TriggerResult(f.timer_id, f.firing_id, format_utc(now_s)) for f in firings]

    def backfill(self, owner: str, timer_id: str, request: BackfillRequest) -> BackfillResult:
        """Fire each scheduled time of the past interval ``(from, to]`` once, now, each marked
        as a backfill with its own scheduled second; at most BACKFILL_MAX_FIRINGS a call."""
        timer = self._require(owner, timer_id)
        if self._queue is None:
            raise TimerServiceError("this service has no dispatch queue configured")
        if timer.ping_hash is not None:
            raise InvalidRequestError(
                f"{timer_id!r} is a heartbeat timer: it has no schedule to backfill", field="id"
            )
        now_s = int(self._clock.now())
        start_s, end_s = interval_of(request, timer, now_s)
        times, more = backfill_times(timer, start_s, end_s)
        take_burst(self._store, owner, len(times), now_s=now_s, firing_limit=self._max_firings)
        firings = [
            Firing(
                owner=owner,
                timer_id=timer_id,
                version=timer.firing_version,
                scheduled_s=s,
                backfill=True,
            )
            for s in times
        ]
        if firings:
            self._queue.send(firings)
        first, last = (format_utc(times[0]), format_utc(times[-1])) if times else (None, None)
        return BackfillResult(
            id=timer_id,
            backfilled=len(firings),
            first_scheduled_at=first,
            last_scheduled_at=last,
            more=more,
            next_from=last if more else None,
        )
