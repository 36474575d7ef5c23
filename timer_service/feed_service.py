"""Feeds of changes as the API manages and serves them (their rules: :mod:`timer_service.feeds`).

Making a feed reads its scope's item and writes the new token's item and the scope's in one
conditional transaction (a rotation deletes the old token's item in it too), again from the
new state when another request wrote first. Serving one reads the token's item by its hash,
the scope's, then the runs: a timer's newest runs a page at a time, keeping its ``changed``
ones, until :data:`FEED_ENTRIES` changes or :data:`MAX_RUNS_READ` runs; a label's feed does so
for each of the owner's timers with the label (at most :data:`MAX_LABEL_TIMERS`, by id) and
merges them newest first.
"""

from __future__ import annotations

import builtins
import re
import uuid
from dataclasses import dataclass

from timer_service.clock import Clock
from timer_service.errors import FeedNotFoundError, StoreError, TimerNotFoundError
from timer_service.feeds import FEED_TOKEN_PATTERN, FeedGrant, FeedKind, feed_scope, parse_label
from timer_service.heartbeat import new_token, token_hash
from timer_service.models import Timer
from timer_service.runs import Run
from timer_service.store.base import TimerStore
from timer_service.timer_writes import check_timer_id

__all__ = [
    "FEED_ENTRIES",
    "MAX_LABEL_TIMERS",
    "MAX_RUNS_READ",
    "Feed",
    "FeedEntry",
    "FeedService",
    "NewFeed",
]

FEED_ENTRIES = 50  # a feed's newest changes
MAX_RUNS_READ = 500  # a timer's newest runs searched for them, per request
MAX_LABEL_TIMERS = 100  # a label's feed reads this many of its timers, by id
_RUN_PAGE = 100
_ATTEMPTS = 3  # a change of a feed that meets another request's is made again over it
_TOKEN_RE = re.compile(FEED_TOKEN_PATTERN)
# Feed and entry ids are name-based UUIDs (RFC 9562 v5): stable, and they show no owner.
_IDS = uuid.uuid5(uuid.NAMESPACE_URL, "urn:timer-service:feeds")


@dataclass(frozen=True)
class FeedEntry:
    """One change: its run, its timer, and the page it watched (when its job has a URL)."""

    entry_id: str
    timer_id: str
    run: Run
    link: str | None = None


@dataclass(frozen=True)
class Feed:
    """A feed's document before it is written as Atom (:func:`timer_service.atom.render`)."""

    feed_id: str
    title: str
    updated_s: float
    entries: list[FeedEntry]
    link: str | None = None  # a timer's feed: the page it watches


@dataclass(frozen=True)
class NewFeed:
    """A feed just made: its token is in this answer only."""

    grant: FeedGrant
    token: str


def _urn(*parts: object) -> str:
    return f"urn:uuid:{uuid.uuid5(_IDS, '/'.join(str(part) for part in parts))}"


def _page_of(timer: Timer) -> str | None:
    """The page a change monitor watches: its job's ``url``, if it is a web address."""
    url = timer.job.get("url")
    if isinstance(url, str) and url.startswith(("https://", "http://")):
        return url
    return None


class FeedService:
    """The caller's feeds: made, rotated, revoked, listed; and served by token alone."""

    def __init__(self, *, store: TimerStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    # --- management (the owner's) -----------------------------------------------------

    def open_timer_feed(self, owner: str, timer_id: str) -> NewFeed:
        """A new URL for the timer's feed; the last one, if any, ends."""
        return self._open(owner, "timer", check_timer_id(timer_id))

    def open_label_feed(self, owner: str, label: str) -> NewFeed:
        """A new URL for the feed of the owner's timers labelled ``label``; the last ends."""
        key, value = parse_label(label)
        return self._open(owner, "label", f"{key}={value}")

    def revoke_timer_feed(self, owner: str, timer_id: str) -> None:
        self._require(owner, check_timer_id(timer_id))
        self._revoke(owner, "timer", timer_id, field="id")

    def revoke_label_feed(self, owner: str, label: str) -> str:
        """End the label's feed; the label as ``key=value``."""
        key, value = parse_label(label)
        self._revoke(owner, "label", f"{key}={value}", field="label")
        return f"{key}={value}"

    def list(self, owner: str) -> builtins.list[FeedGrant]:
        return self._store.list_feeds(owner)

    def _open(self, owner: str, kind: FeedKind, name: str) -> NewFeed:
        for _ in range(_ATTEMPTS):
            incarnation = self._require(owner, name).created_s if kind == "timer" else None
            current = self._store.get_feed_scope(owner, feed_scope(kind, name))
            token = new_token()
            grant = FeedGrant(
                token_hash=token_hash(token),
                owner=owner,
                kind=kind,
                name=name,
                created_s=int(self._clock.now()),
                incarnation=incarnation,
            )
            if self._store.put_feed(grant, replaces=current):
                return NewFeed(grant, token)
        raise StoreError("the feed was changed by other requests meanwhile: try again")

    def _revoke(self, owner: str, kind: FeedKind, name: str, *, field: str) -> None:
        for _ in range(_ATTEMPTS):
            current = self._store.get_feed_scope(owner, feed_scope(kind, name))
            if current is None:
                raise FeedNotFoundError(f"you have no feed of {kind} {name!r}", field=field)
            if self._store.delete_feed(current):
                return
        raise StoreError("the feed was changed by other requests meanwhile: try again")

    def _require(self, owner: str, timer_id: str) -> Timer:
        timer = self._store.get_timer(owner, timer_id)
        if timer is None:
            raise TimerNotFoundError(timer_id)
        return timer

    # --- serving (by token alone) -------------------------------------------------------

    def read(self, token: str) -> Feed:
        """The feed ``token`` is the credential of; FeedNotFoundError for any other string."""
        if not _TOKEN_RE.fullmatch(token):
            raise FeedNotFoundError()
        grant = self._store.get_feed(token_hash(token))
        if grant is None:
            raise FeedNotFoundError()
        if grant.kind == "timer":
            return self._timer_feed(grant)
        return self._label_feed(grant)

    def _timer_feed(self, grant: FeedGrant) -> Feed:
        timer = self._store.get_timer(grant.owner, grant.name)
        if timer is None or timer.created_s != grant.incarnation:
            raise FeedNotFoundError()  # its delete ended the feed: a race with this read
        entries = _newest(self._changes(timer))
        return Feed(
            feed_id=_urn("timer", grant.owner, timer.id, timer.created_s),
            title=f"Changes of {timer.id}",
            updated_s=entries[0].run.finished_s if entries else timer.updated_s,
            entries=entries,
            link=_page_of(timer),
        )

    def _label_feed(self, grant: FeedGrant) -> Feed:
        key, value = grant.name.split("=", 1)
        ids: builtins.list[str] = []
        after: str | None = None
        while len(ids) < MAX_LABEL_TIMERS:
            page, last = self._store.list_labelled(
                grant.owner, key, value, limit=MAX_LABEL_TIMERS - len(ids), after_id=after
            )
            ids += page
            if last is None:
                break
            after = last
        timers = self._store.get_timers([(grant.owner, i) for i in ids]) if ids else {}
        found = [entry for timer in timers.values() for entry in self._changes(timer)]
        entries = _newest(found)
        return Feed(
            feed_id=_urn("label", grant.owner, grant.name),
            title=f"Changes of timers labelled {grant.name}",
            updated_s=entries[0].run.finished_s if entries else grant.created_s,
            entries=entries,
        )

    def _changes(self, timer: Timer) -> builtins.list[FeedEntry]:
        """The timer's newest changes, among its newest :data:`MAX_RUNS_READ` runs."""
        found: builtins.list[FeedEntry] = []
        before: str | None = None
        read = 0
        page = _page_of(timer)
        while read < MAX_RUNS_READ and len(found) < FEED_ENTRIES:
            runs, last = self._store.list_runs(
                timer.owner, timer.id, incarnation=timer.created_s, limit=_RUN_PAGE, before=before
            )
            read += len(runs)
            for run in runs:
                if run.outcome == "changed":
                    entry_id = _urn("run", timer.owner, timer.id, run.sort_key)
                    found.append(FeedEntry(entry_id, timer.id, run, page))
            if last is None:
                break
            before = last
        return found


def _newest(entries: list[FeedEntry]) -> list[FeedEntry]:
    """The newest :data:`FEED_ENTRIES`, newest first (by when the change was seen)."""
    ordered = sorted(
        entries, key=lambda e: (e.run.started_s, e.run.sort_key, e.timer_id), reverse=True
    )
    return ordered[:FEED_ENTRIES]
