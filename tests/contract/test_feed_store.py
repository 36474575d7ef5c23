"""The TimerStore contract for feeds, on memory and on DynamoDB (moto): a token is served only
while its scope names it; a rotation, a revocation and a timer's delete each end it."""

from __future__ import annotations

from dataclasses import replace

from tests.contract.conftest import T0, timer
from timer_service.feeds import FeedGrant
from timer_service.heartbeat import token_hash
from timer_service.store.base import TimerStore

FIRST = FeedGrant(
    token_hash=token_hash("a" * 43),
    owner="alice",
    kind="timer",
    name="t",
    created_s=T0,
    incarnation=T0,
)
SECOND = replace(FIRST, token_hash=token_hash("b" * 43), created_s=T0 + 5)
LABEL = FeedGrant(
    token_hash=token_hash("c" * 43), owner="alice", kind="label", name="team=x", created_s=T0
)


def test_put_feed_makes_its_token_and_scope(store: TimerStore) -> None:
    store.save_timer(timer(), expected_version=None, remove=[], index=None)
    assert store.put_feed(FIRST, replaces=None)
    assert store.get_feed(FIRST.token_hash) == FIRST
    assert store.get_feed_scope("alice", FIRST.scope) == FIRST
    assert store.get_feed(SECOND.token_hash) is None
    assert store.get_feed_scope("bob", FIRST.scope) is None


def test_put_feed_rotates_only_from_the_token_its_scope_names(store: TimerStore) -> None:
    store.save_timer(timer(), expected_version=None, remove=[], index=None)
    assert store.put_feed(FIRST, replaces=None)
    assert not store.put_feed(SECOND, replaces=None)  # the scope has one
    assert store.put_feed(SECOND, replaces=FIRST)
    assert store.get_feed(FIRST.token_hash) is None
    assert store.get_feed(SECOND.token_hash) == SECOND
    third = replace(FIRST, token_hash=token_hash("d" * 43))
    assert not store.put_feed(third, replaces=FIRST)  # FIRST is not its token any more
    assert store.get_feed_scope("alice", FIRST.scope) == SECOND


def test_put_feed_of_a_timer_needs_the_timer_at_its_incarnation(store: TimerStore) -> None:
    assert not store.put_feed(FIRST, replaces=None)  # no timer
    store.save_timer(timer(created_s=T0 + 1), expected_version=None, remove=[], index=None)
    assert not store.put_feed(FIRST, replaces=None)  # another incarnation
    assert store.get_feed_scope("alice", FIRST.scope) is None
    assert store.put_feed(LABEL, replaces=None)  # a label's needs no timer


def test_delete_feed_ends_it_once(store: TimerStore) -> None:
    assert store.put_feed(LABEL, replaces=None)
    assert not store.delete_feed(replace(LABEL, token_hash=token_hash("x" * 43)))
    assert store.delete_feed(LABEL)
    assert store.get_feed(LABEL.token_hash) is None
    assert not store.delete_feed(LABEL)
    assert store.list_feeds("alice") == []


def test_deleting_a_timer_ends_its_feed(store: TimerStore) -> None:
    stored = timer()
    store.save_timer(stored, expected_version=None, remove=[], index=None)
    assert store.put_feed(FIRST, replaces=None)
    store.delete_timer("alice", "t", expected_version=1, remove=[], timer=stored)
    assert store.get_feed_scope("alice", FIRST.scope) is None
    assert store.get_feed(FIRST.token_hash) is None
    store.save_timer(stored, expected_version=None, remove=[], index=None)  # the id again
    assert store.get_feed(FIRST.token_hash) is None


def test_completing_a_timer_that_deletes_itself_ends_its_feed(store: TimerStore) -> None:
    stored = timer()
    store.save_timer(stored, expected_version=None, remove=[], index=None)
    assert store.put_feed(FIRST, replaces=None)
    assert store.complete_timer(
        stored, completed_s=T0 + 60, delete=True, remove=[], runs_until_s=T0 + 86400
    )
    assert store.get_feed(FIRST.token_hash) is None


def test_list_feeds_is_the_owner_s_by_scope(store: TimerStore) -> None:
    store.save_timer(timer(), expected_version=None, remove=[], index=None)
    assert store.put_feed(FIRST, replaces=None)
    assert store.put_feed(LABEL, replaces=None)
    assert store.put_feed(replace(LABEL, owner="bob", token_hash="e" * 64), replaces=None)
    assert store.list_feeds("alice") == [LABEL, FIRST]
