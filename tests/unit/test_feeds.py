"""Feeds of changes on the in-memory store with a fixed clock, read back with ``feedparser``
(https://pypi.org/project/feedparser/: a reader nobody here wrote): entries, diffs, order,
label feeds across timers and owners, revoked and guessed tokens, hostile diffs."""

from __future__ import annotations

import html
import re
from typing import Any

import feedparser
import pytest

from timer_service.atom import MAX_ENTRY_DIFF_CHARS, render
from timer_service.clock import FixedClock
from timer_service.errors import FeedNotFoundError, InvalidRequestError, TimerNotFoundError
from timer_service.feed_service import FEED_ENTRIES, FeedService
from timer_service.heartbeat import new_token
from timer_service.job_types import JobTypeRegistry
from timer_service.models import TimerSpec
from timer_service.runs import Run, RunOutcome
from timer_service.service import TimerService
from timer_service.store.memory import InMemoryTimerStore

T0 = 1_795_348_837  # 2026-11-22T12:00:37Z
SELF = "https://api.example/v1/feeds/TOKEN"
DIFF = "--- before\n+++ after\n@@ -1 +1 @@\n-10 EUR\n+12 EUR\n"


class World:
    """A service, its feeds and runs written as a job's delivery would write them."""

    def __init__(self) -> None:
        self.store = InMemoryTimerStore()
        self.clock = FixedClock(T0)
        registry = JobTypeRegistry.from_entry_points()
        self.timers = TimerService(store=self.store, clock=self.clock, job_types=registry)
        self.feeds = FeedService(store=self.store, clock=self.clock)

    def timer(self, timer_id: str, owner: str = "alice", **fields: Any) -> None:
        body = {"schedule": "rate(1 hour)", "jobType": "sqs"} | fields
        self.timers.put(owner, timer_id, TimerSpec.model_validate(body))

    def run(
        self,
        timer_id: str,
        at_s: int,
        outcome: RunOutcome = "changed",
        *,
        owner: str = "alice",
        diff: str | None = DIFF,
        summary: str = "1 line added, 1 removed",
    ) -> None:
        timer = self.store.get_timer(owner, timer_id)
        assert timer is not None
        run = Run(
            owner=owner,
            timer_id=timer_id,
            incarnation=timer.created_s,
            firing_id=f"{owner}#{timer_id}@{at_s}",
            scheduled_s=at_s,
            started_s=at_s + 0.04,
            finished_s=at_s + 0.06,
            attempt=1,
            outcome=outcome,
            summary=summary,
            diff=diff if outcome == "changed" else None,
        )
        self.store.put_run(run, expires_s=at_s + 86400)

    def read(self, token: str) -> Any:
        """The feed of ``token`` as feedparser reads it; it must parse cleanly."""
        text = render(self.feeds.read(token), self_url=SELF)
        parsed = feedparser.parse(text)
        assert not parsed.bozo, parsed.bozo_exception
        assert parsed.version == "atom10"
        return parsed


def diff_of(entry: Any) -> str:
    """The diff an entry's XHTML content holds in its <pre>, as text."""
    found = re.search(r"<pre>(.*)</pre>", entry.content[0].value, re.DOTALL)
    assert found is not None, entry.content[0].value
    return html.unescape(found.group(1))


@pytest.fixture
def world() -> World:
    return World()


def test_timer_feed_holds_each_change_newest_first_with_its_diff(world: World) -> None:
    # GIVEN a monitor with two changes among unchanged runs and an error
    world.timer("price", jobType="sqs")
    world.run("price", T0 + 60)
    world.run("price", T0 + 120, "unchanged")
    world.run("price", T0 + 180, "error", summary="503 from the page")
    world.run("price", T0 + 240, diff="-12 EUR\n+9 EUR\n", summary="price fell")
    token = world.feeds.open_timer_feed("alice", "price").token

    # WHEN a feed reader reads its feed
    feed = world.read(token)

    # THEN it holds the two changes, newest first, each with its summary, time, diff and id
    assert feed.feed.title == "Changes of price"
    assert feed.feed.id.startswith("urn:uuid:")
    assert feed.feed.updated == "2026-11-22T12:04:37.060Z"
    assert [link.rel for link in feed.feed.links] == ["self"]
    assert feed.feed.links[0].href == SELF
    assert feed.feed.author == "timer-service"
    assert [e.summary for e in feed.entries] == ["price fell", "1 line added, 1 removed"]
    assert [e.title for e in feed.entries] == [
        "price: price fell",
        "price: 1 line added, 1 removed",
    ]
    assert [diff_of(e) for e in feed.entries] == ["-12 EUR\n+9 EUR\n", DIFF]
    assert [e.updated for e in feed.entries] == [
        "2026-11-22T12:04:37.060Z",
        "2026-11-22T12:01:37.060Z",
    ]
    assert all(e.id.startswith("urn:uuid:") for e in feed.entries)
    assert len({e.id for e in feed.entries}) == 2
    # AND the entry ids are the same on every read (readers dedupe on them)
    assert [e.id for e in world.read(token).entries] == [e.id for e in feed.entries]


def test_timer_feed_links_to_the_page_a_monitor_watches(world: World) -> None:
    world.timer("docs", jobType="html_monitor", job={"url": "https://example.com/a?b=1&c=2"})
    world.run("docs", T0 + 60)
    feed = world.read(world.feeds.open_timer_feed("alice", "docs").token)
    assert feed.feed.link == "https://example.com/a?b=1&c=2"
    assert feed.entries[0].link == "https://example.com/a?b=1&c=2"


def test_feed_of_a_timer_without_changes_is_valid_and_empty(world: World) -> None:
    world.timer("quiet")
    world.run("quiet", T0 + 60, "unchanged")
    feed = world.read(world.feeds.open_timer_feed("alice", "quiet").token)
    assert feed.entries == []
    assert feed.feed.title == "Changes of quiet"
    assert feed.feed.updated == "2026-11-22T12:00:37.000Z"


def test_timer_feed_holds_the_newest_changes_only(world: World) -> None:
    world.timer("busy")
    for n in range(FEED_ENTRIES + 5):
        world.run("busy", T0 + 60 * (n + 1), summary=f"change {n}")
    feed = world.read(world.feeds.open_timer_feed("alice", "busy").token)
    assert len(feed.entries) == FEED_ENTRIES
    assert feed.entries[0].summary == f"change {FEED_ENTRIES + 4}"
    assert feed.entries[-1].summary == "change 5"


def test_label_feed_merges_the_owner_s_labelled_timers_newest_first(world: World) -> None:
    # GIVEN two of alice's timers with team=payments, one of hers without, and bob's with it
    world.timer("a", labels={"team": "payments"})
    world.timer("b", labels={"team": "payments", "env": "prod"})
    world.timer("c", labels={"team": "search"})
    world.timer("a", owner="bob", labels={"team": "payments"})
    world.run("a", T0 + 60, summary="a first")
    world.run("b", T0 + 120, summary="b first")
    world.run("a", T0 + 180, summary="a second")
    world.run("c", T0 + 200, summary="not labelled")
    world.run("a", T0 + 240, owner="bob", summary="bob's")

    # WHEN alice reads the feed of team=payments
    made = world.feeds.open_label_feed("alice", "team=payments")
    feed = world.read(made.token)

    # THEN it holds her two labelled timers' changes, merged newest first, and no other
    assert made.grant.view().label == "team=payments"
    assert feed.feed.title == "Changes of timers labelled team=payments"
    assert [e.summary for e in feed.entries] == ["a second", "b first", "a first"]
    assert [e.tags[0].term for e in feed.entries] == ["a", "b", "a"]
    assert feed.entries[0].title == "a: a second"


def test_label_feed_takes_the_list_s_key_colon_value_too(world: World) -> None:
    world.timer("a", labels={"team": "payments"})
    first = world.feeds.open_label_feed("alice", "team:payments")
    assert first.grant.name == "team=payments"
    second = world.feeds.open_label_feed("alice", "team=payments")  # the same feed: rotated
    with pytest.raises(FeedNotFoundError):
        world.feeds.read(first.token)
    assert world.read(second.token).entries == []


@pytest.mark.parametrize("label", ["team", "Team=x", "team=a b", "=x", ""])
def test_label_feed_of_a_malformed_label_is_a_400_naming_label(world: World, label: str) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        world.feeds.open_label_feed("alice", label)
    assert refused.value.field == "label"


def test_a_new_url_ends_the_last_and_a_revoked_url_is_not_found(world: World) -> None:
    world.timer("t")
    world.run("t", T0 + 60)
    first = world.feeds.open_timer_feed("alice", "t").token
    second = world.feeds.open_timer_feed("alice", "t").token
    assert first != second
    with pytest.raises(FeedNotFoundError):
        world.feeds.read(first)
    assert len(world.read(second).entries) == 1
    world.feeds.revoke_timer_feed("alice", "t")
    with pytest.raises(FeedNotFoundError):
        world.feeds.read(second)
    with pytest.raises(FeedNotFoundError) as again:  # nothing left to revoke
        world.feeds.revoke_timer_feed("alice", "t")
    assert again.value.field == "id"
    assert world.store.feed_tokens == {} and world.store.feed_scopes == {}


def test_revoking_a_label_feed_ends_its_url(world: World) -> None:
    token = world.feeds.open_label_feed("alice", "team=payments").token
    world.feeds.revoke_label_feed("alice", "team:payments")
    with pytest.raises(FeedNotFoundError):
        world.feeds.read(token)
    with pytest.raises(FeedNotFoundError) as again:
        world.feeds.revoke_label_feed("alice", "team=payments")
    assert again.value.field == "label"


def test_deleting_a_timer_ends_its_feed_even_when_created_again_in_that_second(
    world: World,
) -> None:
    world.timer("t")
    world.run("t", T0 + 60)
    token = world.feeds.open_timer_feed("alice", "t").token
    world.timers.delete("alice", "t")
    with pytest.raises(FeedNotFoundError):
        world.feeds.read(token)
    world.timer("t")  # the same id, the same second: the same incarnation
    with pytest.raises(FeedNotFoundError):
        world.feeds.read(token)
    with pytest.raises(FeedNotFoundError):
        world.feeds.revoke_timer_feed("alice", "t")


@pytest.mark.parametrize(
    "token",
    ["", "short", "A" * 43, "A" * 42 + "!", "A" * 44, "../../periodic", "\x00" * 43],
    ids=["empty", "short", "never made", "not url-safe", "too long", "a path", "nul"],
)
def test_a_token_that_is_not_a_feed_s_is_not_found(world: World, token: str) -> None:
    world.timer("t")
    world.feeds.open_timer_feed("alice", "t")
    with pytest.raises(FeedNotFoundError) as missing:
        world.feeds.read(token)
    assert missing.value.field == "token"


def test_another_token_of_the_same_shape_is_not_a_feed(world: World) -> None:
    world.timer("t")
    world.feeds.open_timer_feed("alice", "t")
    for _ in range(20):
        with pytest.raises(FeedNotFoundError):
            world.feeds.read(new_token())


def test_another_owner_can_neither_open_nor_revoke_a_feed_of_someone_else_s_timer(
    world: World,
) -> None:
    world.timer("t")
    world.run("t", T0 + 60)
    token = world.feeds.open_timer_feed("alice", "t").token
    with pytest.raises(TimerNotFoundError):
        world.feeds.open_timer_feed("mallory", "t")
    with pytest.raises(TimerNotFoundError):
        world.feeds.revoke_timer_feed("mallory", "t")
    assert world.feeds.list("mallory") == []
    # A label feed of mallory's own never reaches alice's timers
    mallory = world.feeds.open_label_feed("mallory", "team=payments").token
    world.timers.put("alice", "t", TimerSpec.model_validate({"labels": {"team": "payments"}}))
    assert world.read(mallory).entries == []
    assert len(world.read(token).entries) == 1


def test_unknown_timer_is_not_found_naming_id(world: World) -> None:
    with pytest.raises(TimerNotFoundError):
        world.feeds.open_timer_feed("alice", "absent")


HOSTILE = (
    "-ok\n+]]> <script>alert(1)</script> &amp; &#0; <![CDATA[x]]>\n"
    "+\x00nul \x1b[31mred\x1b[0m \x0b\x0c \ud800 \ufffe \uffff \U0001f600 \t\r\n"
)


def test_hostile_diff_content_parses_and_stays_text(world: World) -> None:
    # GIVEN a change whose summary and diff hold markup, CDATA ends and forbidden characters
    world.timer("evil")
    world.run("evil", T0 + 60, diff=HOSTILE, summary="<b>bold</b> ]]> \x07bell")

    # WHEN it is read as a feed
    feed = world.read(world.feeds.open_timer_feed("alice", "evil").token)

    # THEN the document parses, and the markup is text, the forbidden characters U+FFFD
    entry = feed.entries[0]
    diff = diff_of(entry)
    assert "]]> <script>alert(1)</script> &amp; &#0; <![CDATA[x]]>" in diff
    assert "\ufffdnul \ufffd[31mred\ufffd[0m \ufffd\ufffd \ufffd \ufffd \ufffd \U0001f600" in diff
    assert "<script>" not in entry.content[0].value
    assert entry.summary == "<b>bold</b> ]]> \ufffdbell"


def test_a_long_diff_is_cut_in_the_feed_saying_where_it_is_whole(world: World) -> None:
    world.timer("big")
    world.run("big", T0 + 60, diff="+" + "x" * (MAX_ENTRY_DIFF_CHARS + 10))
    diff = diff_of(world.read(world.feeds.open_timer_feed("alice", "big").token).entries[0])
    assert len(diff) < MAX_ENTRY_DIFF_CHARS + 200
    assert diff.endswith("GET /periodic/big/runs has it whole\n")


def test_list_shows_the_owner_s_feeds_without_urls(world: World) -> None:
    world.timer("t")
    world.feeds.open_timer_feed("alice", "t")
    world.feeds.open_label_feed("alice", "team=payments")
    views = [grant.view() for grant in world.feeds.list("alice")]
    assert [(v.label, v.timer_id, v.feed_url) for v in views] == [
        ("team=payments", None, None),
        (None, "t", None),
    ]
    assert views[0].created_at == "2026-11-22T12:00:37Z"
