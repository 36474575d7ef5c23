"""The storage port: what the service needs from a table, whatever holds it."""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from timer_service.errors import JobStateTooLargeError
from timer_service.feeds import FeedGrant
from timer_service.heartbeat import HeartbeatState
from timer_service.keys import IndexKey
from timer_service.models import ShardRegistry, ShardState, Timer
from timer_service.pack_ledger import PackClaim, PackRecord, PackRef
from timer_service.runs import Run
from timer_service.signing_secrets import OwnerSecrets
from timer_service.time_index import IndexEntry

__all__ = ["MAX_JOB_STATE_BYTES", "TimerStore", "decode_job_state", "encode_job_state"]

MAX_JOB_STATE_BYTES = 300 * 1024  # compressed; one DynamoDB item holds 400 KB


def encode_job_state(state: dict[str, Any]) -> bytes:
    """Compressed JSON of a job state; JobStateTooLargeError past MAX_JOB_STATE_BYTES."""
    blob = zlib.compress(json.dumps(state, separators=(",", ":")).encode(), 6)
    if len(blob) > MAX_JOB_STATE_BYTES:
        raise JobStateTooLargeError(
            f"job state is {len(blob)} bytes compressed; at most {MAX_JOB_STATE_BYTES}"
        )
    return blob


def decode_job_state(blob: bytes) -> dict[str, Any]:
    state: dict[str, Any] = json.loads(zlib.decompress(blob))
    return state


class TimerStore(Protocol):
    """Timers, their time-index items and the shard registry.

    Writes of a timer and its index items are atomic; a timer write names the version it
    replaces (None: the timer must not exist) and raises VersionConflictError, with the version
    found, otherwise. A refused write changes nothing. The DynamoDB adapter's semantics are the
    contract (tests/contract); the in-memory store follows them.
    """

    def get_timer(self, owner: str, timer_id: str) -> Timer | None:
        """The timer, read strongly consistent; None when absent."""
        ...

    def record_changes(self, shards: Sequence[int], owner: str, timer_id: str, now_s: int) -> None:
        """Note in each shard's change log that the timer is written at ``now_s``
        (timer_service.change_log); made before the write."""
        ...

    def changes_since(self, shard: int, since_s: int) -> dict[tuple[str, str], int]:
        """The timers the shard's log holds from ``since_s`` on, each with its latest second;
        read strongly consistent."""
        ...

    def claim_pack(
        self, ref: PackRef, members: bytes, *, token: str, now_s: float, until_s: float
    ) -> PackClaim:
        """Hold a pack's ledger item until ``until_s`` (timer_service.pack_ledger), written
        with ``members`` if new; won unless another holds it past ``now_s``."""
        ...

    def record_pack(self, ref: PackRef, *, ran: set[int], handed: set[int]) -> None:
        """Add member positions to the pack's ran and handed sets."""
        ...

    def take_pack_member(self, ref: PackRef, position: int, *, now_s: float) -> bool:
        """Mark a member handed on, for a copy of it alone to run, unless the pack is held."""
        ...

    def get_pack(self, ref: PackRef) -> PackRecord | None:
        """The pack's ledger item, strongly consistent."""
        ...

    def mark_resent(self, shard: int, minute: int, member: bytes, *, now_s: int) -> None:
        """Mark a re-sent copy of a member of the minute's packs (by its hash)."""
        ...

    def resent_marks(self, shard: int, minute: int) -> set[bytes]:
        """The marks of the minute; ``packs_of`` its packs; both strongly consistent."""
        ...

    def packs_of(self, shard: int, minute: int) -> list[PackRecord]: ...

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
        """Write ``timer``, delete the ``remove`` index items, then put ``index``; its label
        items change from those of ``replaces`` (the timer as read: give it when
        ``expected_version`` is) to those of ``timer``, in the same write. The owner's
        counts change by ``completion.count_change(timer, replaces)`` (a new timer: one more
        timer and its firings a minute); with ``firing_limit``, FiringRateExceededError when
        its firings a minute would pass it; with ``count_limit``,
        QuotaExceededError when the owner has that many already (a taken id is a conflict
        first)."""
        ...

    def delete_timer(
        self,
        owner: str,
        timer_id: str,
        *,
        expected_version: int,
        remove: Sequence[IndexKey],
        timer: Timer | None = None,
    ) -> None:
        """Delete the timer (at ``expected_version``), the ``remove`` index items, the
        timer's job state and label items; it no longer counts towards its owner's timers
        (``timer``, as read: what it counted and its labels; without it, one timer)."""
        ...

    def complete_timer(
        self,
        timer: Timer,
        *,
        completed_s: int,
        delete: bool,
        remove: Sequence[IndexKey],
        runs_until_s: int,
    ) -> bool:
        """Mark ``timer`` (at its version, not completed yet) completed, or with ``delete``
        remove it as delete_timer does, keeping a note of its incarnation until
        ``runs_until_s`` so its runs can still be listed; either way it no longer counts
        towards its owner's counts. False when the timer changed or was completed before."""
        ...

    def record_failure(self, timer: Timer) -> int | None:
        """Count one more failed run of ``timer`` in a row; the count, or None when the timer
        is gone or at another version (nothing counted)."""
        ...

    def clear_failures(self, timer: Timer, *, failures: int) -> bool:
        """End ``timer``'s failing streak of ``failures`` (at its version); False when it is
        not that any more (another run ended it, or it grew)."""
        ...

    def claim_run(self, timer: Timer, firing_id: str, *, now_s: int, until_s: int) -> bool:
        """For ``overlap: skip``: mark ``firing_id``'s run in progress until ``until_s``; False
        when another run of the timer holds the mark (or the timer changed)."""
        ...

    def release_run(self, timer: Timer, firing_id: str) -> None:
        """Remove ``firing_id``'s mark, if it still holds it."""
        ...

    def acquire_slot(
        self, owner: str, key: str, holder: str, *, limit: int, now_s: int, until_s: int
    ) -> bool:
        """Flow control: take one of the ``limit`` slots of the owner's ``key`` for ``holder``
        (a firing) until ``until_s``; False when all are held (slots held past their lease do
        not count). A holder that has a slot keeps it."""
        ...

    def release_slot(self, owner: str, key: str, holder: str) -> None:
        """Give ``holder``'s slot of ``key`` back."""
        ...

    def take_rate(self, owner: str, key: str, second: int, *, limit: int, count: int = 1) -> bool:
        """Count ``count`` runs of ``key`` in epoch ``second``; False (nothing counted) when
        that would pass ``limit`` in it."""
        ...

    def completed_incarnation(self, owner: str, timer_id: str) -> int | None:
        """The incarnation of a timer that deleted itself on completion, while its runs are
        kept; None otherwise."""
        ...

    # --- delivery -----------------------------------------------------------------------

    def claim_firing(self, firing_id: str, *, claimant: str, expires_s: int) -> bool:
        """Claim a raced firing for ``claimant`` (a queue message); True when it is theirs
        (claimed now, or before by the same claimant), False when another has it."""
        ...

    def release_firing(self, firing_id: str, *, claimant: str) -> None:
        """Give a claim back (its job failed), so that a retry of any copy may claim it."""
        ...

    # --- run history and job state ------------------------------------------------------

    def put_run(self, run: Run, *, expires_s: int) -> None:
        """Keep ``run`` until ``expires_s`` (TTL)."""
        ...

    def list_runs(
        self, owner: str, timer_id: str, *, incarnation: int, limit: int, before: str | None
    ) -> tuple[list[Run], str | None]:
        """Up to ``limit`` runs of one incarnation of a timer, newest first, older than the
        sort key ``before``; and the last sort key when more may follow."""
        ...

    def get_job_state(self, owner: str, timer_id: str) -> dict[str, Any] | None:
        """The job type's state for the timer, read strongly consistent; None when absent."""
        ...

    def put_job_state(self, owner: str, timer_id: str, state: dict[str, Any]) -> None:
        """Replace the timer's job state; JobStateTooLargeError past MAX_JOB_STATE_BYTES
        compressed."""
        ...

    def list_timers(
        self, owner: str, *, limit: int, after_id: str | None
    ) -> tuple[list[Timer], str | None]:
        """Up to ``limit`` of the owner's timers by id after ``after_id``, and the last id
        when more may follow."""
        ...

    def list_labelled(
        self, owner: str, key: str, value: str, *, limit: int, after_id: str | None
    ) -> tuple[list[str], str | None]:
        """Up to ``limit`` ids of the owner's timers labelled ``key=value``, by id after
        ``after_id``, read strongly consistent (its label items alone: no timer is read); and
        the last id when more may follow."""
        ...

    def get_index_entry(self, key: IndexKey) -> IndexEntry | None:
        """One time-index item, read strongly consistent."""
        ...

    def get_registry(self) -> ShardRegistry:
        """The shard registry; one active shard 0 when none was written."""
        ...

    def get_timer_and_registry(
        self, owner: str, timer_id: str
    ) -> tuple[Timer | None, ShardRegistry]:
        """``get_timer`` and ``get_registry`` at once (one round trip where the store can)."""
        ...

    def put_registry(self, registry: ShardRegistry) -> None: ...

    def get_timers(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Timer]:
        """Timers by ``(owner, id)``, read strongly consistent; absent ones are left out."""
        ...

    # --- ticking ----------------------------------------------------------------------

    def get_shard_state(self, shard: int) -> ShardState:
        """The shard's state, read strongly consistent (empty when never ticked)."""
        ...

    def begin_tick(
        self, shard: int, *, token: str, now_s: float, lease_s: float, claim: int, first: int
    ) -> ShardState | None:
        """Take the lease (free, expired or ours) and raise ``claimed`` to ``claim``; a shard
        never ticked starts with ``done = first - 1``. None when another ticker holds it, or
        when ``claim`` is below ``claimed`` (it never goes down)."""
        ...

    def end_tick(
        self,
        shard: int,
        *,
        token: str,
        done: int,
        mark: Mapping[int, int] | None = None,
        unmark: Sequence[int] = (),
    ) -> None:
        """Record every minute up to ``done`` as sent and give the lease back; mark rate bases
        as retiring (base -> minute) or clear marks (not both in one call)."""
        ...

    def ensure_base(self, shard: int, base: int) -> None:
        """The ticker reads ``base`` on ``shard`` from now on, and it is not retiring."""
        ...

    def retire_base(self, shard: int, base: int, *, marked_minute: int) -> bool:
        """Stop reading ``base``, if it is still marked retiring since ``marked_minute``."""
        ...

    def query_index(self, partition: str) -> list[IndexEntry]:
        """Every item of a time-index partition, strongly consistent, all pages."""
        ...

    def put_successor(self, entry: IndexEntry) -> bool:
        """Put a cron's next item unless a newer version of the timer already holds the key."""
        ...

    def delete_stale(self, key: IndexKey, version: int) -> bool:
        """Delete an index item only if it still belongs to ``version``."""
        ...

    # --- heartbeats (timer_service.pings) ----------------------------------------------

    def put_heartbeat(self, state: HeartbeatState) -> None:
        """Create a heartbeat's state, idle since ``state.idle_since_s``; or, with that None,
        change its owner, id, shard and allowance, keeping its deadline, last ping and idle
        mark (StoreError when there is no such state)."""
        ...

    def get_heartbeats(self, ping_hashes: Sequence[str]) -> dict[str, HeartbeatState]:
        """Heartbeat states by ping hash, read strongly consistent; absent ones left out."""
        ...

    def ping_heartbeat(self, ping_hash: str, *, now_s: int) -> HeartbeatState | None:
        """Move the deadline to ``now_s`` + allowance and record the ping, in one write; the
        state as it was before, None when there is no such heartbeat (nothing written)."""
        ...

    def mark_heartbeat_missed(self, ping_hash: str, *, deadline_s: int) -> bool:
        """Mark ``deadline_s`` missed (idle since it), if it is still the deadline: False when
        a ping moved it first."""
        ...

    def clear_heartbeat_idle(self, ping_hash: str, *, idle_since_s: int) -> None:
        """Clear the idle mark, if it is still ``idle_since_s`` (the heartbeat is watched)."""
        ...

    # --- webhook signing secrets (timer_service.signing_service) ---------------------------

    def get_signing_secrets(self, owner: str) -> OwnerSecrets:
        """The owner's signing secrets, read strongly consistent (none, version 0, when never
        written)."""
        ...

    def put_signing_secrets(self, secrets: OwnerSecrets, *, expected_version: int) -> bool:
        """Store ``secrets`` as the owner's (at ``secrets.version``), only if the stored ones
        are still at ``expected_version`` (0: none stored); False, nothing written, otherwise."""
        ...

    # --- feeds (timer_service.feed_service) ----------------------------------------------

    def get_feed(self, token_hash: str) -> FeedGrant | None:
        """The feed whose token hashes to ``token_hash``, while its scope names it (a token
        its scope no longer names is deleted); None otherwise."""
        ...

    def get_feed_scope(self, owner: str, scope: str) -> FeedGrant | None:
        """The owner's feed of ``scope`` (``timer_service.feeds.feed_scope``), strongly
        consistent; None when there is none."""
        ...

    def put_feed(self, grant: FeedGrant, *, replaces: FeedGrant | None) -> bool:
        """Make ``grant`` its scope's feed, in place of ``replaces`` (None: the scope has no
        feed), whose token then names nothing; a timer's feed only while the timer is at
        ``grant.incarnation``. False, nothing written, when the scope or the timer is not so."""
        ...

    def delete_feed(self, grant: FeedGrant) -> bool:
        """End ``grant``'s feed, if its scope still names its token (else False). A timer's
        delete ends the timer's feed too, in the same write."""
        ...

    def list_feeds(self, owner: str) -> list[FeedGrant]:
        """The owner's feeds, by scope (labels' then timers', each by name)."""
        ...

    # --- shard administration -----------------------------------------------------------

    def count_timers_by_shard(self) -> dict[int, int]:
        """How many timers each shard holds (a scan: for the admin command)."""
        ...

    def timers_on_shard(self, shard: int) -> list[Timer]:
        """Every timer placed on ``shard`` (a scan: for rebalancing)."""
        ...

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
        """Move ``timer`` to shard ``target`` in one transaction, only if the old shard is
        idle at ``claimed == done == old_claimed`` with no lease (not even an expired one),
        or never ticked when ``old_claimed`` is None, and the target has not claimed
        ``first_minute``; a rate item's ``base`` is ensured on the target in the same
        transaction. False when either shard moved on (try again later)."""
        ...
