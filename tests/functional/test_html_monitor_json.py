"""html_monitor on a JSON API, through the API and the callback Lambda on moto: a real JSON
document (botocore's SQS service model, which the runtime already ships) served locally and
changed; JSONPath (RFC 9535) and jq filters decide what is compared. One change recorded and
notified per real change of the selected values, none for anything else."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import botocore

from loadtest.stack import WebhookReceiver
from tests.conftest import ApiCall, AwsResources
from tests.functional.conftest import runs, trigger
from tests.functional.test_html_monitor import notices
from tests.pages import PageServer

MODEL = Path(botocore.__file__).parent / "data" / "sqs" / "2012-11-05" / "service-2.json.gz"
API = "/sqs/service-2.json"


def real_document() -> dict[str, Any]:
    return dict(json.loads(gzip.decompress(MODEL.read_bytes())))


def serve(pages: PageServer, document: Any, **dumps: Any) -> None:
    pages.set(API, json.dumps(document, **dumps), content_type="application/json")


def watch(call_api: ApiCall, timer_id: str, job: dict[str, Any], *, status: int = 201) -> Any:
    body = {"schedule": "rate(1 hour)", "jobType": "html_monitor", "job": job}
    answer = call_api("PUT", f"/periodic/{timer_id}", body)
    assert answer.status == status, answer.body
    return answer.body


def test_json_filters_record_and_notify_each_change_of_the_selected_values_once(
    pipeline: AwsResources, call_api: ApiCall, pages: PageServer, receiver: WebhookReceiver
) -> None:
    # GIVEN a real JSON document and a watch of two of its values, one selected by JSONPath
    # with a filter expression and one by jq
    document = real_document()
    serve(pages, document)
    watch(
        call_api,
        "api",
        {
            "url": pages.url + API,
            "jsonPath": [
                "$.metadata.serviceFullName",
                "$.shapes[?@.exception == true].members.message.shape",
            ],
            "jq": [".operations.SendMessage.errors | map(.shape)"],
            "notify": {"webhookUrl": receiver.url + "/notify"},
        },
    )
    trigger(call_api, pipeline, "api")  # baseline
    # WHEN the document is re-serialised (keys re-ordered, indented), and changed outside
    # the selected values
    serve(pages, dict(reversed(list(document.items()))), indent=4)
    trigger(call_api, pipeline, "api")
    document["operations"]["SendMessage"]["documentation"] = "<p>Rewritten.</p>"
    serve(pages, document, sort_keys=True)
    trigger(call_api, pipeline, "api")
    # THEN nothing is recorded or notified
    assert runs(call_api, "api") == []
    assert notices(receiver) == []

    # WHEN a selected value changes, then a value selected by jq
    document["metadata"]["serviceFullName"] = "Amazon Simple Queue Service v2"
    serve(pages, document)
    trigger(call_api, pipeline, "api")
    trigger(call_api, pipeline, "api")  # unchanged since
    document["operations"]["SendMessage"]["errors"].append({"shape": "NewError"})
    serve(pages, document)
    trigger(call_api, pipeline, "api")

    # THEN two changed runs, each with the selected values' diff, and two notices
    recorded = runs(call_api, "api")
    assert [r["outcome"] for r in recorded] == ["changed", "changed"]
    assert '-"Amazon Simple Queue Service"' in recorded[1]["diff"]
    assert '+"Amazon Simple Queue Service v2"' in recorded[1]["diff"]
    assert '+  "NewError"' in recorded[0]["diff"]
    assert [n["summary"] for n in notices(receiver)] == [r["summary"] for r in reversed(recorded)]


def test_whole_json_document_is_compared_pretty_printed_without_filters(
    pipeline: AwsResources, call_api: ApiCall, pages: PageServer
) -> None:
    serve(pages, {"b": 1, "a": {"y": [1, 2], "x": "é"}})
    watch(call_api, "doc", {"url": pages.url + API})
    trigger(call_api, pipeline, "doc")
    serve(pages, {"a": {"x": "é", "y": [1, 2]}, "b": 1}, indent=1, ensure_ascii=True)
    trigger(call_api, pipeline, "doc")
    assert runs(call_api, "doc") == []
    serve(pages, {"a": {"x": "é", "y": [1, 3]}, "b": 1})
    trigger(call_api, pipeline, "doc")
    (changed,) = runs(call_api, "doc")
    assert "-      2\n+      3" in changed["diff"]


def test_a_filter_that_selects_nothing_is_an_error_naming_it_not_a_change(
    pipeline: AwsResources, call_api: ApiCall, pages: PageServer
) -> None:
    document = real_document()
    serve(pages, document)
    watch(call_api, "gone", {"url": pages.url + API, "jsonPath": ["$.metadata.protocol"]})
    trigger(call_api, pipeline, "gone")
    del document["metadata"]["protocol"]
    serve(pages, document)
    trigger(call_api, pipeline, "gone")
    (failed,) = runs(call_api, "gone")
    assert failed["outcome"] == "error"
    assert failed["summary"] == "jsonPath '$.metadata.protocol' selected nothing"


def test_html_answer_to_a_json_watch_is_an_error(
    pipeline: AwsResources, call_api: ApiCall, pages: PageServer
) -> None:
    pages.set(API, "<html><p>maintenance</p></html>")
    watch(call_api, "html", {"url": pages.url + API, "jq": [".metadata"]})
    trigger(call_api, pipeline, "html")
    (failed,) = runs(call_api, "html")
    assert failed["outcome"] == "error"
    assert failed["summary"].startswith("the response is not JSON: ")


def test_a_jq_program_that_never_ends_fails_the_check_within_its_budget(
    pipeline: AwsResources, call_api: ApiCall, pages: PageServer
) -> None:
    serve(pages, {"a": 1})
    watch(call_api, "loop", {"url": pages.url + API, "jq": ["def f: f; f"]})
    trigger(call_api, pipeline, "loop")
    (failed,) = runs(call_api, "loop")
    assert failed["outcome"] == "error"
    assert failed["summary"] == "'def f: f; f' took over 1 s on this response; simplify it"


def test_bad_filters_are_refused_at_put_naming_the_field(
    pipeline: AwsResources, call_api: ApiCall, pages: PageServer
) -> None:
    cases = [
        ({"jsonPath": ["$.a[?(@.b == 1"]}, "jsonPath"),
        ({"jsonPath": ["store.book"]}, "jsonPath"),  # RFC 9535: a query starts with $
        ({"jq": [".a |||"]}, "jq"),
        ({"jq": ["$ENV.AWS_SECRET_ACCESS_KEY"]}, "reads outside the document"),
        ({"format": "html", "jq": [".a"]}, "job"),
    ]
    for extra, field in cases:
        body = watch(call_api, "bad", {"url": pages.url + API, **extra}, status=400)
        assert field in json.dumps(body), (extra, body)
    assert call_api("GET", "/periodic/bad").status == 404  # nothing half-written
