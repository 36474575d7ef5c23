"""Labels and bulk actions through the client (TimerClient, AsyncTimerClient) and the command line
(``timer-service timers``), against the API handler served in this process on moto: label
selectors on list, and bulk actions driven to their end."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import AwsResources
from tests.functional.test_api_answers import local_settings
from timer_service.bulk_requests import BulkResult
from timer_service.client import AsyncTimerClient, BadRequestError, TimerClient
from timer_service_cli.main import main


@pytest.fixture
def url(aws: AwsResources, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The keyless local stack's front, the API handler behind it, on a port of its own."""
    from api.handler import lambda_handler
    from timer_service_local.gateway import Gateway, GatewayApp
    from timer_service_local.lambda_context import LocalContext

    local_settings(monkeypatch, aws, keyed=False)

    async def invoke(event: dict[str, Any]) -> dict[str, Any]:
        return lambda_handler(event, LocalContext())

    served = Gateway(GatewayApp(invoke), port=0).start()
    yield served.url
    served.stop()


def cli(*args: str) -> int:
    return main(["timers", *args])


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_the_client_lists_by_labels_and_drives_a_bulk_action_to_its_end(url: str) -> None:
    with TimerClient(url) as client:
        # GIVEN 7 timers of team=pay (2 of them webhooks) and 2 of team=ops
        for n in range(7):
            body: dict[str, Any] = {"labels": {"team": "pay"}}
            if n < 2:
                body |= {"jobType": "webhook", "job": {"url": "https://example.com/h"}}
            client.put(f"p{n}", body)
        for n in range(2):
            client.put(f"o{n}", {"labels": {"team": "ops", "env": "prod"}})
        # THEN a listing by labels, job type and state holds those, every page followed
        assert [t.id for t in client.iter_timers(page_size=2, labels={"team": "pay"})] == [
            f"p{n}" for n in range(7)
        ]
        webhooks = client.list(labels={"team": "pay"}, job_type="webhook")
        assert [t.id for t in webhooks.items] == ["p0", "p1"]
        assert client.list(labels={"team": "ops", "env": "prod"}).items[1].labels == {
            "team": "ops",
            "env": "prod",
        }
        # WHEN team=pay is paused, 3 a call
        calls: list[BulkResult] = []
        total = client.bulk("pause", selector={"team": "pay"}, limit=3, on_call=calls.append)
        # THEN three calls paused all 7, and the total says so
        assert [c.matched for c in calls] == [3, 3, 1]
        assert (total.matched, total.changed, total.failed, total.next_token) == (7, 7, 0, None)
        assert [t.id for t in client.iter_timers(state="paused")] == [f"p{n}" for n in range(7)]
        # AND a bad selector is the API's 400, naming it
        with pytest.raises(BadRequestError) as refused:
            client.list(labels={"Team": "x"})
        assert refused.value.field == "label"


def test_the_async_client_lists_by_labels_and_relabels_by_ids(url: str) -> None:
    async def scenario() -> tuple[list[str], BulkResult, list[str]]:
        async with AsyncTimerClient(url) as client:
            for n in range(4):
                await client.put(f"t{n}", {"labels": {"team": "pay"}})
            before = [t.id async for t in client.iter_timers(labels={"team": "pay"})]
            total = await client.bulk(
                "relabel", ids=["t1", "t3", "gone"], set_labels={"tier": "gold"}, limit=2
            )
            gold = [t.id async for t in client.iter_timers(labels={"tier": "gold"})]
            return before, total, gold

    before, total, gold = asyncio.run(scenario())
    assert before == ["t0", "t1", "t2", "t3"]
    assert (total.changed, total.reasons) == (2, {"not found": 1})
    assert gold == ["t1", "t3"]


def test_the_command_line_puts_labels_lists_by_them_and_runs_bulk_actions(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN timers put with --label, over a body's labels
    assert cli("put", "a", '{"labels": {"env": "dev"}}', "--label", "team=pay", "--url", url) == 0
    assert cli("put", "b", "--label", "team=pay", "--label", "env=prod", "--url", url) == 0
    assert cli("put", "c", "--label", "team=ops", "--url", url) == 0
    put = json_lines(capsys.readouterr().out)
    assert [t["labels"] for t in put] == [
        {"env": "dev", "team": "pay"},
        {"team": "pay", "env": "prod"},
        {"team": "ops"},
    ]
    # THEN list --label (every one) and --state filter, as JSON lines
    assert cli("list", "--label", "team=pay", "--url", url) == 0
    assert [t["id"] for t in json_lines(capsys.readouterr().out)] == ["a", "b"]
    assert cli("list", "--label", "team=pay", "--label", "env=prod", "--url", url) == 0
    assert [t["id"] for t in json_lines(capsys.readouterr().out)] == ["b"]
    # WHEN bulk pause by label, then bulk delete by ids
    assert cli("bulk", "pause", "--label", "team=pay", "--url", url, "--json") == 0
    (paused,) = json_lines(capsys.readouterr().out)
    assert (paused["matched"], paused["changed"], paused["nextToken"]) == (2, 2, None)
    assert cli("list", "--state", "paused", "--url", url) == 0
    assert [t["id"] for t in json_lines(capsys.readouterr().out)] == ["a", "b"]
    assert cli("bulk", "delete", "--ids", "a,c,zz", "--limit", "1", "--url", url) == 0
    (deleted,) = json_lines(capsys.readouterr().out)
    assert (deleted["changed"], deleted["reasons"]) == (2, {"not found": 1})
    assert cli("list", "--url", url) == 0
    assert [t["id"] for t in json_lines(capsys.readouterr().out)] == ["b"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bulk", "pause"], "--label K=V (repeatable) or --ids A,B: one"),
        (["bulk", "pause", "--ids", "a", "--label", "a=b"], "one"),
        (["bulk", "relabel", "--ids", "a"], "relabel: give --set K=V or --remove K"),
        (["bulk", "pause", "--ids", "a", "--set", "a=b"], "--set and --remove are for relabel"),
    ],
)
def test_a_bulk_command_without_its_timers_or_with_the_wrong_flags_exits_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(*args, "--url", "http://127.0.0.1:1") == 2
    assert message in capsys.readouterr().err


def test_a_label_flag_against_the_rules_is_refused_by_argparse(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli("put", "a", "--label", "Team=pay", "--url", "http://127.0.0.1:1")
    assert exited.value.code == 2
    assert "a label key is 1-63 characters" in capsys.readouterr().err
