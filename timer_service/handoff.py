"""The API's side of the create-during-tick race: write a timer, then send the firings of minutes
its shard's ticker has already claimed (DESIGN.md, "Create/update race").

Either the ticker's read sees the write, or the API's read of ``claimed`` sees the claim: no
firing is lost. Firings the API sends are marked raced, and delivery runs each once.
"""

from __future__ import annotations

from dataclasses import replace

from timer_service.bursts import handoff_bound, take_burst
from timer_service.change_log import note_write
from timer_service.dispatch import DispatchQueue, Firing
from timer_service.keys import heartbeat_key
from timer_service.models import ShardState, Timer
from timer_service.store.base import TimerStore
from timer_service.tick import scheduled_firings
from timer_service.time_index import IndexEntry, index_entry, live_index_keys, successor, timing_of

__all__ = ["RACE_HORIZON_S", "hand_over", "write_timer"]

# A ticker claims at most a few minutes ahead; firings later than this cannot be claimed yet.
RACE_HORIZON_S = 300


def write_timer(
    store: TimerStore,
    queue: DispatchQueue | None,
    timer: Timer,
    previous: Timer | None,
    *,
    now_s: int,
    count_limit: int | None,
    firing_limit: int | None = None,
    lookahead_minutes: int = 1,
) -> None:
    """Write ``timer`` (replacing ``previous``) with its index item, make sure its shard's ticker
    reads the item's rate base, then send any firing in a minute the ticker already claimed.

    The hand-off's firings come out of the owner's budget of unscheduled firings
    (:mod:`timer_service.bursts`), taken before anything is written: a fast rate's is up to two
    minutes of firings per write."""
    timer, from_s = hand_over(timer, previous, now_s)
    entry = index_entry(timer, after_s=from_s)
    if queue is not None and entry is not None and entry.kind != "heartbeat":
        bound = handoff_bound(timer, now_s=from_s, lookahead_minutes=lookahead_minutes)
        take_burst(store, timer.owner, bound, now_s=now_s, firing_limit=firing_limit)
    if entry is not None:
        entry = replace(entry, api_written_s=now_s)
    remove = [] if previous is None else live_index_keys(previous, now_s=now_s)
    if previous is not None and previous.ping_hash not in (None, timer.ping_hash):
        remove.append(heartbeat_key(previous.ping_hash))  # no longer a heartbeat: its state
    if previous is not None:  # its firings in flight are delivered from a read of it now
        note_write(store, [previous.shard, timer.shard], timer.owner, timer.id, now_s)
    store.save_timer(
        timer,
        expected_version=None if previous is None else previous.version,
        remove=remove,
        index=entry,
        count_limit=count_limit,
        replaces=previous,
        firing_limit=firing_limit,
    )
    if entry is None:
        return
    state = None
    base = entry.base_min
    if base is not None:
        # After the write: a tick that claims from here on reads the base; one that claimed
        # before shows in the read of `claimed` that follows (and its firings are sent).
        state = store.get_shard_state(timer.shard)
        if base not in state.bases or base in state.retiring:
            store.ensure_base(timer.shard, base)
            state = store.get_shard_state(timer.shard)
    _send_claimed_firings(store, queue, timer, entry, from_s, state)


def hand_over(timer: Timer, previous: Timer | None, now_s: int) -> tuple[Timer, int]:
    """``timer`` marked with the firings of ``previous`` that still run, and the second its
    own firings start from.

    The second of the write is run by one version only: by ``previous`` when it is due then
    (its firing may have run before the write, or arrive after it: either way once), else by
    ``timer``. Firings ``previous`` had due before then still run if they arrive late, once.
    A second write in the same second keeps the first one's hand-over; after a pause or a
    completion in this second of a version due now, the second is not run again."""
    written_now = previous is not None and now_s in (previous.updated_s, previous.completed_s)
    if previous is None or previous.ping_hash is not None:
        return _marked(timer, None, None), now_s
    if not previous.enabled or previous.completed_s is not None:
        # its firings are skipped; one due now may have run before it was paused or completed
        ran_now = written_now and _due_at(previous, now_s)
        return _marked(timer, None, None), now_s + 1 if ran_now else now_s
    if (
        written_now
        and previous.prior_version is not None
        and previous.prior_until_s is not None
        and previous.prior_until_s >= now_s - 1
    ):  # replaced in this second already: it has no firing of its own before the hand-over
        version, until_s = previous.prior_version, previous.prior_until_s
    else:
        version = previous.firing_version
        until_s = now_s if _due_at(previous, now_s) else now_s - 1
    return _marked(timer, version, until_s), until_s + 1


def _due_at(timer: Timer, second: int) -> bool:
    return timing_of(timer).next_fire_s(second) == second


def _marked(timer: Timer, version: int | None, until_s: int | None) -> Timer:
    return timer.model_copy(update={"prior_version": version, "prior_until_s": until_s})


def _send_claimed_firings(
    store: TimerStore,
    queue: DispatchQueue | None,
    timer: Timer,
    entry: IndexEntry,
    now_s: int,
    state: ShardState | None,
) -> None:
    """Close the create-during-tick race: after the write, a firing in a minute the
    shard's ticker has already claimed may have been missed by its read, so send it here.
    Either the ticker's read saw the write or this read sees the claim (DESIGN.md)."""
    if queue is None:
        return
    fires = timing_of(timer).iter_from(now_s)
    first_s = next(fires, None)
    if first_s is None or first_s - now_s > RACE_HORIZON_S:
        return
    claimed = (state or store.get_shard_state(timer.shard)).claimed
    if claimed is None or first_s // 60 > claimed:
        return
    firings: list[Firing] = []
    if entry.fire_s is not None and entry.kind != "at":  # a chain: cron, moving rate
        current: IndexEntry | None = entry
        while current is not None and current.fire_s is not None:
            if current.fire_s // 60 > claimed:
                break
            following = successor(current)
            if following is not None:
                store.put_successor(following)
            firings += _firing(timer, current.fire_s, following, last=following is None)
            current = following
    else:
        fire_s: int | None = first_s
        while fire_s is not None and fire_s // 60 <= claimed:
            after = next(fires, None)
            firings += _firing(timer, fire_s, None, last=after is None)
            fire_s = after
    queue.send(firings)


def _firing(timer: Timer, fire_s: int, following: IndexEntry | None, *, last: bool) -> list[Firing]:
    """A firing the API sends because its minute was claimed: the ticker's read may have
    seen the write too, so it is marked raced (delivered once, by a claim)."""
    return scheduled_firings(
        timer.owner,
        timer.id,
        timer.firing_version,
        fire_s,
        following=following,
        raced=True,
        jitter_s=timer.jitter_s,
        last=last,
        incarnation=timer.created_s,
    )
