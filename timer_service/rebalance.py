"""Moving timers between shards without losing or doubling a firing.

A timer moves only while its old shard is idle (``claimed == done``, no lease): every minute
up to ``claimed`` has been sent and every cron successor written, and no ticker is reading.
So the items that move are exactly those past ``claimed``; a rate item moves with
``not_before`` = the first second after ``claimed``, so the new shard never repeats what the
old one sent. The target must not yet have claimed the first minute that moves, or its
ticker could already have read past it. Both facts are conditions of the one transaction
that moves the timer; when either has changed, the timer is tried again later.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from timer_service.change_log import note_write
from timer_service.clock import Clock
from timer_service.keys import index_sort_key, minute_partition, rate_partition
from timer_service.models import ShardRegistry, Timer
from timer_service.sharding import choose_shard
from timer_service.store.base import TimerStore
from timer_service.time_index import IndexEntry, live_index_keys, timing_of

__all__ = ["RebalanceReport", "Rebalancer"]


@dataclass
class RebalanceReport:
    moved: int = 0
    waiting: int = 0  # timers whose shards were busy on every attempt
    pinned: int = 0  # heartbeat timers: they stay on their shard (timer_service.pings)
    retired: list[int] = field(default_factory=list)


class Rebalancer:
    """Places every timer on the shard the active registry hashes it to; retires empty
    draining shards."""

    def __init__(
        self,
        *,
        store: TimerStore,
        clock: Clock,
        attempts: int = 20,
        retry_wait_s: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._store = store
        self._clock = clock
        self._attempts = attempts
        self._retry_wait_s = retry_wait_s
        self._sleep = sleep

    def rebalance(self) -> RebalanceReport:
        registry = self._store.get_registry()
        report = RebalanceReport()
        for shard in registry.all:
            for timer in self._store.timers_on_shard(shard):
                target = choose_shard(timer.owner, timer.id, registry)
                if target == timer.shard:
                    continue
                if timer.ping_hash is not None:  # its items follow its pings on its shard
                    report.pinned += 1
                    continue
                if self._move_with_retries(timer, target):
                    report.moved += 1
                else:
                    report.waiting += 1
        counts = self._store.count_timers_by_shard()
        report.retired = [n for n in registry.draining if counts.get(n, 0) == 0]
        if report.retired:
            self._store.put_registry(
                ShardRegistry(
                    active=registry.active,
                    draining=tuple(n for n in registry.draining if n not in report.retired),
                )
            )
        return report

    def _move_with_retries(self, timer: Timer, target: int) -> bool:
        for attempt in range(self._attempts):
            if attempt:
                self._sleep(self._retry_wait_s)
                current = self._store.get_timer(timer.owner, timer.id)
                if current is None or current.shard == target:
                    return current is not None
                timer = current
            if self.move(timer, target):
                return True
        return False

    def move(self, timer: Timer, target: int) -> bool:
        """One attempt to move ``timer`` to ``target``; False when a shard was busy."""
        old = self._store.get_shard_state(timer.shard)
        if old.lease_owner is not None or old.claimed != old.done:
            return False
        claimed = old.claimed
        now_s = int(self._clock.now())
        after_s = now_s if claimed is None else max(now_s, (claimed + 1) * 60)
        entries: list[IndexEntry] = []
        remove = live_index_keys(timer, now_s=now_s)
        first_minute: int | None = None
        base: int | None = None
        if timer.enabled:
            for key in remove:
                entry = self._store.get_index_entry(key)
                if entry is None or entry.version != timer.firing_version:
                    continue
                if entry.static_rate:
                    next_s = timing_of(timer).next_fire_s(after_s)
                    if next_s is None:
                        continue
                    moved = _rehome(entry, target, not_before_s=after_s)
                    first_minute = _min(first_minute, next_s // 60)
                    base = entry.base_min
                elif entry.fire_s is not None and (claimed is None or entry.fire_s // 60 > claimed):
                    moved = _rehome(entry, target, not_before_s=None)
                    first_minute = _min(first_minute, entry.fire_s // 60)
                else:
                    continue  # already sent by the old shard; its item expires by TTL
                entries.append(moved)
        note_write(self._store, [timer.shard, target], timer.owner, timer.id, now_s)
        return self._store.move_timer(
            timer,
            target=target,
            remove=remove,
            entries=entries,
            old_claimed=claimed,
            first_minute=first_minute,
            base=base,
        )


def _min(current: int | None, value: int) -> int:
    return value if current is None else min(current, value)


def _rehome(entry: IndexEntry, target: int, *, not_before_s: int | None) -> IndexEntry:
    """The same item on shard ``target``."""
    if entry.static_rate:
        assert entry.first_fire_s is not None and entry.base_min is not None
        base = entry.base_min
        pk = rate_partition(target, base, (entry.first_fire_s // 60) % base)
        return replace(
            entry,
            shard=target,
            key=entry.key._replace(pk=pk),
            not_before_s=not_before_s,
        )
    assert entry.fire_s is not None
    pk = minute_partition(target, entry.fire_s // 60)
    sk = index_sort_key(entry.second, entry.owner, entry.timer_id)
    return replace(entry, shard=target, key=entry.key._replace(pk=pk, sk=sk))
