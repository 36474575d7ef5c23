"""Heartbeat timers' values: what a client sends and sees, the deadline state, the ping token.

A heartbeat timer (a dead man's switch, Healthchecks.io's model) fires its job only when it is
*not* pinged in time: each ping moves its deadline to ping + period + grace, and a deadline
that passes unpinged fires once. The token in its ping URL is the only credential a ping
carries: 32 bytes from :mod:`secrets` (256 bits, so it cannot be guessed), shown once, when it
is made, and kept only as its SHA-256, which is also the key of the deadline state. A ping
therefore finds its state in one conditional write, with no read, and no comparison of the
secret happens in the service's code at all: the store looks the hash up, and learning how a
stored hash begins (the most a timing difference there could tell) gives no way to a token
that hashes to it. How deadlines are watched: :mod:`timer_service.pings`.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StrictInt
from pydantic.alias_generators import to_camel

from timer_service.camel import CamelModel
from timer_service.clock import format_utc

__all__ = [
    "HEARTBEAT_HISTORY",
    "HEARTBEAT_SCHEDULE",
    "PING_TOKEN_PATTERN",
    "HeartbeatSpec",
    "HeartbeatState",
    "HeartbeatStatus",
    "HeartbeatView",
    "PingResult",
    "new_token",
    "token_hash",
]

HEARTBEAT_SCHEDULE = "heartbeat"  # a heartbeat timer's stored schedule: none, it has deadlines
# Its runs are its misses and recoveries, rare and each worth keeping: all, unless it says.
HEARTBEAT_HISTORY: Literal["all"] = "all"
PING_TOKEN_PATTERN = r"^[A-Za-z0-9_-]{43}$"  # 32 bytes, url-safe base64 without padding
YEAR_S = 365 * 86400  # Healthchecks.io's longest period and grace

HeartbeatStatus = Literal["new", "up", "down"]


def new_token() -> str:
    """A fresh ping token: 256 random bits, url-safe."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the store keeps of a token, and finds its state by."""
    return hashlib.sha256(token.encode()).hexdigest()


class HeartbeatSpec(CamelModel):
    """``heartbeat`` in the body of ``PUT /periodic/{id}``: the timer fires when not pinged."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=False, extra="forbid", frozen=True
    )

    period_seconds: Annotated[
        StrictInt,
        Field(ge=60, le=YEAR_S, description="the expected time between pings (default a day)"),
    ] = 86400
    grace_seconds: Annotated[
        StrictInt,
        Field(
            ge=0,
            le=YEAR_S,
            description="how much later than the period a ping may come before the timer"
            " fires (default an hour; from 120 a steady heartbeat costs the ticker the least)",
        ),
    ] = 3600


@dataclass(frozen=True)
class HeartbeatState:
    """A heartbeat's deadline, kept apart from its timer under its token's hash.

    ``idle_since_s``: nothing in the time index watches it since then: set when it is made
    (``deadline_s`` None: never pinged) and when its deadline was missed (= ``deadline_s``);
    the next ping arms it again and clears the mark.
    """

    ping_hash: str
    owner: str
    timer_id: str
    shard: int
    allow_s: int  # period + grace
    deadline_s: int | None = None
    last_ping_s: int | None = None
    idle_since_s: int | None = None

    @property
    def missed(self) -> bool:
        """Its deadline passed unpinged, and no ping came since."""
        return self.deadline_s is not None and self.idle_since_s == self.deadline_s

    @property
    def status(self) -> HeartbeatStatus:
        if self.last_ping_s is None:
            return "new"
        return "down" if self.missed else "up"


class HeartbeatView(CamelModel):
    """A heartbeat timer's ``heartbeat`` as the API shows it."""

    period_seconds: int
    grace_seconds: int
    status: HeartbeatStatus = Field(
        description="new: never pinged (not watched yet); up: pinged in time; down: missed"
    )
    last_ping_at: str | None = None
    deadline: str | None = Field(
        default=None, description="up: when it fires unless pinged; down: the one it missed"
    )

    @classmethod
    def of(cls, period_s: int, grace_s: int, state: HeartbeatState | None) -> HeartbeatView:
        return cls(
            period_seconds=period_s,
            grace_seconds=grace_s,
            status="new" if state is None else state.status,
            last_ping_at=None
            if state is None or state.last_ping_s is None
            else format_utc(state.last_ping_s),
            deadline=None
            if state is None or state.deadline_s is None
            else format_utc(state.deadline_s),
        )


class PingResult(CamelModel):
    """The answer to a ping."""

    status: HeartbeatStatus
    deadline: str = Field(description="the timer fires at this time unless pinged again")
    recovered: bool = Field(description="this ping came after a missed deadline")
