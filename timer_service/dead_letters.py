"""Dead letters: firings that failed for good, kept per owner; listed and sent back on request.

The one redrive path of the API, the console and the CLI. A tenant sees and redrives only its
own letters, whatever other tenants have; the operator (owner None) sees every owner's. A
redrive reads the letters first, sends each once, and deletes only the letters whose firings
the queue took: a letter is never lost, and a firing that fails again comes back as a new
letter, not into the same call.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import Annotated

from pydantic import ConfigDict, Field
from pydantic.alias_generators import to_camel

from timer_service.camel import CamelModel
from timer_service.clock import Clock, format_utc
from timer_service.dispatch import DispatchError, RetryQueue
from timer_service.errors import TimerServiceError
from timer_service.firing import Firing
from timer_service.store.dead_letters import DeadLetterRecord, DeadLetterStore

__all__ = [
    "REDRIVE_MAX",
    "DeadLetter",
    "DeadLetterPage",
    "DeadLetters",
    "RedriveRequest",
    "RedriveResult",
]

REDRIVE_MAX = 1000  # letters one redrive call sends: each call stays well inside 29 s
_READ_PAGE = 1000


class DeadLetter(CamelModel):
    """One firing in the dead-letter queue."""

    firing_id: str
    timer_id: str
    version: int
    scheduled_at: str
    manual: bool
    backfill: bool = Field(default=False, description="fired by POST /periodic/{id}/backfill")
    receive_count: int = Field(description="the deliveries it had before it was dead-lettered")
    error: str = Field(description="why it was dead-lettered")
    dead_at: str = Field(description="when it was dead-lettered")


class DeadLetterPage(CamelModel):
    items: list[DeadLetter]
    next_token: str | None = Field(default=None, description="pass back for the next page")


class RedriveRequest(CamelModel):
    """The body of ``POST /dlq/redrive`` (optional): which firings; all of yours without it."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=False, extra="forbid", frozen=True
    )

    firing_ids: list[Annotated[str, Field(max_length=512)]] | None = Field(
        default=None, max_length=1000
    )


class RedriveResult(CamelModel):
    redriven: int = Field(description="dead letters sent back for delivery by this call")
    more: bool = Field(description=f"whether letters remain past this call's {REDRIVE_MAX}")


def _view(letter: DeadLetterRecord) -> DeadLetter:
    firing = letter.firing
    return DeadLetter(
        firing_id=firing.firing_id,
        timer_id=firing.timer_id,
        version=firing.version,
        scheduled_at=format_utc(firing.scheduled_s),
        manual=firing.manual,
        backfill=firing.backfill,
        receive_count=letter.attempts,
        error=letter.error,
        dead_at=format_utc(letter.dead_s),
    )


@dataclass
class DeadLetters:
    """Dead letters as owners see them; ``record`` is the callbacks' way in."""

    store: DeadLetterStore
    queue: RetryQueue | None  # None: look, but redrive nothing
    clock: Clock
    retention_days: int = 14

    def record(self, firing: Firing, *, error: str, attempts: int) -> None:
        """Keep ``firing`` as dead-lettered, for ``retention_days``."""
        now_s = int(self.clock.now())
        letter = DeadLetterRecord(firing=firing, error=error, attempts=attempts, dead_s=now_s)
        self.store.put(letter, expires_s=now_s + self.retention_days * 86400)

    def look(
        self, owner: str | None, *, limit: int = 50, token: str | None = None
    ) -> DeadLetterPage:
        """A page of the owner's dead letters, newest firing first (every owner's with None:
        the operator's view). Looking changes nothing."""
        letters, next_token = self.store.page(owner, limit=limit, token=token)
        items = sorted(
            (_view(letter) for letter in letters),
            key=lambda item: (item.scheduled_at, item.firing_id),
            reverse=True,
        )
        return DeadLetterPage(items=items, next_token=next_token)

    def redrive(
        self, owner: str | None, *, firing_ids: Collection[str] | None = None
    ) -> RedriveResult:
        """Send the owner's dead letters (all, or those named; every owner's with None) back
        for delivery, up to REDRIVE_MAX a call."""
        chosen: list[DeadLetterRecord] = []
        token: str | None = None
        while True:
            letters, token = self.store.page(owner, limit=_READ_PAGE, token=token)
            chosen += [
                letter
                for letter in letters
                if firing_ids is None or letter.firing.firing_id in firing_ids
            ]
            if token is None or len(chosen) > REDRIVE_MAX:
                break
        if self.queue is None:
            raise TimerServiceError("no dispatch queue to send dead letters back to")
        more = len(chosen) > REDRIVE_MAX or token is not None
        chosen = chosen[:REDRIVE_MAX]
        # A dead letter's race is long over: it runs unclaimed.
        firings = {replace(letter.firing, raced=False): letter for letter in chosen}
        failed: set[Firing] = set()
        try:
            self.queue.resend(list(firings))
        except DispatchError as exc:
            failed = set(exc.failed)
        sent = [letter for firing, letter in firings.items() if firing not in failed]
        self.store.delete(sent)
        if failed:
            raise DispatchError(
                f"{len(failed)} of {len(firings)} dead letters could not be sent back; they are"
                " kept: redrive again",
                failed=list(failed),
            )
        return RedriveResult(redriven=len(sent), more=more)
