"""Firings a tenant's requests send outside its schedules: the API's hand-off of a fast rate's
claimed minutes (a write of a ``rate(1 second)`` timer inside a claimed minute sends up to two
minutes of its firings itself), backfills and bulk triggers. The firing limit counts what the
schedules fire; these come on top, so they have a budget of their own per owner and minute: as
many as the owner's firing limit, and never fewer than BURST_FLOOR. A request that would pass it
is refused before it writes or sends anything (a 429 with the seconds to the next minute).

A request that sends at most BURST_FREE such firings (a minute rate's or a cron's hand-off, one
trigger) takes nothing from the budget and costs no write; one that sends more costs one
conditional write, on the flow-control rate item of the minute (:meth:`TimerStore.take_rate`).
"""

from __future__ import annotations

from timer_service.errors import FiringBurstExceededError
from timer_service.models import Timer
from timer_service.store.base import TimerStore
from timer_service.time_index import timing_of

__all__ = ["BURST_FLOOR", "BURST_FREE", "handoff_bound", "take_burst"]

BURST_FLOOR = 1000
BURST_FREE = 10
# The rate item's key: a concurrencyKey cannot hold "#", so it is no timer's flow key.
BURST_KEY = "#unscheduled"


def take_burst(
    store: TimerStore, owner: str, count: int, *, now_s: int, firing_limit: int | None
) -> None:
    """Take ``count`` firings from the owner's budget of this minute, or refuse the request."""
    if firing_limit is None or count <= BURST_FREE:
        return
    limit = max(firing_limit, BURST_FLOOR)
    minute_s = now_s - now_s % 60
    if not store.take_rate(owner, BURST_KEY, minute_s, limit=limit, count=count):
        raise FiringBurstExceededError(limit, count=count, retry_after_s=60 - now_s % 60)


def handoff_bound(timer: Timer, *, now_s: int, lookahead_minutes: int) -> int:
    """The most firings the API's hand-off may send for ``timer`` written at ``now_s``: those
    until the end of the furthest minute a ticker can have claimed (its lookahead)."""
    end_s = (now_s // 60 + lookahead_minutes + 1) * 60
    count = 0
    for fire_s in timing_of(timer).iter_from(now_s):
        if fire_s >= end_s:
            break
        count += 1
    return count
