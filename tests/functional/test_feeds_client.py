"""Feeds through the client (TimerClient, AsyncTimerClient) and the command line (``timer-service
timers feed``), against the API handler behind the local stack's front on moto; each feed URL
fetched as a feed reader fetches it: a plain GET, no key, read with feedparser."""

from __future__ import annotations

import asyncio

import feedparser
import httpx
import pytest

from tests.functional.test_labels_client import cli, json_lines, url  # noqa: F401 (fixture)
from timer_service.client import AsyncTimerClient, NotFoundError, TimerClient


def fetched(feed_url: str) -> feedparser.FeedParserDict:
    answer = httpx.get(feed_url)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    parsed = feedparser.parse(answer.text)
    assert not parsed.bozo, parsed.bozo_exception
    return parsed


def test_the_client_makes_lists_and_revokes_feeds(url: str) -> None:  # noqa: F811
    with TimerClient(url) as client:
        client.put("t", {"labels": {"team": "pay"}})
        made = client.open_feed("t")
        assert made.feed_url is not None and made.timer_id == "t"
        assert fetched(made.feed_url).feed.title == "Changes of t"
        label = client.open_label_feed("team=pay")
        assert label.feed_url is not None and label.label == "team=pay"
        listed = client.feeds().items
        assert [(f.label, f.timer_id, f.feed_url) for f in listed] == [
            ("team=pay", None, None),
            (None, "t", None),
        ]
        client.revoke_feed("t")
        client.revoke_label_feed("team:pay")
        assert httpx.get(made.feed_url).status_code == 404
        assert httpx.get(label.feed_url).status_code == 404
        with pytest.raises(NotFoundError):
            client.revoke_feed("t")
        with pytest.raises(NotFoundError):
            client.open_feed("absent")


def test_the_async_client_makes_and_revokes_a_label_feed(url: str) -> None:  # noqa: F811
    async def scenario() -> tuple[str | None, int]:
        async with AsyncTimerClient(url) as client:
            made = await client.open_label_feed("team=pay")
            items = len((await client.feeds()).items)
            await client.revoke_label_feed("team=pay")
            return made.feed_url, items

    feed_url, items = asyncio.run(scenario())
    assert feed_url is not None and items == 1
    assert httpx.get(feed_url).status_code == 404


def test_the_command_line_makes_revokes_and_lists_feeds(
    url: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli("put", "t", "--label", "team=pay", "--url", url) == 0
    capsys.readouterr()
    assert cli("feed", "t", "--url", url) == 0
    (made,) = json_lines(capsys.readouterr().out)
    assert made["timerId"] == "t"
    assert fetched(made["feedUrl"]).entries == []
    assert cli("feed", "--label", "team=pay", "--url", url) == 0
    (label,) = json_lines(capsys.readouterr().out)
    assert label["label"] == "team=pay"
    assert cli("feeds", "--url", url) == 0
    assert [(f["label"], f["timerId"]) for f in json_lines(capsys.readouterr().out)] == [
        ("team=pay", None),
        (None, "t"),
    ]
    assert cli("feed", "t", "--revoke", "--url", url) == 0
    assert json_lines(capsys.readouterr().out) == [{"id": "t"}]
    assert httpx.get(made["feedUrl"]).status_code == 404
    assert cli("feed", "--label", "team=pay", "--revoke", "--url", url) == 0
    assert json_lines(capsys.readouterr().out) == [{"label": "team=pay"}]
    assert cli("feed", "t", "--revoke", "--url", url) == 3  # none left: not found
    assert cli("feed", "absent", "--url", url) == 3


@pytest.mark.parametrize(
    "args", [["feed"], ["feed", "t", "--label", "a=b"], ["feed", "--label", "A=b"]]
)
def test_a_feed_command_without_one_timer_or_label_exits_2(
    url: str,  # noqa: F811
    args: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    try:
        code = cli(*args, "--url", url)
    except SystemExit as exited:  # argparse's refusal of the label
        code = int(str(exited.code))
    assert code == 2
    assert "label" in capsys.readouterr().err
