"""Pages of an owner's timers by id, filtered by labels, job type and state, each a bounded read.

Without a label the page reads the owner's timers in id order (the ``byOwner`` index) and keeps
those that match: its reads grow with the owner's timers. With labels it reads label items
instead (:func:`timer_service.keys.label_key`: one per timer and label, sorted by id): each
round reads the next ids of every given pair's partition, drives on the most selective of them
(a partition that ends first, else the one whose ids spread widest, the sparsest in id space),
drops the ids another pair's partition shows it lacks, and reads only the rest of the timers
(BatchGetItem), which are checked against every filter: what a page reads grows with the timers
that match, not with all the owner's.

A page examines at most :data:`MAX_EXAMINED` timers; it may then hold fewer than ``limit``
timers, even none, and a ``nextToken`` (the last id examined): follow it to the end.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from timer_service.completion import State, state_of
from timer_service.labels import matches
from timer_service.models import Timer
from timer_service.store.base import TimerStore

__all__ = ["MAX_EXAMINED", "TimerFilter", "list_timers"]

MAX_EXAMINED = 1000  # timers one page reads at most before it answers
_ROUND = 100  # ids a round reads from each partition when timers may not match (a BatchGetItem)


@dataclass(frozen=True)
class TimerFilter:
    """What the timers of a listing have: every label of ``labels``, and the job type and
    state when given (None: any)."""

    labels: Mapping[str, str] = field(default_factory=dict)
    job_type: str | None = None
    state: State | None = None

    @property
    def empty(self) -> bool:
        return not self.labels and self.job_type is None and self.state is None

    def admits(self, timer: Timer, now_s: int) -> bool:
        return (
            matches(timer.labels, self.labels)
            and (self.job_type is None or timer.job_type == self.job_type)
            and (self.state is None or state_of(timer, now_s) == self.state)
        )


@dataclass(frozen=True)
class _Round:
    """Ids examined in order, each with its timer (None: gone, or shown not to match), and
    whether the source holds more ids after the last."""

    found: list[tuple[str, Timer | None]]
    more: bool


def list_timers(
    store: TimerStore,
    owner: str,
    *,
    limit: int,
    after_id: str | None,
    where: TimerFilter,
    now_s: int,
) -> tuple[list[Timer], str | None]:
    """Up to ``limit`` of the owner's timers that ``where`` admits, by id after ``after_id``;
    and the id to continue after when more may follow (module docstring)."""
    if where.empty:
        return store.list_timers(owner, limit=limit, after_id=after_id)
    # Where every timer read matches (labels alone), a round reads no more than the page needs.
    exact = where.job_type is None and where.state is None
    page: list[Timer] = []
    examined = 0
    for round_ in _rounds(store, owner, where, after_id, exact=exact, limit=limit):
        for index, (timer_id, timer) in enumerate(round_.found):
            examined += 1
            if timer is not None and where.admits(timer, now_s):
                page.append(timer)
            if len(page) == limit:
                rest = index + 1 < len(round_.found) or round_.more
                return page, timer_id if rest else None
        if not round_.more:
            return page, None
        if examined >= MAX_EXAMINED:
            return page, round_.found[-1][0] if round_.found else after_id
    return page, None


def _rounds(
    store: TimerStore,
    owner: str,
    where: TimerFilter,
    after_id: str | None,
    *,
    exact: bool,
    limit: int,
) -> Iterator[_Round]:
    cursor = after_id
    while True:
        wanted = limit if exact else _ROUND
        if where.labels:
            round_ = _labelled_round(store, owner, where.labels, cursor, wanted)
        else:
            timers, last = store.list_timers(owner, limit=wanted, after_id=cursor)
            round_ = _Round([(t.id, t) for t in timers], more=last is not None)
        yield round_
        if not round_.found:
            return
        cursor = round_.found[-1][0]


def _labelled_round(
    store: TimerStore, owner: str, labels: Mapping[str, str], cursor: str | None, wanted: int
) -> _Round:
    """The next ids of the most selective pair, the others' partitions read as far."""
    probes = {
        pair: store.list_labelled(owner, *pair, limit=wanted, after_id=cursor)
        for pair in sorted(labels.items())
    }

    ended = [pair for pair, (_, last) in probes.items() if last is None]
    if ended:  # a partition that ends here: the shortest drives
        driver = min(ended, key=lambda pair: len(probes[pair][0]))
    else:  # else the sparsest: its ids reach furthest
        driver = max(probes, key=lambda pair: probes[pair][0][-1])
    ids, last = probes[driver]
    known = []  # (ids, how far they cover) of the other pairs
    for pair, (other, other_last) in probes.items():
        if pair != driver:
            known.append((set(other), None if other_last is None else other[-1]))
    kept = [
        timer_id
        for timer_id in ids
        if all(
            timer_id in have or (reach is not None and timer_id > reach) for have, reach in known
        )
    ]
    timers = store.get_timers([(owner, timer_id) for timer_id in kept]) if kept else {}
    return _Round([(i, timers.get((owner, i))) for i in ids], more=last is not None)
