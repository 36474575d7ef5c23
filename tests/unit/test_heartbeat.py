"""Heartbeat timers (a dead man's switch) on a fixed clock, second by second.

The model is Healthchecks.io's (https://healthchecks.io/docs/configuring_checks/): "Period is
the expected time between pings. Grace Time is the additional time to wait before sending an
alert when a check is late"; a new check "has not received any pings yet" and is not watched
until it does (https://healthchecks.io/docs/). A ping moves the deadline to ping + period +
grace; a deadline that passes unpinged fires the timer's job once and is recorded; the next
ping is recorded as a recovery.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from tests.unit.world import T0, World
from timer_service.delivery import Delivered
from timer_service.dispatch import Firing
from timer_service.errors import InvalidRequestError, PingTokenNotFoundError
from timer_service.heartbeat import token_hash
from timer_service.models import TimerSpec
from timer_service.pings import Heartbeats

PERIOD_S, GRACE_S = 300, 60
ALLOW_S = PERIOD_S + GRACE_S


class Beat:
    """A World with one heartbeat timer ``hb`` (period 5 min, grace 1 min, job ``counted``),
    its ping token, and a loop that runs the stack one second at a time: at second 1 of each
    minute the ticker, then the pings due, then delivery of every message visible by then."""

    def __init__(self, **fields: Any) -> None:
        self.world = World()
        spec = {
            "heartbeat": {"periodSeconds": PERIOD_S, "graceSeconds": GRACE_S},
            "jobType": "counted",
            "history": "all",
        } | fields
        result = self.world.service.put("alice", "hb", TimerSpec.model_validate(spec))
        assert result.ping_token is not None
        self.token = result.ping_token
        self.pinger = Heartbeats(store=self.world.store, clock=self.clock)
        self.outcomes: list[tuple[Firing, Delivered]] = []
        self._delivered = 0

    @property
    def clock(self) -> Any:
        return self.world.clock

    def ping(self) -> Any:
        return self.pinger.ping(self.token)

    def run_until(self, end_s: int, *, pings: Iterable[int] = ()) -> None:
        due = sorted(pings)
        while self.clock.now() < end_s:
            now_s = int(self.clock.now())
            if now_s % 60 == 1:
                self.world.engine.tick(0)
            while due and due[0] <= now_s:
                due.pop(0)
                self.ping()
            self.deliver_visible()
            self.clock.advance(1)

    def deliver_visible(self) -> None:
        sent = self.world.queue.sent
        while self._delivered < len(sent) and sent[self._delivered][1] <= self.clock.now():
            firing, _ = sent[self._delivered]
            outcome = self.world.delivery.deliver(
                firing,
                attempt=1,
                reads=self.world.delivery.reads([firing]),
                delivery_id=f"m{self._delivered}",
            )
            self.outcomes.append((firing, outcome))
            self._delivered += 1

    def job_runs(self) -> list[int]:
        """The scheduled seconds the job ran for."""
        return sorted(s for (timer_id, s), n in self.world.runs.items() for _ in range(n))

    def view(self) -> Any:
        return self.world.service.get("alice", "hb").heartbeat

    def history(self) -> list[tuple[str | None, str]]:
        return [(r.heartbeat, r.scheduled_at) for r in self.world.service.runs("alice", "hb").items]


def test_new_heartbeat_is_not_watched_before_its_first_ping() -> None:
    beat = Beat()
    beat.run_until(T0 + 1800)
    assert beat.job_runs() == []
    assert beat.view().status == "new"
    assert beat.world.queue.sent == []


def test_heartbeat_pinged_in_time_never_fires() -> None:
    beat = Beat()
    pings = range(T0 + 10, T0 + 3600, PERIOD_S)  # every period, well inside period + grace
    beat.run_until(T0 + 3600, pings=pings)
    assert beat.job_runs() == []
    assert beat.view().status == "up"
    assert beat.history() == []


def test_missed_deadline_fires_the_job_once_at_the_deadline_and_records_it() -> None:
    # GIVEN a heartbeat pinged once, at 12:00:10
    beat = Beat()
    beat.run_until(T0 + 1800, pings=[T0 + 10])
    # THEN the job ran once, for the deadline 12:06:10, no earlier, and nothing more after it
    deadline_s = T0 + 10 + ALLOW_S
    assert beat.job_runs() == [deadline_s]
    ((firing, outcome),) = [(f, o) for f, o in beat.outcomes if o.outcome == "delivered"]
    assert firing.heartbeat and firing.scheduled_s == deadline_s
    assert outcome.lateness_s is not None and 0 <= outcome.lateness_s < 1
    assert beat.history() == [("missed", "2026-11-22T12:06:10Z")]
    view = beat.view()
    assert (view.status, view.deadline) == ("down", "2026-11-22T12:06:10Z")


def test_next_ping_after_a_miss_records_a_recovery_and_watches_again() -> None:
    beat = Beat()
    beat.run_until(T0 + 900, pings=[T0 + 10])  # missed at 12:06:10
    # WHEN it is pinged at 12:15:00 THEN a recovery is recorded and it is up again
    recovered = beat.ping()
    assert recovered.recovered and recovered.status == "up"
    assert beat.history()[0] == ("recovered", "2026-11-22T12:15:00Z")
    assert beat.view().status == "up"
    # AND a second miss (no ping after 12:15:00) fires once more, at 12:21:00
    beat.run_until(T0 + 3600)
    assert beat.job_runs() == [T0 + 10 + ALLOW_S, T0 + 900 + ALLOW_S]


def test_a_ping_costs_one_write_and_no_read() -> None:
    beat = Beat()
    beat.ping()  # the first ping arms the heartbeat (a few writes, once)
    writes, reads = beat.world.store.writes, beat.world.store.reads
    answer = beat.ping()
    assert (beat.world.store.writes - writes, beat.world.store.reads - reads) == (1, 0)
    assert answer.status == "up" and not answer.recovered


@pytest.mark.parametrize(
    ("grace_s", "checks_a_period", "writes_a_period"),
    [(600, 0, 2), (60, 1, 3)],
    ids=["grace over the read-ahead", "grace under it"],
)
def test_a_steadily_pinged_heartbeat_costs_a_bounded_few_writes_a_period(
    grace_s: int, checks_a_period: int, writes_a_period: int
) -> None:
    # GIVEN a heartbeat pinged every period, for two hours of ticks
    beat = Beat(heartbeat={"periodSeconds": PERIOD_S, "graceSeconds": grace_s})
    beat.run_until(T0 + 60, pings=[T0 + 10])
    writes, sent = beat.world.store.writes, len(beat.world.queue.sent)
    hours = 2
    pings = range(T0 + 70, T0 + 60 + hours * 3600, PERIOD_S)
    beat.run_until(T0 + 60 + hours * 3600, pings=pings)
    # THEN beyond each tick's lease and watermark (2 writes): the ping's one write, the
    # ticker's move of its item; and with a grace shorter than the ticker reads ahead (a
    # minute or two), a deadline sent each period that the next ping cancels (a failed
    # conditional write)
    periods = hours * 3600 // PERIOD_S
    tick_writes = 2 * hours * 60
    assert beat.job_runs() == []
    assert len(beat.world.queue.sent) - sent <= checks_a_period * periods
    assert beat.world.store.writes - writes - tick_writes <= writes_a_period * periods


def test_unknown_token_is_not_found_and_writes_nothing() -> None:
    beat = Beat()
    writes = beat.world.store.writes
    with pytest.raises(PingTokenNotFoundError):
        beat.pinger.ping("x" * 43)
    assert beat.world.store.writes - writes <= 1  # the refused conditional update at most


def test_token_is_unguessable_and_stored_only_as_its_hash() -> None:
    beat = Beat()
    other = Beat()
    assert len(beat.token) >= 43 and beat.token != other.token  # 256 bits from secrets
    stored = repr(beat.world.store.__dict__)
    assert beat.token not in stored
    assert token_hash(beat.token) in stored


def test_ping_landing_before_the_tick_sent_deadline_is_delivered_wins() -> None:
    # GIVEN pinged at 12:00:10: the 12:05:01 tick reads minute 12:06 and sends the deadline
    beat = Beat()
    beat.run_until(T0 + 300 + 2, pings=[T0 + 10])
    checks = [f for f, _ in beat.world.queue.sent if f.heartbeat]
    assert [f.scheduled_s for f in checks] == [T0 + 10 + ALLOW_S]
    # WHEN a ping lands at 12:06:05, five seconds before that deadline is delivered
    beat.run_until(T0 + 366, pings=[T0 + 365])
    beat.run_until(T0 + 3 * 600)
    # THEN the deadline is not run (the ping moved it), and the next one is watched: 12:12:05
    assert [o.outcome for f, o in beat.outcomes if f.scheduled_s == T0 + 370] == ["pinged"]
    assert beat.job_runs() == [T0 + 365 + ALLOW_S]


def test_ping_landing_after_the_deadline_but_before_its_delivery_wins() -> None:
    beat = Beat()
    beat.run_until(T0 + 302, pings=[T0 + 10])  # the deadline 12:06:10 is on its way
    beat.clock.set(T0 + 372)  # the delivery is two seconds late; the ping lands first
    beat.ping()
    beat.deliver_visible()
    assert [o.outcome for _, o in beat.outcomes] == ["pinged"]
    assert beat.job_runs() == []
    assert beat.history() == []  # neither missed nor recovered: the first write won


def test_ping_landing_after_the_deadline_was_delivered_is_a_recovery() -> None:
    beat = Beat()
    beat.run_until(T0 + 371, pings=[T0 + 10])  # 12:06:10 delivered: missed, the job ran
    assert beat.job_runs() == [T0 + 370]
    answer = beat.ping()
    assert answer.recovered
    assert [h for h, _ in beat.history()] == ["recovered", "missed"]


def test_two_messages_of_one_deadline_run_the_job_once() -> None:
    beat = Beat()
    beat.run_until(T0 + 302, pings=[T0 + 10])
    (check,) = [f for f, _ in beat.world.queue.sent if f.heartbeat]
    beat.world.queue.send([check])  # a duplicate message of that firing
    beat.run_until(T0 + 900)
    assert beat.job_runs() == [T0 + 370]


def test_paused_heartbeat_misses_without_running_and_without_firing_again() -> None:
    beat = Beat()
    beat.run_until(T0 + 60, pings=[T0 + 10])
    beat.world.service.set_enabled("alice", "hb", enabled=False)
    beat.run_until(T0 + 3600)
    assert beat.job_runs() == []
    checks = [f for f, _ in beat.world.queue.sent if f.heartbeat]
    assert len({f.scheduled_s for f in checks}) == 1  # its one deadline, checked once
    assert len(checks) <= 2


def test_deleted_heartbeat_does_not_fire_and_its_token_stops_working() -> None:
    beat = Beat()
    beat.run_until(T0 + 60, pings=[T0 + 10])
    beat.world.service.delete("alice", "hb")
    beat.run_until(T0 + 1800)
    assert beat.job_runs() == []
    with pytest.raises(PingTokenNotFoundError):
        beat.ping()


def test_replacing_a_heartbeat_keeps_its_token_and_takes_the_new_period_at_the_next_ping() -> None:
    beat = Beat()
    beat.ping()
    spec = {"heartbeat": {"periodSeconds": 600, "graceSeconds": 0}, "jobType": "counted"}
    replaced = beat.world.service.put("alice", "hb", TimerSpec.model_validate(spec))
    assert replaced.ping_token is None  # no new token: the old URL still pings
    writes = beat.world.store.writes
    answer = beat.ping()
    assert answer.deadline == "2026-11-22T12:10:01Z"  # 12:00:01 + 600 s
    assert beat.world.store.writes - writes == 1  # still watched: not armed again


@pytest.mark.parametrize("field", ["schedule", "startAt", "endAt"])
def test_heartbeat_with_a_schedule_field_is_refused_naming_it(field: str) -> None:
    world = World()
    value = {"schedule": "rate(5 minutes)", "startAt": "2027-01-01T00:00:00Z"}.get(
        field, "2027-01-01T00:00:00Z"
    )
    spec = TimerSpec.model_validate({"heartbeat": {}, field: value})
    with pytest.raises(InvalidRequestError) as refused:
        world.service.put("alice", "hb", spec)
    assert refused.value.field == field


def test_heartbeat_timer_cannot_be_backfilled() -> None:
    from timer_service.backfill import BackfillRequest

    beat = Beat()
    request = BackfillRequest.model_validate(
        {"from": "2026-11-22T11:00:00Z", "to": "2026-11-22T12:00:00Z"}
    )
    with pytest.raises(InvalidRequestError) as refused:
        beat.world.service.backfill("alice", "hb", request)
    assert refused.value.field == "id"


def test_heartbeat_defaults_are_healthchecks_ones_and_its_history_keeps_all() -> None:
    world = World()
    result = world.service.put("alice", "hb", TimerSpec.model_validate({"heartbeat": {}}))
    view = result.view
    assert view.heartbeat is not None
    assert (view.heartbeat.period_seconds, view.heartbeat.grace_seconds) == (86400, 3600)
    assert view.history == "all"
    assert view.next_fire_times == []
    assert view.schedule == "heartbeat"
