"""html_monitor through the API and the callback Lambda on moto, against real pages served
locally: one change recorded and notified per real change, nothing for edits that do not
change the compared text."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from loadtest.stack import WebhookReceiver
from tests.conftest import ApiCall, AwsResources, set_settings
from tests.functional.conftest import runs, trigger
from tests.pages import DATA, PageServer

PAGE = "/library/functools.html"
WATCHED = "div.body"


def monitor(
    call_api: ApiCall, timer_id: str, url: str, *, status: int = 201, **extra: Any
) -> dict[str, Any]:
    job = {"url": url, "include": [WATCHED], "ignoreText": [r"^Last updated on "]} | extra.pop(
        "job", {}
    )
    body = {"schedule": "rate(1 hour)", "jobType": "html_monitor", "job": job} | extra
    answer = call_api("PUT", f"/periodic/{timer_id}", body)
    assert answer.status == status, answer.body
    return dict(answer.body)


def notices(receiver: WebhookReceiver) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in receiver.requests if r.path == "/notify"]


def test_html_monitor_records_and_notifies_each_real_change_once(
    pipeline: AwsResources, call_api: ApiCall, pages: PageServer, receiver: WebhookReceiver
) -> None:
    # GIVEN a real page and a monitor of its body that ignores the "Last updated" line
    original = (DATA / "functools.html").read_text()
    pages.set(PAGE, original)
    created = monitor(
        call_api, "docs", pages.url + PAGE, job={"notify": {"webhookUrl": receiver.url + "/notify"}}
    )
    assert created["history"] == "changes-and-errors"
    trigger(call_api, pipeline, "docs")  # baseline: not a change
    # WHEN the page is fetched unchanged, re-indented, edited outside the selector, and
    # edited only in an ignored line
    trigger(call_api, pipeline, "docs")
    pages.set(PAGE, original.replace("<p>", "<p>\n    ").replace("</dd>", "  </dd>\n"))
    trigger(call_api, pipeline, "docs")
    pages.set(PAGE, original.replace('<div class="footer">', '<div class="footer">v2 '))
    trigger(call_api, pipeline, "docs")
    pages.set(PAGE, original + '<div class="body"><p>Last updated on 2026-11-22</p></div>')
    trigger(call_api, pipeline, "docs")
    # THEN nothing is recorded or notified
    assert runs(call_api, "docs") == []
    assert notices(receiver) == []
    assert pages.statuses_of(PAGE) == [200, 304, 200, 200, 200]

    # WHEN the watched text really changes, twice
    first = original.replace("Higher-order functions", "Higher-order functions, revised")
    pages.set(PAGE, first)
    changed_at = trigger(call_api, pipeline, "docs")
    trigger(call_api, pipeline, "docs")  # unchanged since
    pages.set(PAGE, first.replace("</a> Objects<a", "</a> Things<a"))
    trigger(call_api, pipeline, "docs")

    # THEN each is one changed run with its diff, newest first, and one notice
    recorded = runs(call_api, "docs")
    assert [r["outcome"] for r in recorded] == ["changed", "changed"]
    assert "+partial Things" in recorded[0]["diff"]
    assert "-partial Objects" in recorded[0]["diff"]
    added = [line for line in recorded[1]["diff"].splitlines() if line.startswith("+")]
    assert any("Higher-order functions, revised" in line for line in added)
    assert recorded[1]["firingId"] == changed_at["firingId"]
    assert recorded[1]["manual"] is True
    assert recorded[1]["summary"] == "1 line added, 1 removed"
    sent = notices(receiver)
    assert [n["event"] for n in sent] == ["changed", "changed"]
    assert sent[0]["diff"] == recorded[1]["diff"]
    assert sent[0]["firingId"] == changed_at["firingId"]


def test_unchanged_page_is_not_parsed(
    pipeline: AwsResources,
    call_api: ApiCall,
    pages: PageServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import callbacks.html_monitor.job as job_module

    parsed: list[int] = []
    real_extract = job_module.extract
    monkeypatch.setattr(
        job_module, "extract", lambda html, **kw: parsed.append(1) or real_extract(html, **kw)
    )
    pages.set(PAGE, (DATA / "json.html").read_text())
    monitor(call_api, "cheap", pages.url + PAGE, history="all")
    trigger(call_api, pipeline, "cheap")
    trigger(call_api, pipeline, "cheap")  # 304 to the conditional GET
    pages.validators = False
    trigger(call_api, pipeline, "cheap")  # a 200 with the same bytes
    summaries = [r["summary"] for r in runs(call_api, "cheap")]
    assert summaries[0] == "byte-identical: not parsed"
    assert summaries[1] == "304 Not Modified: not parsed"
    assert summaries[2].startswith("baseline recorded")
    assert len(parsed) == 1
    assert "if-none-match" in pages.served[1].headers
    assert "if-modified-since" in pages.served[1].headers


def test_failures_alert_once_at_the_threshold_and_recovery_once(
    pipeline: AwsResources, call_api: ApiCall, pages: PageServer, receiver: WebhookReceiver
) -> None:
    pages.set(PAGE, "<div class='body'><p>up</p></div>")
    notify = {"webhookUrl": receiver.url + "/notify"}
    monitor(call_api, "flaky", pages.url + PAGE, job={"notify": notify, "alertAfterFailures": 2})
    trigger(call_api, pipeline, "flaky")
    pages.statuses[PAGE] = 503
    for _ in range(3):
        trigger(call_api, pipeline, "flaky")
    assert [n["event"] for n in notices(receiver)] == ["failing"]
    del pages.statuses[PAGE]
    trigger(call_api, pipeline, "flaky")
    trigger(call_api, pipeline, "flaky")
    assert [n["event"] for n in notices(receiver)] == ["failing", "recovered"]
    errors = runs(call_api, "flaky")
    assert [r["outcome"] for r in errors] == ["error"] * 3
    assert errors[0]["summary"].startswith("HTTP 503 from ")
    assert errors[0]["details"]["failures"] == 3


def test_loopback_page_is_refused_and_the_refusal_is_in_the_history(
    pipeline: AwsResources,
    call_api: ApiCall,
    pages: PageServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    set_settings(monkeypatch, allow_private_targets=False)
    pages.set(PAGE, "<p>secret</p>")
    monitor(call_api, "ssrf", pages.url + PAGE)
    trigger(call_api, pipeline, "ssrf")
    (refused,) = runs(call_api, "ssrf")
    assert refused["outcome"] == "error"
    assert refused["summary"] == "address 127.0.0.1 is not a public address"
    assert pages.served == []


def test_a_change_is_published_to_sns_and_apprise(
    pipeline: AwsResources, call_api: ApiCall, pages: PageServer, receiver: WebhookReceiver
) -> None:
    from timer_service.aws import client

    sns = client("sns", "us-east-1", pipeline.endpoint_url)
    sqs = client("sqs", "us-east-1", pipeline.endpoint_url)
    topic = sns.create_topic(Name="changes")["TopicArn"]
    inbox = sqs.create_queue(QueueName="change-inbox")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=inbox_arn["Attributes"]["QueueArn"],
        Attributes={"RawMessageDelivery": "true"},
    )
    apprise_url = "json://" + receiver.url.removeprefix("http://") + "/apprise"
    pages.set(PAGE, "<div class='body'><p>price 10</p></div>")
    notify = {"snsTopicArn": topic, "apprise": [apprise_url]}
    monitor(call_api, "fanout", pages.url + PAGE, job={"notify": notify})
    trigger(call_api, pipeline, "fanout")
    pages.set(PAGE, "<div class='body'><p>price 12</p></div>")
    trigger(call_api, pipeline, "fanout")

    (message,) = sqs.receive_message(QueueUrl=inbox, WaitTimeSeconds=1)["Messages"]
    published = json.loads(message["Body"])
    assert published["event"] == "changed"
    assert "+price 12" in published["diff"]
    (posted,) = [r for r in receiver.requests if r.path == "/apprise"]
    assert "+price 12" in json.loads(posted.body)["message"]
    (run,) = runs(call_api, "fanout")
    assert run["details"]["notified"] == ["sns", "apprise"]


def test_a_large_snapshot_goes_to_s3_and_still_gives_a_diff(
    pipeline: AwsResources,
    call_api: ApiCall,
    pages: PageServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from timer_service.aws import client

    s3 = client("s3", "us-east-1", pipeline.endpoint_url)
    s3.create_bucket(Bucket="snapshots")
    set_settings(monkeypatch, snapshot_bucket="snapshots")
    rng = random.Random(7)
    paragraphs = [f"<p>{rng.getrandbits(256):064x}</p>" for _ in range(12_000)]
    pages.set(PAGE, "<div class='body'>" + "".join(paragraphs) + "</div>")
    monitor(call_api, "big", pages.url + PAGE, job={"maxBytes": 4 * 1024 * 1024})
    trigger(call_api, pipeline, "big")
    stored = s3.list_objects_v2(Bucket="snapshots")["Contents"]
    assert len(stored) == 1 and stored[0]["Key"].endswith("/big.txt.gz")
    paragraphs[5000] = "<p>the one line that changed</p>"
    pages.set(PAGE, "<div class='body'>" + "".join(paragraphs) + "</div>")
    trigger(call_api, pipeline, "big")
    (run,) = runs(call_api, "big")
    assert run["outcome"] == "changed"
    assert "+the one line that changed" in run["diff"]
    assert (run["details"]["added"], run["details"]["removed"]) == (1, 1)


def test_include_that_matches_nothing_is_a_failed_check(
    pipeline: AwsResources, call_api: ApiCall, pages: PageServer
) -> None:
    pages.set(PAGE, "<main><p>layout changed</p></main>")
    monitor(call_api, "moved", pages.url + PAGE)
    trigger(call_api, pipeline, "moved")
    (run,) = runs(call_api, "moved")
    assert (run["outcome"], run["summary"]) == ("error", "the include selectors matched nothing")
