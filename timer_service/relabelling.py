"""A change of a timer's labels alone: one conditional write of the timer and its label items,
which leaves its index items and its firings as they are (they carry its firing version, not its
version); part of :class:`timer_service.service.TimerService`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from timer_service.change_log import note_write
from timer_service.clock import Clock
from timer_service.errors import VersionConflictError
from timer_service.labels import check_labels, relabelled
from timer_service.models import Timer
from timer_service.store.base import TimerStore
from timer_service.timer_writes import IfMatch, again_if_raced
from timer_service.views import TimerView

__all__ = ["Relabelling"]


class Relabelling:
    """Relabel one timer (mixed into the service, whose store and clock it uses)."""

    _store: TimerStore
    _clock: Clock

    if TYPE_CHECKING:  # the service's

        def _require(self, owner: str, timer_id: str) -> Timer: ...

        def _view(self, timer: Timer, now_s: int) -> TimerView: ...

    def relabel(
        self,
        owner: str,
        timer_id: str,
        *,
        put: Mapping[str, str],
        remove: Sequence[str] = (),
        if_match: IfMatch = None,
    ) -> TimerView:
        """Set the labels ``put`` and remove the keys ``remove``: a write of its labels alone,
        which leaves its firings be (a no-op when nothing changes)."""
        return again_if_raced(
            isinstance(if_match, int),
            lambda: self._relabel_once(owner, timer_id, put, remove, if_match),
        )

    def _relabel_once(
        self,
        owner: str,
        timer_id: str,
        put: Mapping[str, str],
        remove: Sequence[str],
        if_match: IfMatch,
    ) -> TimerView:
        previous = self._require(owner, timer_id)
        if if_match is not None and if_match not in ("*", previous.version):
            raise VersionConflictError(timer_id, expected=if_match, actual=previous.version)
        now_s = int(self._clock.now())
        labels = check_labels(relabelled(previous.labels, put=put, remove=remove))
        if labels == previous.labels:
            return self._view(previous, now_s)
        timer = previous.model_copy(
            update={"labels": labels, "version": previous.version + 1, "updated_s": now_s}
        )
        self._write_labels(timer, previous)
        return self._view(timer, now_s)

    def _write_labels(self, timer: Timer, previous: Timer) -> None:
        """Write a change of ``previous``'s labels alone: its index items and firings stay
        (they carry its firing version), so no firing moves, is lost or is added."""
        # its copies keep the old version: its firings in flight read it
        note_write(self._store, [previous.shard], timer.owner, timer.id, timer.updated_s)
        self._store.save_timer(
            timer.model_copy(
                update={
                    "schedule_version": previous.firing_version,
                    "prior_version": previous.prior_version,  # and its hand-over, if any
                    "prior_until_s": previous.prior_until_s,
                }
            ),
            expected_version=previous.version,
            remove=[],
            index=None,
            replaces=previous,
        )
