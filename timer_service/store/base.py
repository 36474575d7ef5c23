"""The storage port: what the service needs from a table, whatever holds it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from timer_service.keys import IndexKey
from timer_service.models import ShardRegistry, Timer
from timer_service.time_index import IndexEntry

__all__ = ["TimerStore"]


class TimerStore(Protocol):
    """Timers, their time-index items and the shard registry.

    Writes of a timer and its index items are atomic; a timer write names the version it
    replaces (None: the timer must not exist) and raises VersionConflictError otherwise.
    """

    def get_timer(self, owner: str, timer_id: str) -> Timer | None:
        """The timer, read strongly consistent; None when absent."""
        ...

    def save_timer(
        self,
        timer: Timer,
        *,
        expected_version: int | None,
        remove: Sequence[IndexKey],
        index: IndexEntry | None,
    ) -> None:
        """Write ``timer``, delete the ``remove`` index items, then put ``index``."""
        ...

    def delete_timer(
        self, owner: str, timer_id: str, *, expected_version: int, remove: Sequence[IndexKey]
    ) -> None:
        """Delete the timer (at ``expected_version``) and the ``remove`` index items."""
        ...

    def list_timers(
        self, owner: str, *, limit: int, after_id: str | None
    ) -> tuple[list[Timer], str | None]:
        """Up to ``limit`` of the owner's timers by id after ``after_id``, and the last id
        when more may follow."""
        ...

    def get_index_entry(self, key: IndexKey) -> IndexEntry | None:
        """One time-index item, read strongly consistent."""
        ...

    def get_registry(self) -> ShardRegistry:
        """The shard registry; one active shard 0 when none was written."""
        ...

    def put_registry(self, registry: ShardRegistry) -> None: ...
