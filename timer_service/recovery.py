"""Derived state rebuilt from the timers, which are the source of truth.

The time index is derived: every item can be computed again from its timer and the shard's
progress. Rebuilding it after restoring saved state makes the restore independent of the
index's item format and of anything the saved index missed.
"""

from __future__ import annotations

from dataclasses import replace

from timer_service.store.base import TimerStore
from timer_service.time_index import index_entry

__all__ = ["rebuild_index"]


def rebuild_index(store: TimerStore, *, now_s: int) -> int:
    """Write every enabled timer's index item again; the number written.

    Each item starts from the first minute its shard has not sent yet, so firings due while
    the service was down are caught up by the next tick, per each timer's misfire policy.
    Items already there (of the same version) are overwritten with the same content.
    """
    written = 0
    for shard in sorted(store.count_timers_by_shard()):
        state = store.get_shard_state(shard)
        after_s = now_s if state.done is None else min(now_s, (state.done + 1) * 60)
        for timer in store.timers_on_shard(shard):
            entry = index_entry(timer, after_s=after_s)
            if entry is None:
                continue
            if entry.base_min is not None:
                store.ensure_base(shard, entry.base_min)
            # The API wrote it: when the first firing is near, delivery may need its claim.
            store.put_successor(replace(entry, api_written_s=now_s))
            written += 1
    return written
