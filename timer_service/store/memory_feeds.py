"""Feeds in the in-memory store, with the DynamoDB adapter's semantics: a token's record and
its scope's, changed together; a token is a feed's only while its scope names it."""

from __future__ import annotations

import threading

from timer_service.feeds import FeedGrant, feed_scope
from timer_service.models import Timer

__all__ = ["MemoryFeeds"]


class MemoryFeeds:
    """Feed tokens and scopes in process memory (mixed into :class:`InMemoryTimerStore`)."""

    _lock: threading.RLock
    timers: dict[tuple[str, str], Timer]
    writes: int
    reads: int

    def __init__(self) -> None:
        self.feed_tokens: dict[str, FeedGrant] = {}  # by token hash
        self.feed_scopes: dict[tuple[str, str], FeedGrant] = {}  # by (owner, scope)

    def _forget_feed(self, owner: str, timer_id: str) -> None:
        """A deleted timer's feed scope goes with it (under the store's lock)."""
        self.feed_scopes.pop((owner, feed_scope("timer", timer_id)), None)

    def get_feed(self, token_hash: str) -> FeedGrant | None:
        with self._lock:
            self.reads += 1
            grant = self.feed_tokens.get(token_hash)
            if grant is None:
                return None
            current = self.feed_scopes.get((grant.owner, grant.scope))
            if current is not None and current.token_hash == token_hash:
                return grant
            del self.feed_tokens[token_hash]
            self.writes += 1
            return None

    def get_feed_scope(self, owner: str, scope: str) -> FeedGrant | None:
        with self._lock:
            self.reads += 1
            return self.feed_scopes.get((owner, scope))

    def put_feed(self, grant: FeedGrant, *, replaces: FeedGrant | None) -> bool:
        with self._lock:
            current = self.feed_scopes.get((grant.owner, grant.scope))
            now = None if current is None else current.token_hash
            if now != (None if replaces is None else replaces.token_hash):
                return False
            if grant.token_hash in self.feed_tokens:
                return False
            if grant.kind == "timer" and grant.incarnation is not None:
                timer = self.timers.get((grant.owner, grant.name))
                if timer is None or timer.created_s != grant.incarnation:
                    return False
            if replaces is not None:
                self.feed_tokens.pop(replaces.token_hash, None)
            self.feed_scopes[(grant.owner, grant.scope)] = grant
            self.feed_tokens[grant.token_hash] = grant
            self.writes += 1
            return True

    def delete_feed(self, grant: FeedGrant) -> bool:
        with self._lock:
            current = self.feed_scopes.get((grant.owner, grant.scope))
            if current is None or current.token_hash != grant.token_hash:
                return False
            del self.feed_scopes[(grant.owner, grant.scope)]
            self.feed_tokens.pop(grant.token_hash, None)
            self.writes += 1
            return True

    def list_feeds(self, owner: str) -> list[FeedGrant]:
        with self._lock:
            self.reads += 1
            return [g for (o, scope), g in sorted(self.feed_scopes.items()) if o == owner]
