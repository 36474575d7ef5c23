"""A handler's assembly (timer_service.wiring.Wired): built once per process from the
environment, rebuilt on a cold start, and the one hook by which tests and the local stack put
in a clock or a part of their own."""

from __future__ import annotations

import pytest

from timer_service import wiring
from timer_service.clock import FixedClock, SystemClock
from timer_service.settings import Settings


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name, value in Settings(table_name="first", max_attempts=2).to_env().items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_a_part_is_built_once_from_the_environment(environment: pytest.MonkeyPatch) -> None:
    wired = wiring.Wired()
    builds: list[wiring.Context] = []
    part = wired.part(lambda context: builds.append(context) or context.settings.table_name)
    assert (part(), part()) == ("first", "first")
    assert len(builds) == 1
    assert isinstance(builds[0].clock, SystemClock)
    assert wired.settings().max_attempts == 2


def test_a_cold_start_reads_the_environment_again(environment: pytest.MonkeyPatch) -> None:
    wired = wiring.Wired()
    part = wired.part(lambda context: context.settings.table_name)
    assert part() == "first"
    environment.setenv(Settings.env_name("table_name"), "second")
    assert part() == "first"  # a warm instance keeps what it built
    wired.cold_start()
    assert part() == "second"


def test_a_clock_and_sleep_put_in_are_what_parts_are_built_with(
    environment: pytest.MonkeyPatch,
) -> None:
    wired = wiring.Wired()
    part = wired.part(lambda context: (context.clock, context.sleep))
    system_clock, _ = part()
    clock = FixedClock(1000.0)
    wired.use_clock(clock, sleep=clock.advance)
    assert part() == (clock, clock.advance)
    wired.cold_start()  # the clock put in stays
    assert part()[0] is clock
    wired.use_clock(None)
    assert isinstance(part()[0], SystemClock) and part()[0] is not system_clock


def test_a_part_put_in_is_used_until_taken_out(environment: pytest.MonkeyPatch) -> None:
    wired = wiring.Wired()
    part = wired.part(lambda context: context.settings.table_name)
    part.use("mine")
    wired.cold_start()
    assert part() == "mine"
    part.use(None)
    assert part() == "first"


def test_a_part_that_is_none_is_built_once(environment: pytest.MonkeyPatch) -> None:
    wired = wiring.Wired()
    builds: list[int] = []
    part = wired.part(lambda context: builds.append(1))
    assert (part(), part()) == (None, None)
    assert builds == [1]
