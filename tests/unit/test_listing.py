"""Listing timers by labels, job type and state (in memory, fixed clock): every match once, by id,
a page at a time; with labels, the timers a page reads grow with the matches, not with all the
owner's timers; without them, each page reads a bounded number of timers."""

from __future__ import annotations

from collections.abc import Sequence

from tests.unit.world import World
from timer_service.listing import MAX_EXAMINED, TimerFilter
from timer_service.models import Timer
from timer_service.store.memory import InMemoryTimerStore


class CountingStore(InMemoryTimerStore):
    """The in-memory store, counting the timers and label items each listing reads."""

    def __init__(self) -> None:
        super().__init__()
        self.timers_read = 0
        self.label_items_read = 0

    def get_timers(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Timer]:
        found = super().get_timers(keys)
        self.timers_read += len(keys)
        return found

    def list_timers(
        self, owner: str, *, limit: int, after_id: str | None
    ) -> tuple[list[Timer], str | None]:
        page, last = super().list_timers(owner, limit=limit, after_id=after_id)
        self.timers_read += len(page)
        return page, last

    def list_labelled(
        self, owner: str, key: str, value: str, *, limit: int, after_id: str | None
    ) -> tuple[list[str], str | None]:
        ids, last = super().list_labelled(owner, key, value, limit=limit, after_id=after_id)
        self.label_items_read += len(ids) + (last is not None)
        return ids, last


def every_page(world: World, where: TimerFilter, limit: int) -> list[list[str]]:
    pages, token = [], None
    while True:
        page = world.service.list("alice", limit=limit, next_token=token, where=where)
        pages.append([t.id for t in page.items])
        token = page.next_token
        if token is None:
            return pages


def labelled_world(count: int) -> tuple[World, CountingStore]:
    """``count`` timers: every 100th team=pay, every 2nd env=prod, every 3rd a webhook."""
    store = CountingStore()
    world = World(store)
    for n in range(count):
        labels = {"env": "prod" if n % 2 == 0 else "dev"}
        if n % 100 == 0:
            labels["team"] = "pay"
        job = {"jobType": "webhook", "job": {"url": "https://example.com/h"}} if n % 3 == 0 else {}
        world.put(f"t{n:05d}", schedule="rate(1 hour)", labels=labels, **job)
    return world, store


def test_a_label_lists_its_timers_reading_about_as_many_as_it_shows() -> None:
    # GIVEN 10,000 timers, 1 % labelled team=pay
    world, store = labelled_world(10_000)
    store.timers_read = store.label_items_read = 0
    # WHEN the first 50 of them are listed
    page = world.service.list("alice", limit=50, where=TimerFilter(labels={"team": "pay"}))
    # THEN the page holds 50, read from 51 label items and 50 timers, not 10,000
    assert [t.id for t in page.items] == [f"t{n:05d}" for n in range(0, 5000, 100)]
    assert page.next_token == "t04900"
    assert (store.label_items_read, store.timers_read) == (51, 50)
    # AND the next page ends the listing
    rest = world.service.list(
        "alice", limit=50, next_token=page.next_token, where=TimerFilter(labels={"team": "pay"})
    )
    assert [t.id for t in rest.items] == [f"t{n:05d}" for n in range(5000, 10_000, 100)]
    assert rest.next_token is None


def test_two_labels_read_the_timers_of_the_more_selective_one() -> None:
    # GIVEN 2,000 timers: 20 team=pay, 1,000 env=prod (every team=pay one among them)
    world, store = labelled_world(2000)
    store.timers_read = 0
    # WHEN those with both labels are listed
    where = TimerFilter(labels={"env": "prod", "team": "pay"})
    pages = every_page(world, where, limit=50)
    # THEN all 20 are there, and no more timers were read than team=pay has
    assert pages == [[f"t{n:05d}" for n in range(0, 2000, 100)]]
    assert store.timers_read <= 20
    # AND a pair no timer has next to a common one reads no timer
    store.timers_read = 0
    none = TimerFilter(labels={"env": "prod", "team": "nobody"})
    assert every_page(world, none, limit=50) == [[]]
    assert store.timers_read == 0


def test_labels_with_a_job_type_keep_the_timers_that_have_both() -> None:
    world, _ = labelled_world(1000)
    where = TimerFilter(labels={"team": "pay"}, job_type="webhook")
    found = [i for page in every_page(world, where, limit=2) for i in page]
    assert found == [f"t{n:05d}" for n in range(0, 1000, 100) if n % 3 == 0]


def test_job_type_and_state_filter_without_labels_page_to_every_match() -> None:
    # GIVEN 30 timers: every 3rd a webhook, every 5th paused, one completed
    world = World()
    for n in range(30):
        job = {"jobType": "webhook", "job": {"url": "https://example.com/h"}} if n % 3 == 0 else {}
        world.put(f"t{n:02d}", schedule="rate(1 hour)", enabled=n % 5 != 0, **job)
    world.put("z-once", schedule="at(2026-11-22T12:00:30)")
    world.clock.advance(60)  # its one firing is past: completed
    # WHEN each filter is listed to the end, 4 a page
    webhooks = [i for p in every_page(world, TimerFilter(job_type="webhook"), 4) for i in p]
    paused = [i for p in every_page(world, TimerFilter(state="paused"), 4) for i in p]
    done = [i for p in every_page(world, TimerFilter(state="completed"), 4) for i in p]
    both = TimerFilter(job_type="webhook", state="active")
    active_hooks = [i for p in every_page(world, both, 4) for i in p]
    # THEN each holds exactly the timers that match, by id
    assert webhooks == [f"t{n:02d}" for n in range(0, 30, 3)]
    assert paused == [f"t{n:02d}" for n in range(0, 30, 5)]
    assert done == ["z-once"]
    assert active_hooks == [f"t{n:02d}" for n in range(0, 30, 3) if n % 5 != 0]


def test_a_page_without_labels_reads_a_bounded_number_of_timers() -> None:
    # GIVEN 2,500 timers, none a webhook
    store = CountingStore()
    world = World(store)
    for n in range(2500):
        world.put(f"t{n:05d}", schedule="rate(1 hour)")
    store.timers_read = 0
    # WHEN webhooks are listed
    first = world.service.list("alice", limit=50, where=TimerFilter(job_type="webhook"))
    # THEN a page stops after MAX_EXAMINED timers, empty, with a token to go on from
    assert first.items == []
    assert first.next_token is not None
    assert store.timers_read <= MAX_EXAMINED
    # AND following the tokens ends the listing, with nothing found
    pages = every_page(world, TimerFilter(job_type="webhook"), limit=50)
    assert all(page == [] for page in pages)
    assert len(pages) == 3


def test_timers_that_leave_a_label_between_pages_are_not_listed_twice_or_lost() -> None:
    world, _ = labelled_world(1000)
    where = TimerFilter(labels={"team": "pay"})
    first = world.service.list("alice", limit=4, where=where)
    assert [t.id for t in first.items] == ["t00000", "t00100", "t00200", "t00300"]
    # WHEN one listed and one not yet listed lose the label, and a new one gains it
    world.service.relabel("alice", "t00100", put={}, remove=["team"])
    world.service.relabel("alice", "t00500", put={"team": "ops"})
    world.service.relabel("alice", "t00777", put={"team": "pay"})
    rest = world.service.list("alice", limit=50, next_token=first.next_token, where=where)
    # THEN the rest of the listing is the label's timers after the token, as they are now
    assert [t.id for t in rest.items] == [
        "t00400",
        "t00600",
        "t00700",
        "t00777",
        "t00800",
        "t00900",
    ]
