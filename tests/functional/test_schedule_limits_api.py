"""Second rates, jitter, run limits and the firing limit through the API Lambda on moto: what
a client sends and reads back, and every mistake a 400 naming its field."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ApiCall, AwsResources, set_settings


def test_second_rate_timer_round_trips_with_its_new_fields(call_api: ApiCall) -> None:
    body = {
        "schedule": "rate(10 seconds)",
        "jitterSeconds": 5,
        "maxFirings": 30,
        "onComplete": "delete",
    }
    created = call_api("PUT", "/periodic/fast", body)
    assert created.status == 201, created.body
    view = call_api("GET", "/periodic/fast").body
    assert view["schedule"] == "rate(10 seconds)"
    assert (view["jitterSeconds"], view["maxFirings"], view["onComplete"]) == (5, 30, "delete")
    assert (view["state"], view["firingsLeft"], view["completedAt"]) == ("active", 30, None)
    fires, runs = view["nextFireTimes"], view["nextRunTimes"]
    assert len(fires) == len(runs) == 5
    assert all(run >= fire for fire, run in zip(fires, runs, strict=True))  # ISO UTC: sortable
    plain = call_api("PUT", "/periodic/plain", {}).body
    assert (plain["state"], plain["firingsLeft"], plain["jitterSeconds"]) == ("active", None, 0)
    assert plain["nextRunTimes"] == plain["nextFireTimes"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"jitterSeconds": 901}, "jitterSeconds"),
        ({"jitterSeconds": -1}, "jitterSeconds"),
        ({"jitterSeconds": "5"}, "jitterSeconds"),
        ({"maxFirings": 0}, "maxFirings"),
        ({"maxFirings": 1_000_001}, "maxFirings"),
        ({"maxFirings": 2.5}, "maxFirings"),
        ({"onComplete": "later"}, "onComplete"),
        ({"schedule": "rate(0 seconds)"}, "schedule"),
        ({"schedule": "cron(* * * * ? *)", "maxFirings": 200_000}, "maxFirings"),
        ({"heartbeat": {"periodSeconds": 3600}, "maxFirings": 3}, "maxFirings"),
        ({"heartbeat": {"periodSeconds": 3600}, "jitterSeconds": 3}, "jitterSeconds"),
    ],
)
def test_mistakes_in_the_new_fields_are_400s_naming_them(
    call_api: ApiCall, body: dict[str, Any], field: str
) -> None:
    answer = call_api("PUT", "/periodic/bad", body)
    assert answer.status == 400, answer.body
    assert answer.body["error"]["field"] == field, answer.body
    assert call_api("GET", "/periodic/bad").status == 404  # nothing half-written


def test_the_firing_limit_is_a_400_naming_the_schedule_and_per_owner(
    call_api: ApiCall, aws: AwsResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    from timer_service.settings import Settings

    set_settings(
        monkeypatch, **(Settings.from_env().model_dump() | {"max_firings_per_minute": 100})
    )
    assert call_api("PUT", "/periodic/a", {"schedule": "rate(1 second)"}).status == 201
    refused = call_api("PUT", "/periodic/b", {"schedule": "rate(1 second)"})
    assert refused.status == 400, refused.body
    error = refused.body["error"]
    assert (error["code"], error["field"]) == ("firing_rate_exceeded", "schedule")
    assert "100" in error["message"]
    assert call_api("GET", "/periodic/b").status == 404
    # AND another owner is not held back by alice's timers
    other = call_api(
        "PUT", "/periodic/b", {"schedule": "rate(1 second)"}, user="arn:aws:iam::1:user/bob"
    )
    assert other.status == 201, other.body
    # AND pausing frees alice's share; resuming over the limit is refused the same way
    assert call_api("POST", "/periodic/a/pause").status == 200
    assert call_api("PUT", "/periodic/b", {"schedule": "rate(1 second)"}).status == 201
    resumed = call_api("POST", "/periodic/a/resume")
    assert resumed.status == 400 and resumed.body["error"]["code"] == "firing_rate_exceeded"


def test_preview_shows_run_times_for_a_named_jittered_timer(call_api: ApiCall) -> None:
    body = {"schedule": "rate(1 hour)", "jitterSeconds": 600, "id": "nightly", "count": 3}
    preview = call_api("POST", "/schedules/preview", body)
    assert preview.status == 200, preview.body
    runs = preview.body["nextRunTimes"]
    assert len(runs) == 3 and runs != preview.body["nextFireTimes"]
    call_api("PUT", "/periodic/nightly", {"schedule": "rate(1 hour)", "jitterSeconds": 600})
    assert call_api("GET", "/periodic/nightly").body["nextRunTimes"][:3] == runs
    anonymous = call_api(
        "POST", "/schedules/preview", {"schedule": "rate(1 hour)", "jitterSeconds": 6}
    )
    assert anonymous.status == 200 and anonymous.body["nextRunTimes"] is None
    limited = call_api(
        "POST", "/schedules/preview", {"schedule": "rate(5 seconds)", "maxFirings": 2}
    )
    assert len(limited.body["nextFireTimes"]) == 2


@pytest.mark.parametrize(
    "extra", [{"jitterSeconds": 0}, {"onComplete": "keep"}, {"maxFirings": None}]
)
def test_a_heartbeat_takes_the_default_values_get_shows_for_it(
    call_api: ApiCall, extra: dict[str, Any]
) -> None:
    """Found by the review: these defaults, as GET shows them, were refused with a heartbeat."""
    answer = call_api("PUT", "/periodic/beat", {"heartbeat": {"periodSeconds": 3600}, **extra})
    assert answer.status == 201, answer.body
    view = call_api("GET", "/periodic/beat").body
    assert (view["jitterSeconds"], view["onComplete"], view["maxFirings"]) == (0, "keep", None)


def test_backfills_past_the_minute_s_budget_are_a_429_with_retry_after(
    call_api: ApiCall, monkeypatch: pytest.MonkeyPatch
) -> None:
    from timer_service.bursts import BURST_FLOOR
    from timer_service.settings import Settings

    set_settings(
        monkeypatch, **(Settings.from_env().model_dump() | {"max_firings_per_minute": 100})
    )
    body = {"schedule": "rate(1 second)", "startAt": "2026-01-01T00:00:00Z", "enabled": False}
    assert call_api("PUT", "/periodic/fast", body).status == 201
    interval = {"from": "2026-01-01T00:00:00Z", "to": "2026-01-01T00:10:00Z"}  # 600 firings
    first = call_api("POST", "/periodic/fast/backfill", interval)
    assert first.status == 202 and first.body["backfilled"] == 600, first.body
    again = call_api("POST", "/periodic/fast/backfill", interval)  # 1,200 > BURST_FLOOR
    if again.status == 202:  # the minute turned between the two: the next one is refused
        again = call_api("POST", "/periodic/fast/backfill", interval)
    assert again.status == 429, again.body
    error = again.body["error"]
    assert (error["code"], error["field"]) == ("firing_burst_exceeded", "schedule")
    assert str(BURST_FLOOR) in error["message"]
    assert 1 <= int(again.headers["Retry-After"]) <= 60
