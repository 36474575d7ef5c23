"""The shard registry and a shard's tick state (re-exported by :mod:`timer_service.models`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["MAX_SHARDS", "ShardRegistry", "ShardState"]


#: The most shards a stack has: the registry item lists them all (DynamoDB items are at most
#: 400 KB), and each is one EventBridge schedule and one tick a minute.
MAX_SHARDS = 1000


class ShardRegistry(BaseModel):
    """Shards that take new timers (active) and shards that only tick until empty (draining)."""

    model_config = ConfigDict(frozen=True)

    active: tuple[int, ...] = (0,)
    draining: tuple[int, ...] = ()

    @property
    def all(self) -> tuple[int, ...]:
        return tuple(sorted({*self.active, *self.draining}))


class ShardState(BaseModel):
    """A shard's tick progress: minutes claimed and done, its lease, the rate bases in use."""

    model_config = ConfigDict(frozen=True)

    shard: int
    claimed: int | None = None  # highest epoch minute a ticker may be reading
    # As a tick's begin_tick found it: minutes after `done` up to it may have been sent before.
    claimed_before: int | None = Field(default=None, exclude=True)
    done: int | None = None  # every minute up to this one has been sent
    lease_owner: str | None = None
    lease_until_s: float | None = None
    bases: frozenset[int] = frozenset()  # base periods (minutes) the ticker reads
    # Bases the ticker found empty, by the minute it marked them; retired after a full cycle
    # more, unless a writer clears the mark first (see tick.py).
    retiring: dict[int, int] = Field(default_factory=dict)

    def taken(self, *, token: str, until_s: float, claim: int, first: int) -> ShardState:
        """This state once a tick took the lease and claimed up to ``claim`` (begin_tick)."""
        return self.model_copy(
            update={
                "lease_owner": token,
                "lease_until_s": until_s,
                "claimed": claim,
                "claimed_before": self.claimed,
                "done": first - 1 if self.done is None else self.done,
            }
        )
