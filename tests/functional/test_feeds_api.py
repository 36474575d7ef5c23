"""Feeds through the API Lambda on moto, read with ``feedparser``: made, rotated and revoked by
their owner; read with no credential but the token in their URL; probed by another tenant."""

from __future__ import annotations

from typing import Any

import feedparser
import pytest

from tests.conftest import BOB, ApiCall, AwsResources
from tests.functional.conftest import runs, trigger
from tests.pages import PageServer
from tests.unit.test_feeds import diff_of

BASE = "http://abc123.execute-api.us-east-1.amazonaws.com/prod"


def timer(call_api: ApiCall, timer_id: str, **fields: Any) -> None:
    body = {"schedule": "rate(1 hour)"} | fields
    assert call_api("PUT", f"/periodic/{timer_id}", body).status == 201


def path_of(answer: Any) -> str:
    url = str(answer.body["feedUrl"])
    assert url.startswith(f"{BASE}/feeds/"), url
    return url.removeprefix(BASE)


def read(call_api: ApiCall, path: str) -> Any:
    """The feed at ``path``, fetched as a feed reader would: no identity, no key."""
    answer = call_api("GET", path, user=None)
    assert answer.status == 200, answer.body
    assert answer.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    parsed = feedparser.parse(answer.body)
    assert not parsed.bozo, parsed.bozo_exception
    assert parsed.feed.links[0].href == BASE + path  # rel=self: where it was read
    return parsed


def not_found(call_api: ApiCall, path: str, **options: Any) -> dict[str, Any]:
    answer = call_api("GET", path, user=None, **options)
    assert answer.status == 404, answer.body
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.body["error"]["code"] == "not_found"
    return dict(answer.body["error"])


def test_post_feed_answers_its_url_once_and_the_url_serves_atom(call_api: ApiCall) -> None:
    timer(call_api, "t")
    made = call_api("POST", "/periodic/t/feed")
    assert made.status == 201, made.body
    assert set(made.body) == {"feedUrl", "timerId", "label", "createdAt"}
    assert (made.body["timerId"], made.body["label"]) == ("t", None)
    feed = read(call_api, path_of(made))
    assert (feed.feed.title, feed.entries) == ("Changes of t", [])
    head = call_api("HEAD", path_of(made), user=None)
    assert (head.status, head.body) == (200, "")
    listed = call_api("GET", "/feeds")
    assert listed.status == 200
    assert listed.body["items"] == [made.body | {"feedUrl": None}]  # never its URL again


def test_a_new_url_ends_the_last_and_delete_revokes(call_api: ApiCall) -> None:
    timer(call_api, "t")
    first = path_of(call_api("POST", "/periodic/t/feed"))
    second = path_of(call_api("POST", "/periodic/t/feed"))
    assert not_found(call_api, first)["field"] == "token"
    read(call_api, second)
    revoked = call_api("DELETE", "/periodic/t/feed")
    assert (revoked.status, revoked.body) == (200, {"id": "t"})
    not_found(call_api, second)
    again = call_api("DELETE", "/periodic/t/feed")
    assert (again.status, again.body["error"]["field"]) == (404, "id")


def test_deleting_the_timer_revokes_its_feed(call_api: ApiCall) -> None:
    timer(call_api, "t")
    path = path_of(call_api("POST", "/periodic/t/feed"))
    assert call_api("DELETE", "/periodic/t").status == 200
    not_found(call_api, path)
    timer(call_api, "t")
    not_found(call_api, path)


def test_feed_of_an_unknown_timer_is_a_404_naming_id(call_api: ApiCall) -> None:
    for method in ("POST", "DELETE"):
        answer = call_api(method, "/periodic/absent/feed")
        assert (answer.status, answer.body["error"]["field"]) == (404, "id"), answer.body


@pytest.mark.parametrize(
    "token",
    ["A" * 43, "short", "A" * 42 + "!", "A" * 44, "%00", "..", "x" * 2000, "\x00", "a\nb"],
    ids=["never made", "short", "not url-safe", "too long", "nul", "dots", "huge", "NUL", "LF"],
)
def test_a_wrong_token_is_a_404_never_a_500(call_api: ApiCall, token: str) -> None:
    timer(call_api, "t")
    call_api("POST", "/periodic/t/feed")
    assert not_found(call_api, f"/feeds/{token}")["field"] == "token"


def test_another_tenant_can_neither_make_revoke_nor_list_someone_else_s_feed(
    call_api: ApiCall,
) -> None:
    # GIVEN alice's timer "t" and its feed
    timer(call_api, "t", labels={"team": "payments"})
    path = path_of(call_api("POST", "/periodic/t/feed"))
    # WHEN bob, another tenant, asks for, revokes or lists feeds of "t"
    for method in ("POST", "DELETE"):
        answer = call_api(method, "/periodic/t/feed", user=BOB)
        assert (answer.status, answer.body["error"]["field"]) == (404, "id"), answer.body
    assert call_api("GET", "/feeds", user=BOB).body == {"items": []}
    revoked = call_api("DELETE", "/feeds", query={"label": "team=payments"}, user=BOB)
    assert revoked.status == 404
    # THEN alice's feed still serves, and bob's own label feed shows none of her timers
    read(call_api, path)
    bobs = call_api("POST", "/feeds", {"label": "team=payments"}, user=BOB)
    assert bobs.status == 201, bobs.body
    assert read(call_api, path_of(bobs)).entries == []
    # AND neither needs nor takes an identity: the token is the credential
    assert call_api("GET", path, user=BOB).status == 200


def test_label_feed_is_made_listed_and_revoked(call_api: ApiCall) -> None:
    made = call_api("POST", "/feeds", {"label": "team:payments"})
    assert made.status == 201, made.body
    assert (made.body["label"], made.body["timerId"]) == ("team=payments", None)
    path = path_of(made)
    assert read(call_api, path).feed.title == "Changes of timers labelled team=payments"
    assert [i["label"] for i in call_api("GET", "/feeds").body["items"]] == ["team=payments"]
    revoked = call_api("DELETE", "/feeds", query={"label": "team=payments"})
    assert (revoked.status, revoked.body) == (200, {"label": "team=payments"})
    not_found(call_api, path)


@pytest.mark.parametrize(
    ("body", "field"),
    [({"label": "team"}, "label"), ({"label": "Team=x"}, "label"), ({}, "label")],
)
def test_label_feed_of_a_wrong_label_is_a_400_naming_it(
    call_api: ApiCall, body: dict[str, Any], field: str
) -> None:
    answer = call_api("POST", "/feeds", body)
    assert (answer.status, answer.body["error"]["field"]) == (400, field), answer.body


def test_the_feed_route_is_documented_without_authentication(call_api: ApiCall) -> None:
    paths = call_api("GET", "/openapi.json").body["paths"]
    served = paths["/feeds/{token}"]["get"]
    assert served["security"] == []
    assert "application/atom+xml" in served["responses"]["200"]["content"]
    assert "404" in served["responses"]
    for path, method in (
        ("/periodic/{id}/feed", "post"),
        ("/periodic/{id}/feed", "delete"),
        ("/feeds", "post"),
        ("/feeds", "get"),
        ("/feeds", "delete"),
    ):
        assert paths[path][method]["security"], (path, method)


def test_html_monitor_feed_has_exactly_one_entry_per_real_change(
    pipeline: AwsResources, call_api: ApiCall, pages: PageServer
) -> None:
    # GIVEN a page served on 127.0.0.1 and two monitors of it labelled team=docs
    pages.set("/price.html", "<html><body><main><p>Price: 10 EUR</p></main></body></html>")
    job = {"url": pages.url + "/price.html", "include": ["main"]}
    for timer_id in ("price", "price-copy"):
        body = {"jobType": "html_monitor", "job": job, "labels": {"team": "docs"}}
        timer(call_api, timer_id, **body)
    timer_feed = path_of(call_api("POST", "/periodic/price/feed"))
    label_feed = path_of(call_api("POST", "/feeds", {"label": "team=docs"}))
    trigger(call_api, pipeline, "price")  # the baseline: not a change
    trigger(call_api, pipeline, "price-copy")

    # WHEN the page changes twice, with unchanged checks around each change
    trigger(call_api, pipeline, "price")
    pages.set("/price.html", "<html><body><main><p>Price: 12 EUR</p></main></body></html>")
    trigger(call_api, pipeline, "price")
    trigger(call_api, pipeline, "price")
    pages.set("/price.html", "<html><body><main><p>Price: <b>9</b> EUR</p></main></body></html>")
    trigger(call_api, pipeline, "price")
    trigger(call_api, pipeline, "price-copy")  # the copy sees one change: 10 -> 9

    # THEN the timer's feed holds exactly its two changes, newest first, with their diffs
    feed = read(call_api, timer_feed)
    assert len(feed.entries) == 2
    assert "-Price: 12 EUR" in diff_of(feed.entries[0])
    assert "+Price: 9 EUR" in diff_of(feed.entries[0])
    assert "+Price: 12 EUR" in diff_of(feed.entries[1])
    assert feed.entries[0].link == pages.url + "/price.html"
    assert [e.summary for e in feed.entries] == [r["summary"] for r in runs(call_api, "price")]
    # AND the label's feed merges both monitors' changes, newest first
    merged = read(call_api, label_feed)
    assert [e.tags[0].term for e in merged.entries] == ["price-copy", "price", "price"]
    assert "-Price: 10 EUR" in diff_of(merged.entries[0])
