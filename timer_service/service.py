"""Timer operations behind the REST API: create/replace, read, list, delete, pause, resume."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence

from timer_service.change_log import note_write
from timer_service.clock import Clock
from timer_service.completion import firing_weight, max_fire_s, state_of
from timer_service.dispatch import DispatchQueue
from timer_service.errors import (
    InvalidRequestError,
    TimerNotFoundError,
    VersionConflictError,
)
from timer_service.handoff import write_timer
from timer_service.heartbeat import (
    HEARTBEAT_HISTORY,
    HEARTBEAT_SCHEDULE,
    HeartbeatState,
    new_token,
    token_hash,
)
from timer_service.job_types import JobTypeRegistry
from timer_service.keys import heartbeat_key
from timer_service.listing import TimerFilter, list_timers
from timer_service.manual_firings import ManualFirings
from timer_service.models import TIMER_TOKEN_RE, SchedulePreviewRequest, Timer, TimerSpec
from timer_service.relabelling import Relabelling
from timer_service.runs import RunPage, RunView, run_token, sort_key_after
from timer_service.sharding import choose_shard
from timer_service.store.base import TimerStore
from timer_service.time_index import live_index_keys
from timer_service.timer_times import require_a_firing, timer_times
from timer_service.timer_views import heartbeat_view, preview, timer_view
from timer_service.timer_writes import (
    IfMatch,
    PutResult,
    TriggerResult,
    again_if_raced,
    check_timer_id,
    no_schedule_fields,
    only_labels_differ,
)
from timer_service.views import SchedulePreview, TimerPage, TimerView

__all__ = [
    "DEFAULT_RUNS_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "PutResult",
    "TimerService",
    "TriggerResult",
    "check_timer_id",
]

MAX_PAGE_SIZE = 100
DEFAULT_RUNS_PAGE_SIZE = 20
NEXT_FIRE_COUNT = 5


class TimerService(Relabelling, ManualFirings):
    """The timer use cases; owner-scoped, optimistic versioning, time index kept in step."""

    def __init__(
        self,
        *,
        store: TimerStore,
        clock: Clock,
        job_types: JobTypeRegistry,
        queue: DispatchQueue | None = None,
        max_timers_per_owner: int | None = None,
        max_firings_per_minute: int | None = None,
        lookahead_minutes: int = 1,
    ) -> None:
        self._store = store
        self._clock = clock
        self._job_types = job_types
        self._queue = queue
        self._max_timers = max_timers_per_owner
        self._max_firings = max_firings_per_minute
        self._lookahead_minutes = lookahead_minutes  # the tickers': how far they claim

    @property
    def clock(self) -> Clock:
        return self._clock

    def put(
        self,
        owner: str,
        timer_id: str,
        spec: TimerSpec,
        *,
        if_match: IfMatch = None,
        if_none_match: bool = False,
    ) -> PutResult:
        """Create or replace a timer. ``if_match`` makes it conditional on the stored version
        (``"*"``: on the timer existing); ``if_none_match`` creates only, never replaces.

        Without a version to hold it to, a PUT that loses a race with another write of the same
        timer is applied again over it (last writer wins) instead of failing."""
        token = new_token() if spec.heartbeat is not None else None  # once, for every try
        return again_if_raced(
            isinstance(if_match, int) or if_none_match,
            lambda: self._put_once(owner, timer_id, spec, if_match, if_none_match, token),
        )

    def _put_once(
        self,
        owner: str,
        timer_id: str,
        spec: TimerSpec,
        if_match: IfMatch,
        if_none_match: bool,
        token: str | None,
    ) -> PutResult:
        check_timer_id(timer_id)
        now_s = int(self._clock.now())
        job = self._job_types.validate(spec.job_type, dict(spec.job))
        previous, registry = self._store.get_timer_and_registry(owner, timer_id)
        actual = None if previous is None else previous.version
        if if_none_match and previous is not None:
            raise VersionConflictError(timer_id, expected=None, actual=actual, if_none_match=True)
        if if_match is not None and (previous is None or if_match not in ("*", previous.version)):
            raise VersionConflictError(timer_id, expected=if_match, actual=actual)
        beat = spec.heartbeat
        if beat is None:
            start_s, end_s, first_fire_s = timer_times(spec, previous, now_s)
            ping_hash = token = None
        else:
            no_schedule_fields(spec)
            start_s = end_s = first_fire_s = None
            if previous is not None and previous.ping_hash is not None:
                ping_hash, token = previous.ping_hash, None  # its URL keeps working
            else:
                assert token is not None
                ping_hash = token_hash(token)  # a new state: idle (not watched) until pinged
        # A heartbeat stays on its shard: its index items and state were made there.
        if previous is not None and (
            previous.shard in registry.active or (beat is not None and previous.ping_hash)
        ):
            shard = previous.shard
        else:
            shard = choose_shard(owner, timer_id, registry)
        timer = Timer(
            owner=owner,
            id=timer_id,
            shard=shard,
            schedule=spec.schedule if beat is None else HEARTBEAT_SCHEDULE,
            timezone=spec.timezone,
            start_s=start_s,
            end_s=end_s,
            first_fire_s=first_fire_s,
            job_type=spec.job_type,
            job=job,
            callback_data=spec.timer_callback_data,
            enabled=spec.enabled,
            misfire_policy=spec.misfire_policy,
            delivery=spec.delivery,
            history=spec.history,
            catch_up_window_s=spec.catch_up_window,
            heartbeat_period_s=None if beat is None else beat.period_seconds,
            heartbeat_grace_s=None if beat is None else beat.grace_seconds,
            ping_hash=ping_hash,
            jitter_s=spec.jitter_seconds,
            max_firings=spec.max_firings,
            on_complete=spec.on_complete,
            alerts=None
            if spec.alerts is None
            else spec.alerts.model_dump(mode="json", by_alias=True),
            pause_after_failures=spec.pause_after_failures,
            overlap=spec.overlap,
            concurrency_key=spec.concurrency_key,
            max_concurrency=spec.max_concurrency,
            max_per_second=spec.max_per_second,
            labels=spec.labels,
            version=1 if previous is None else previous.version + 1,
            created_s=now_s if previous is None else previous.created_s,
            updated_s=now_s,
        )
        timer = timer.model_copy(update={"max_fire_s": max_fire_s(timer, previous, now_s)})
        timer = timer.model_copy(update={"firing_weight": firing_weight(timer)})
        if previous is not None and only_labels_differ(timer, previous):
            self._write_labels(timer, previous)
            return PutResult(self._view(timer, now_s), created=False, ping_token=None)
        if beat is None:
            require_a_firing(timer, now_s)
        else:
            assert ping_hash is not None
            self._store.put_heartbeat(
                HeartbeatState(
                    ping_hash=ping_hash,
                    owner=owner,
                    timer_id=timer_id,
                    shard=shard,
                    allow_s=beat.period_seconds + beat.grace_seconds,
                    idle_since_s=None if token is None else now_s,  # None: keep its marks
                )
            )
        self._write(timer, previous, now_s)
        return PutResult(self._view(timer, now_s), created=previous is None, ping_token=token)

    def get(self, owner: str, timer_id: str) -> TimerView:
        return self._view(self._require(owner, timer_id), int(self._clock.now()))

    def delete(self, owner: str, timer_id: str, *, if_match: IfMatch = None) -> str:
        """Delete the timer; without a version in ``if_match``, whatever version it is at."""
        return again_if_raced(
            isinstance(if_match, int), lambda: self._delete_once(owner, timer_id, if_match)
        )

    def _delete_once(self, owner: str, timer_id: str, if_match: IfMatch) -> str:
        timer = self._require(owner, timer_id)
        if if_match is not None and if_match not in ("*", timer.version):
            raise VersionConflictError(timer_id, expected=if_match, actual=timer.version)
        now_s = int(self._clock.now())
        state = [] if timer.ping_hash is None else [heartbeat_key(timer.ping_hash)]
        note_write(self._store, [timer.shard], owner, timer_id, now_s)
        self._store.delete_timer(
            owner,
            timer_id,
            expected_version=timer.version,
            remove=[*live_index_keys(timer, now_s=now_s), *state],
            timer=timer,
        )
        return timer_id

    def list(
        self,
        owner: str,
        *,
        limit: int = 50,
        next_token: str | None = None,
        where: TimerFilter | None = None,
    ) -> TimerPage:
        """A page of the owner's timers by id, those ``where`` admits (a page may hold fewer
        than ``limit`` and still a ``nextToken``: :mod:`timer_service.listing`)."""
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidRequestError(f"limit must be 1-{MAX_PAGE_SIZE}", field="limit")
        if next_token is not None and not TIMER_TOKEN_RE.fullmatch(next_token):
            raise InvalidRequestError(
                "nextToken is not a token this API returned", field="nextToken"
            )
        now_s = int(self._clock.now())
        timers, last_id = self.find(owner, where=where, limit=limit, after_id=next_token)
        beats = [timer.ping_hash for timer in timers if timer.ping_hash is not None]
        states = self._store.get_heartbeats(beats) if beats else {}
        return TimerPage(
            items=[self._view(timer, now_s, states) for timer in timers],
            next_token=last_id,
        )

    def find(
        self, owner: str, *, where: TimerFilter | None, limit: int, after_id: str | None
    ) -> tuple[builtins.list[Timer], str | None]:
        """The stored timers of a page of :meth:`list`, and the id to continue after."""
        now_s = int(self._clock.now())
        return list_timers(
            self._store,
            owner,
            limit=limit,
            after_id=after_id,
            where=where or TimerFilter(),
            now_s=now_s,
        )

    def get_many(self, owner: str, timer_ids: Sequence[str]) -> dict[str, Timer]:
        """The owner's timers of ``timer_ids`` that exist, by id (read strongly consistent)."""
        found = self._store.get_timers([(owner, check_timer_id(i)) for i in timer_ids])
        return {timer_id: timer for (_, timer_id), timer in found.items()}

    def runs(
        self,
        owner: str,
        timer_id: str,
        *,
        limit: int = DEFAULT_RUNS_PAGE_SIZE,
        next_token: str | None = None,
    ) -> RunPage:
        """The timer's runs, newest first (only the current timer's, not a deleted one's)."""
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidRequestError(f"limit must be 1-{MAX_PAGE_SIZE}", field="limit")
        incarnation = self._incarnation(owner, timer_id)
        before = None if next_token is None else sort_key_after(next_token, incarnation)
        runs, last = self._store.list_runs(
            owner, timer_id, incarnation=incarnation, limit=limit, before=before
        )
        return RunPage(
            items=[RunView.of(run) for run in runs],
            next_token=None if last is None else run_token(last),
        )

    def preview(self, request: SchedulePreviewRequest, owner: str = "preview") -> SchedulePreview:
        """The next firings of a schedule as a timer created now would have them (no write);
        with ``jitterSeconds`` and an ``id``, when that timer's firings would run."""
        return preview(owner, request, int(self._clock.now()))

    def job_types(self) -> Sequence[dict[str, object]]:
        """The installed job types with their config schemas."""
        return self._job_types.describe()

    def set_enabled(
        self, owner: str, timer_id: str, *, enabled: bool, if_match: IfMatch = None
    ) -> TimerView:
        """Pause (False) or resume (True); a no-op when already so."""
        return again_if_raced(
            isinstance(if_match, int),
            lambda: self._set_enabled_once(owner, timer_id, enabled, if_match),
        )

    def _set_enabled_once(
        self, owner: str, timer_id: str, enabled: bool, if_match: IfMatch
    ) -> TimerView:
        previous = self._require(owner, timer_id)
        if if_match is not None and if_match not in ("*", previous.version):
            raise VersionConflictError(timer_id, expected=if_match, actual=previous.version)
        now_s = int(self._clock.now())
        if previous.enabled == enabled:
            return self._view(previous, now_s)
        timer = previous.model_copy(
            update={
                "enabled": enabled,
                "version": previous.version + 1,
                "schedule_version": None,  # its firings change: those made before are stale
                "updated_s": now_s,
                "paused_reason": None,  # paused or resumed by hand now
                "failures": 0 if enabled else previous.failures,
            }
        )
        if timer.completed_s is None and state_of(timer, now_s) == "completed":
            timer = timer.model_copy(update={"completed_s": now_s})  # paused past its end
        timer = timer.model_copy(update={"firing_weight": firing_weight(timer)})
        self._write(timer, previous, now_s)
        return self._view(timer, now_s)

    # --- internals ------------------------------------------------------------------

    def _incarnation(self, owner: str, timer_id: str) -> int:
        """The timer's incarnation, or that of a timer that deleted itself on completion."""
        check_timer_id(timer_id)
        timer = self._store.get_timer(owner, timer_id)
        if timer is not None:
            return timer.created_s
        gone = self._store.completed_incarnation(owner, timer_id)
        if gone is None:
            raise TimerNotFoundError(timer_id)
        return gone

    def _require(self, owner: str, timer_id: str) -> Timer:
        check_timer_id(timer_id)
        timer = self._store.get_timer(owner, timer_id)
        if timer is None:
            raise TimerNotFoundError(timer_id)
        return timer

    def _write(self, timer: Timer, previous: Timer | None, now_s: int) -> None:
        write_timer(
            self._store,
            self._queue,
            timer,
            previous,
            now_s=now_s,
            count_limit=self._max_timers,
            firing_limit=self._max_firings,
            lookahead_minutes=self._lookahead_minutes,
        )

    def _view(
        self, timer: Timer, now_s: int, states: Mapping[str, HeartbeatState] | None = None
    ) -> TimerView:
        if timer.ping_hash is None:
            history = timer.history or self._job_types.default_history(timer.job_type)
            return timer_view(timer, now_s, history)
        if states is None:  # its deadline state: one more read
            states = self._store.get_heartbeats([timer.ping_hash])
        return heartbeat_view(timer, timer.history or HEARTBEAT_HISTORY, states)
