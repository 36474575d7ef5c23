"""The time index: where the ticker finds a timer's next firing without reading the timer.

Rate timers live in one static item per timer, ``S#{shard}#R#{baseMin}#{slot}``: no write per
firing. ``baseMin`` is the largest of a fixed set of base periods (BASE_PERIODS_MIN) that
divides the timer's period, and ``slot`` its first firing's minute modulo the base: the ticker
reads the slot of each base in use every minute, so a tick's queries are bounded by the size
of that set whatever periods timers use. An item read in a minute it does not fire in costs
bytes (about 100 per item), not a request; a period whose best base would make it read more
than MAX_AMPLIFICATION times per firing (a long prime period) moves instead, like a cron: it
lives in the partition of its next firing's minute, ``S#{shard}#M#{epochMinute}``, and the
ticker writes its next item when it fires (one write per firing, cheaper than the reads).
Cron and one-shot timers live in minute partitions too; TTL removes spent items.

A rate of seconds (``rate(10 seconds)``, or any period that is not whole minutes) is a static
item of base 1: read every minute, it yields each of its firings in that minute, so a
``rate(1 second)`` timer costs one item read per 60 firings and no write. Its firings of a
minute are found by arithmetic on the anchor (:func:`fire_times_in_minute`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from timer_service.keys import IndexKey, index_sort_key, minute_partition, rate_partition
from timer_service.models import MisfirePolicy, Timer
from timer_service.schedules import (
    AtSchedule,
    CronSchedule,
    RateSchedule,
    Timing,
    parse_schedule,
)
from timer_service.snapshots import snapshot_of

__all__ = [
    "BASE_PERIODS_MIN",
    "INDEX_RETENTION_S",
    "MAX_AMPLIFICATION",
    "IndexEntry",
    "base_period_min",
    "fire_times_in_minute",
    "index_entry",
    "is_last_firing",
    "live_index_keys",
    "moves",
    "rate_base_min",
    "successor",
    "timing_of",
]

INDEX_RETENTION_S = 2 * 86400  # spent minute items outlive their firing this long (TTL)
# Every period up to 256 minutes, multiples of the hour up to 96 hours and of the day up to
# 60 days, and the divisors of the day: a period that is a multiple of one of these is read once
# per base. A tick reads one slot of each base in use: at most len(BASE_PERIODS_MIN) queries.
BASE_PERIODS_MIN = tuple(
    sorted(
        {*range(1, 257)}
        | {60 * k for k in range(1, 97)}
        | {1440 * k for k in range(1, 61)}
        | {d for d in range(1, 1441) if 1440 % d == 0}
    )
)
# Reading an item this many times per firing costs about what writing it once does (~100-byte
# items, 4 KB read units, a write unit at five read units' price): past it, the item moves.
MAX_AMPLIFICATION = 128
_CRON_LOOKBACK_S = 180  # a ticker may still hold a cron item this far behind now


@dataclass(frozen=True)
class IndexEntry:
    """One time-index item: what the ticker needs to build a firing."""

    key: IndexKey
    shard: int
    owner: str
    timer_id: str
    version: int
    kind: Literal["rate", "cron", "at", "heartbeat"]
    second: int
    misfire_policy: MisfirePolicy
    fire_s: int | None = None  # cron, at: this item's firing
    first_fire_s: int | None = None  # rate: the anchor
    period_s: int | None = None  # rate
    end_s: int | None = None
    schedule: str | None = None  # cron: to write the next item
    timezone: str | None = None  # cron
    start_s: int | None = None  # cron
    not_before_s: int | None = None  # rate, after a move between shards: earlier ones were sent
    # When the API wrote the item (and so may send its first firings itself, see tick.py);
    # successors inherit it, so a successor the API may also have sent is known too.
    api_written_s: int | None = None
    catch_up_window_s: int | None = None  # fireAll: the timer's own window (None: the stack's)
    ping_hash: str | None = None  # heartbeat: the key of its deadline state (timer_service.pings)
    jitter_s: int = 0  # each firing runs this much later at most (timer_service.jitter)
    # The timer's incarnation (its creation second), which its firings carry: a timer created
    # again under the id does not run them (None: an item written before they carried it).
    created_s: int | None = field(default=None, compare=False)
    # The timer's definition as of this version (timer_service.snapshots): its firings carry it,
    # so delivery need not read the timer. None: they read it.
    snapshot: str | None = field(default=None, compare=False)
    # When the copy was last known to be the timer's, for an item a ticker wrote (a cron's or a
    # moving rate's next one, outside the timer's own writes); None: the API wrote the item with
    # the timer, and every write of the timer replaces or removes it.
    copy_s: int | None = field(default=None, compare=False)

    @property
    def static_rate(self) -> bool:
        """A rate item that stays put in its base's slot (no write per firing)."""
        return self.kind == "rate" and self.fire_s is None

    @property
    def base_min(self) -> int | None:
        """The base period whose partitions hold this item, when it is a static rate item."""
        if not self.static_rate or self.period_s is None:
            return None
        return rate_base_min(self.period_s)

    @property
    def expires_s(self) -> int | None:
        """TTL of minute items; rate items live as long as their timer."""
        return None if self.fire_s is None else self.fire_s + INDEX_RETENTION_S


def base_period_min(period_min: int) -> int:
    """The largest base period that divides ``period_min``.

    >>> base_period_min(7), base_period_min(1000), base_period_min(997), base_period_min(7 * 1440)
    (7, 250, 1, 10080)
    """
    return max(base for base in BASE_PERIODS_MIN if period_min % base == 0)


def moves(period_min: int) -> bool:
    """Whether a rate of this period is indexed by its next firing (written each firing)."""
    return period_min // base_period_min(period_min) > MAX_AMPLIFICATION


def rate_base_min(period_s: int) -> int | None:
    """The base whose slots hold a static item of a rate of ``period_s``; None for a rate that
    moves (indexed by its next firing). A period of whole minutes takes its largest dividing
    base; any other period (seconds) is read every minute (base 1), which reads it at most
    ``ceil(period / 60)`` times per firing.

    >>> rate_base_min(1), rate_base_min(90), rate_base_min(420), rate_base_min(997 * 60)
    (1, 1, 7, None)
    """
    if period_s % 60 == 0:
        period_min = period_s // 60
        return None if moves(period_min) else base_period_min(period_min)
    return 1 if -(-period_s // 60) <= MAX_AMPLIFICATION else None


def timing_of(timer: Timer) -> Timing:
    return Timing(
        parse_schedule(timer.schedule),
        timer.timezone,
        start_s=timer.start_s,
        end_s=timer.last_s,
        first_fire_s=timer.first_fire_s,
    )


def index_entry(timer: Timer, *, after_s: int) -> IndexEntry | None:
    """The item that makes the ticker fire ``timer`` next (at or after ``after_s``), if any;
    a heartbeat's items follow its pings instead (timer_service.pings)."""
    if not timer.enabled or timer.ping_hash is not None:
        return None
    timing = timing_of(timer)
    fire_s = timing.next_fire_s(after_s)
    if fire_s is None:
        return None
    schedule = timing.schedule
    common = {
        "shard": timer.shard,
        "owner": timer.owner,
        "timer_id": timer.id,
        "version": timer.firing_version,
        "misfire_policy": timer.misfire_policy,
        "end_s": timer.last_s,
        "catch_up_window_s": timer.catch_up_window_s,
        "jitter_s": timer.jitter_s,
        "created_s": timer.created_s,
        "snapshot": snapshot_of(timer),
    }
    if isinstance(schedule, RateSchedule):
        assert timer.first_fire_s is not None
        moving = rate_base_min(schedule.period_s) is None
        return IndexEntry(
            key=_minute_key(timer, fire_s) if moving else _rate_key(timer, schedule),
            kind="rate",
            second=timer.first_fire_s % 60,
            fire_s=fire_s if moving else None,
            first_fire_s=timer.first_fire_s,
            period_s=schedule.period_s,
            **common,  # type: ignore[arg-type]
        )
    return IndexEntry(
        key=_minute_key(timer, fire_s),
        kind="at" if isinstance(schedule, AtSchedule) else "cron",
        second=fire_s % 60,
        fire_s=fire_s,
        schedule=timer.schedule if isinstance(schedule, CronSchedule) else None,
        timezone=timer.timezone if isinstance(schedule, CronSchedule) else None,
        start_s=timer.start_s if isinstance(schedule, CronSchedule) else None,
        **common,  # type: ignore[arg-type]
    )


def live_index_keys(timer: Timer, *, now_s: int) -> list[IndexKey]:
    """Keys that may hold an item of ``timer`` a ticker can still read: to remove on change.
    None for a heartbeat: its items end when its deadline state does (timer_service.pings)."""
    if timer.ping_hash is not None:
        return []
    timing = timing_of(timer)
    schedule = timing.schedule
    if isinstance(schedule, RateSchedule) and rate_base_min(schedule.period_s) is not None:
        return [_rate_key(timer, schedule)]
    keys: list[IndexKey] = []
    for fire_s in timing.iter_from(now_s - _CRON_LOOKBACK_S):
        keys.append(_minute_key(timer, fire_s))
        if fire_s > now_s or len(keys) == 8:
            break
    return list(dict.fromkeys(keys))


def _rate_key(timer: Timer, schedule: RateSchedule) -> IndexKey:
    assert timer.first_fire_s is not None
    base = rate_base_min(schedule.period_s)
    assert base is not None
    return IndexKey(
        rate_partition(timer.shard, base, (timer.first_fire_s // 60) % base),
        index_sort_key(timer.first_fire_s % 60, timer.owner, timer.id),
    )


def _minute_key(timer: Timer, fire_s: int) -> IndexKey:
    return IndexKey(
        minute_partition(timer.shard, fire_s // 60),
        index_sort_key(fire_s % 60, timer.owner, timer.id),
    )


def fire_times_in_minute(entry: IndexEntry, minute: int) -> list[int]:
    """When ``entry`` fires inside epoch ``minute`` (its partition was read for it): none, one,
    or (a rate of seconds) several, in order."""
    start_s, stop_s = minute * 60, minute * 60 + 59
    if entry.static_rate:
        assert entry.first_fire_s is not None and entry.period_s is not None
        first, period = entry.first_fire_s, entry.period_s
        lower = max(start_s, first, entry.not_before_s or first)
        begin = first + max(0, -(-(lower - first) // period)) * period
        upper = stop_s if entry.end_s is None else min(stop_s, entry.end_s)
        return list(range(begin, upper + 1, period))
    fire_s = entry.fire_s
    if fire_s is None or not start_s <= fire_s <= stop_s:
        return []
    if entry.end_s is not None and fire_s > entry.end_s:
        return []
    if entry.not_before_s is not None and fire_s < entry.not_before_s:
        return []
    return [fire_s]


def is_last_firing(entry: IndexEntry, fire_s: int, following: IndexEntry | None) -> bool:
    """Whether the firing at ``fire_s`` is the timer's last (an ``at``, a chain with no next
    item, a static rate whose next time is past its end): its delivery completes the timer."""
    if entry.kind == "heartbeat":
        return False
    if entry.static_rate:
        assert entry.period_s is not None
        return entry.end_s is not None and fire_s + entry.period_s > entry.end_s
    return following is None


def successor(entry: IndexEntry) -> IndexEntry | None:
    """The next item of a cron or a moving rate (same version), written by the ticker when the
    item fires; None for other items and after the last firing."""
    if entry.fire_s is None:
        return None
    if entry.kind == "rate" and entry.period_s is not None:
        next_s: int | None = entry.fire_s + entry.period_s
        if entry.end_s is not None and next_s is not None and next_s > entry.end_s:
            next_s = None
    elif entry.kind == "cron" and entry.schedule is not None:
        timing = Timing(
            parse_schedule(entry.schedule),
            entry.timezone or "UTC",
            start_s=entry.start_s,
            end_s=entry.end_s,
        )
        next_s = timing.next_fire_s(entry.fire_s + 1)
    else:
        return None
    if next_s is None:
        return None
    key = IndexKey(
        minute_partition(entry.shard, next_s // 60),
        index_sort_key(next_s % 60, entry.owner, entry.timer_id),
    )
    return replace(entry, key=key, fire_s=next_s, second=next_s % 60)
