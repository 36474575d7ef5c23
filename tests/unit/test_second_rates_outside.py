"""``rate(N seconds)`` against an independent implementation of "every N seconds from a
start": APScheduler's ``IntervalTrigger`` (PyPI ``apscheduler`` 3.x,
apscheduler/triggers/interval.py), whose next fire time after an instant is the start plus the
least whole number of intervals reaching it. For any period, anchor and instant, the service's
fire times (the schedule's and what the ticker reads from the index, minute by minute) are
APScheduler's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.triggers.interval import IntervalTrigger
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.world import T0
from timer_service.models import Timer
from timer_service.schedules import Timing, parse_schedule
from timer_service.time_index import fire_times_in_minute, index_entry


def apscheduler_fires(period_s: int, anchor_s: int, after_s: int, count: int) -> list[int]:
    start = datetime.fromtimestamp(anchor_s, tz=UTC)
    trigger = IntervalTrigger(seconds=period_s, start_date=start, timezone=UTC)
    fires: list[int] = []
    previous = None
    now = datetime.fromtimestamp(after_s, tz=UTC) - timedelta(microseconds=1)
    while len(fires) < count:
        fire = trigger.get_next_fire_time(previous, now)
        assert fire is not None
        fires.append(int(fire.timestamp()))
        previous, now = fire, fire
    return fires


@settings(max_examples=300, deadline=None)
@given(
    period_s=st.integers(1, 600),
    anchor_offset_s=st.integers(0, 3600),
    after_offset_s=st.integers(0, 7200),
)
def test_second_rate_fire_times_are_apscheduler_s(
    period_s: int, anchor_offset_s: int, after_offset_s: int
) -> None:
    unit = "second" if period_s == 1 else "seconds"
    anchor_s = T0 + anchor_offset_s
    after_s = anchor_s + after_offset_s
    timing = Timing(parse_schedule(f"rate({period_s} {unit})"), first_fire_s=anchor_s)
    assert timing.next_fires(after_s, 10) == apscheduler_fires(period_s, anchor_s, after_s, 10)


@settings(max_examples=100, deadline=None)
@given(period_s=st.integers(1, 600), anchor_offset_s=st.integers(0, 3600))
def test_what_the_ticker_reads_minute_by_minute_is_apscheduler_s(
    period_s: int, anchor_offset_s: int
) -> None:
    unit = "second" if period_s == 1 else "seconds"
    anchor_s = T0 + anchor_offset_s
    timer = Timer(
        owner="o",
        id="t",
        shard=0,
        schedule=f"rate({period_s} {unit})",
        first_fire_s=anchor_s,
        created_s=T0,
        updated_s=T0,
    )
    entry = index_entry(timer, after_s=T0)
    assert entry is not None
    first_minute = anchor_s // 60
    fired: list[int] = []
    for minute in range(first_minute, first_minute + 30):
        if entry.fire_s is None or entry.fire_s // 60 == minute:  # a moving item: its minute
            fired += fire_times_in_minute(entry, minute)
    expected = [
        s
        for s in apscheduler_fires(period_s, anchor_s, anchor_s, 2000)
        if s < (first_minute + 30) * 60
    ]
    assert fired == expected
