"""A dict-backed TimerStore with the DynamoDB adapter's semantics, for tests and simulation."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace

from timer_service.completion import write_change
from timer_service.errors import (
    FiringRateExceededError,
    QuotaExceededError,
    StoreError,
    VersionConflictError,
)
from timer_service.heartbeat import HeartbeatState
from timer_service.keys import IndexKey, heartbeat_key
from timer_service.models import ShardRegistry, ShardState, Timer
from timer_service.runs import Run
from timer_service.signing_secrets import OwnerSecrets
from timer_service.store.memory_changes import MemoryChanges
from timer_service.store.memory_completion import MemoryCompletion
from timer_service.store.memory_feeds import MemoryFeeds
from timer_service.store.memory_flow import MemoryFlow
from timer_service.store.memory_labels import MemoryLabels
from timer_service.store.memory_packs import MemoryPacks
from timer_service.store.memory_signing import MemorySigningSecrets
from timer_service.time_index import IndexEntry

__all__ = ["InMemoryTimerStore"]


class InMemoryTimerStore(  # MemoryFeeds first: its _forget_feed, not MemoryCompletion's stub
    MemoryFeeds,
    MemoryLabels,
    MemoryCompletion,
    MemoryFlow,
    MemorySigningSecrets,
    MemoryChanges,
    MemoryPacks,
):
    """TimerStore in process memory; thread-safe."""

    def __init__(self) -> None:
        MemoryLabels.__init__(self)
        MemoryFeeds.__init__(self)
        MemoryChanges.__init__(self)
        MemoryPacks.__init__(self)
        self._lock = threading.RLock()
        self.timers: dict[tuple[str, str], Timer] = {}
        self.index: dict[str, dict[str, IndexEntry]] = {}
        self._registry = ShardRegistry()
        self.shards: dict[int, ShardState] = {}
        self.runs: dict[tuple[str, str], dict[str, Run]] = {}
        self.claims: dict[str, str] = {}
        self.job_states: dict[tuple[str, str], bytes] = {}
        self.heartbeats: dict[str, HeartbeatState] = {}  # by ping hash
        # Timers deleted on completion: (incarnation, until when their runs are shown).
        self.completed: dict[tuple[str, str], tuple[int, int]] = {}
        self.running: dict[tuple[str, str], tuple[str, int]] = {}
        self.slots: dict[tuple[str, str], dict[str, int]] = {}
        self.rates: dict[tuple[str, str, int], int] = {}
        self.signing_secrets: dict[str, OwnerSecrets] = {}  # by owner
        self.writes = 0  # write requests made: what a cost model counts
        self.reads = 0

    def get_timer(self, owner: str, timer_id: str) -> Timer | None:
        with self._lock:
            return self.timers.get((owner, timer_id))

    def save_timer(
        self,
        timer: Timer,
        *,
        expected_version: int | None,
        remove: Sequence[IndexKey],
        index: IndexEntry | None,
        count_limit: int | None = None,
        replaces: Timer | None = None,
        firing_limit: int | None = None,
    ) -> None:
        with self._lock:
            self._check_version(timer.owner, timer.id, expected_version)
            change = write_change(timer, expected_version=expected_version, replaces=replaces)
            quota = change.timers > 0 and count_limit is not None
            rate = change.firings > 0 and firing_limit is not None
            others = [  # counted only when a limit is checked: a scan of every timer
                t
                for (o, i), t in (self.timers.items() if quota or rate else ())
                if o == timer.owner and i != timer.id
            ]
            owned = sum(1 for t in others if t.completed_s is None)
            if quota and count_limit is not None and owned >= count_limit:
                raise QuotaExceededError(count_limit)
            firings = sum(t.firing_weight for t in others) + timer.firing_weight
            if rate and firing_limit is not None and firings > firing_limit:
                raise FiringRateExceededError(firing_limit, adds=change.firings)
            self.timers[(timer.owner, timer.id)] = timer
            old_labels = {} if replaces is None else replaces.labels
            self._relabel(timer.owner, timer.id, old_labels, timer.labels)
            for key in remove:
                self._drop(key)
            if index is not None:
                self.index.setdefault(index.key.pk, {})[index.key.sk] = index
            self.writes += 1

    def delete_timer(
        self,
        owner: str,
        timer_id: str,
        *,
        expected_version: int,
        remove: Sequence[IndexKey],
        timer: Timer | None = None,
    ) -> None:
        with self._lock:
            self._check_version(owner, timer_id, expected_version)
            gone = self.timers.pop((owner, timer_id))  # at `timer`'s version: its labels
            self._relabel(owner, timer_id, gone.labels, {})
            self._forget_feed(owner, timer_id)
            for key in remove:
                self._drop(key)
            self.job_states.pop((owner, timer_id), None)
            self.completed.pop((owner, timer_id), None)  # an earlier timer's note goes too
            self.writes += 1

    def claim_firing(self, firing_id: str, *, claimant: str, expires_s: int) -> bool:
        with self._lock:
            self.writes += 1
            holder = self.claims.setdefault(firing_id, claimant)
            return holder == claimant

    def release_firing(self, firing_id: str, *, claimant: str) -> None:
        with self._lock:
            if self.claims.get(firing_id) == claimant:
                del self.claims[firing_id]
                self.writes += 1

    def list_timers(
        self, owner: str, *, limit: int, after_id: str | None
    ) -> tuple[list[Timer], str | None]:
        with self._lock:
            ids = sorted(tid for (o, tid) in self.timers if o == owner)
        if after_id is not None:
            ids = [tid for tid in ids if tid > after_id]
        page = [self.timers[(owner, tid)] for tid in ids[:limit]]
        return page, (page[-1].id if len(ids) > limit else None)

    def get_index_entry(self, key: IndexKey) -> IndexEntry | None:
        with self._lock:
            return self.index.get(key.pk, {}).get(key.sk)

    def get_registry(self) -> ShardRegistry:
        return self._registry

    def get_timer_and_registry(
        self, owner: str, timer_id: str
    ) -> tuple[Timer | None, ShardRegistry]:
        return self.get_timer(owner, timer_id), self.get_registry()

    def put_registry(self, registry: ShardRegistry) -> None:
        self._registry = registry

    def _check_version(self, owner: str, timer_id: str, expected: int | None) -> None:
        current = self.timers.get((owner, timer_id))
        actual = None if current is None else current.version
        if actual != expected:
            raise VersionConflictError(timer_id, expected=expected, actual=actual)

    def _drop(self, key: IndexKey) -> None:
        ping_hash = key.pk.removeprefix("P#")
        if key == heartbeat_key(ping_hash):  # a heartbeat's state, kept apart here
            self.heartbeats.pop(ping_hash, None)
            return
        partition = self.index.get(key.pk)
        if partition is not None:
            partition.pop(key.sk, None)
            if not partition:
                del self.index[key.pk]

    def get_timers(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Timer]:
        with self._lock:
            self.reads += 1
            return {key: self.timers[key] for key in keys if key in self.timers}

    def get_shard_state(self, shard: int) -> ShardState:
        with self._lock:
            return self.shards.get(shard) or ShardState(shard=shard)

    def begin_tick(
        self, shard: int, *, token: str, now_s: float, lease_s: float, claim: int, first: int
    ) -> ShardState | None:
        with self._lock:
            state = self.get_shard_state(shard)
            held = (
                state.lease_owner not in (None, token)
                and state.lease_until_s is not None
                and state.lease_until_s >= now_s
            )
            if held or (state.claimed is not None and state.claimed > claim):
                return None  # `claimed` never goes down
            state = state.taken(token=token, until_s=now_s + lease_s, claim=claim, first=first)
            self.shards[shard] = state
            self.writes += 1
            return state

    def end_tick(
        self,
        shard: int,
        *,
        token: str,
        done: int,
        mark: Mapping[int, int] | None = None,
        unmark: Sequence[int] = (),
    ) -> None:
        if mark and unmark:
            raise ValueError("mark and unmark in one call")
        with self._lock:
            state = self.get_shard_state(shard)
            if state.lease_owner != token:
                raise StoreError(f"shard {shard}: the lease was lost during the tick")
            retiring = {**state.retiring, **(mark or {})}
            for base in unmark:
                retiring.pop(base, None)
            self.shards[shard] = state.model_copy(
                update={
                    "done": done,
                    "lease_owner": None,
                    "lease_until_s": None,
                    "retiring": retiring,
                }
            )
            self.writes += 1

    def ensure_base(self, shard: int, base: int) -> None:
        with self._lock:
            state = self.get_shard_state(shard)
            retiring = {b: m for b, m in state.retiring.items() if b != base}
            self.shards[shard] = state.model_copy(
                update={"bases": state.bases | {base}, "retiring": retiring}
            )
            self.writes += 1

    def retire_base(self, shard: int, base: int, *, marked_minute: int) -> bool:
        with self._lock:
            state = self.get_shard_state(shard)
            self.writes += 1
            if state.retiring.get(base) != marked_minute:
                return False
            retiring = {b: m for b, m in state.retiring.items() if b != base}
            self.shards[shard] = state.model_copy(
                update={"bases": state.bases - {base}, "retiring": retiring}
            )
            return True

    def query_index(self, partition: str) -> list[IndexEntry]:
        with self._lock:
            self.reads += 1
            return [entry for _, entry in sorted(self.index.get(partition, {}).items())]

    def put_successor(self, entry: IndexEntry) -> bool:
        with self._lock:
            self.writes += 1
            current = self.get_index_entry(entry.key)
            if current is not None and current.version > entry.version:
                return False
            self.index.setdefault(entry.key.pk, {})[entry.key.sk] = entry
            return True

    def delete_stale(self, key: IndexKey, version: int) -> bool:
        with self._lock:
            self.writes += 1
            current = self.get_index_entry(key)
            if current is None or current.version != version:
                return False
            self._drop(key)
            return True

    def put_heartbeat(self, state: HeartbeatState) -> None:
        with self._lock:
            self.writes += 1
            current = self.heartbeats.get(state.ping_hash)
            if state.idle_since_s is None:
                if current is None:
                    raise StoreError("no heartbeat state to change")
                state = replace(
                    state,
                    deadline_s=current.deadline_s,
                    last_ping_s=current.last_ping_s,
                    idle_since_s=current.idle_since_s,
                )
            elif current is not None:
                state = replace(
                    state, deadline_s=current.deadline_s, last_ping_s=current.last_ping_s
                )
            self.heartbeats[state.ping_hash] = state

    def get_heartbeats(self, ping_hashes: Sequence[str]) -> dict[str, HeartbeatState]:
        with self._lock:
            self.reads += 1
            return {h: self.heartbeats[h] for h in ping_hashes if h in self.heartbeats}

    def ping_heartbeat(self, ping_hash: str, *, now_s: int) -> HeartbeatState | None:
        with self._lock:
            self.writes += 1
            old = self.heartbeats.get(ping_hash)
            if old is not None:
                self.heartbeats[ping_hash] = replace(
                    old, deadline_s=now_s + old.allow_s, last_ping_s=now_s
                )
            return old

    def mark_heartbeat_missed(self, ping_hash: str, *, deadline_s: int) -> bool:
        with self._lock:
            self.writes += 1
            state = self.heartbeats.get(ping_hash)
            if state is None or state.deadline_s != deadline_s:
                return False
            self.heartbeats[ping_hash] = replace(state, idle_since_s=deadline_s)
            return True

    def clear_heartbeat_idle(self, ping_hash: str, *, idle_since_s: int) -> None:
        with self._lock:
            self.writes += 1
            state = self.heartbeats.get(ping_hash)
            if state is not None and state.idle_since_s == idle_since_s:
                self.heartbeats[ping_hash] = replace(state, idle_since_s=None)

    def count_timers_by_shard(self) -> dict[int, int]:
        with self._lock:
            counts: dict[int, int] = {}
            for timer in self.timers.values():
                counts[timer.shard] = counts.get(timer.shard, 0) + 1
            return counts

    def timers_on_shard(self, shard: int) -> list[Timer]:
        with self._lock:
            return [t for t in self.timers.values() if t.shard == shard]

    def move_timer(
        self,
        timer: Timer,
        *,
        target: int,
        remove: Sequence[IndexKey],
        entries: Sequence[IndexEntry],
        old_claimed: int | None,
        first_minute: int | None,
        base: int | None,
    ) -> bool:
        with self._lock:
            old = self.get_shard_state(timer.shard)
            new = self.get_shard_state(target)
            current = self.timers.get((timer.owner, timer.id))
            if (
                current is None
                or current.version != timer.version
                or old.claimed != old_claimed
                or old.done != old_claimed
                or (old_claimed is not None and old.lease_owner is not None)  # even expired
                or (
                    first_minute is not None
                    and new.claimed is not None
                    and new.claimed >= first_minute
                )
            ):
                return False
            for key in remove:
                self._drop(key)
            for entry in entries:
                self.index.setdefault(entry.key.pk, {})[entry.key.sk] = entry
            if base is not None:
                retiring = {b: m for b, m in new.retiring.items() if b != base}
                self.shards[target] = new.model_copy(
                    update={"bases": new.bases | {base}, "retiring": retiring}
                )
            self.timers[(timer.owner, timer.id)] = timer.model_copy(update={"shard": target})
            self.writes += 1
            return True
