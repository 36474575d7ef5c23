"""Every method of the client against ``timer-service dev`` (one stack for the module: two API
keys, each a tenant, and a small timer quota), sync and async, errors included."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from loadtest.stack import StackProcess, start_stack
from timer_service.client import (
    AsyncTimerClient,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    RequestTooLargeError,
    TimerClient,
)
from timer_service.models import SchedulePreviewRequest, TimerSpec

pytestmark = pytest.mark.e2e

KEY, QUOTA_KEY = "client-key", "quota-key"  # two tenants
QUOTA = 40


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    started = start_stack(
        *("--api-key", KEY, "--api-key", QUOTA_KEY, "--quiet", "--rate-limit", "0"),
        *("--timer-quota", str(QUOTA), "--shards", "2"),
        cwd=tmp_path_factory.mktemp("client"),
    )
    yield started
    started.kill()


@pytest.fixture
def client(stack: StackProcess) -> Iterator[TimerClient]:
    with TimerClient(stack.url, api_key=KEY) as timers:
        yield timers


def test_put_creates_then_replaces_and_get_reads_it_back(client: TimerClient) -> None:
    # The server's model takes its fields by their JSON names, as the API does
    spec = TimerSpec(schedule="rate(5 minutes)", timerCallbackData={"orderId": 42})
    created = client.put("order-42", spec)
    assert (created.id, created.version, created.schedule) == ("order-42", 1, "rate(5 minutes)")
    assert created.timer_callback_data == {"orderId": 42} and len(created.next_fire_times) == 5
    replaced = client.put(
        "order-42", {"schedule": "cron(30 9 ? * MON-FRI *)", "timezone": "Europe/Paris"}
    )
    assert replaced.version == 2 and replaced.timezone == "Europe/Paris"
    assert client.get("order-42") == replaced


def test_conditional_writes_hold_to_the_version_or_to_absence(client: TimerClient) -> None:
    first = client.put("cond", TimerSpec(), if_none_match=True)
    with pytest.raises(PreconditionFailedError) as exists:
        client.put("cond", TimerSpec(), if_none_match=True)
    assert exists.value.field == "If-None-Match"
    second = client.put("cond", TimerSpec(schedule="rate(1 hour)"), if_match=first.version)
    with pytest.raises(PreconditionFailedError) as stale:
        client.put("cond", TimerSpec(), if_match=first.version)
    assert (stale.value.status, stale.value.field) == (412, "If-Match")
    paused = client.pause("cond", if_match=second.version)
    with pytest.raises(PreconditionFailedError):
        client.delete("cond", if_match=second.version)
    client.delete("cond", if_match=paused.version)
    with pytest.raises(PreconditionFailedError):
        client.put("cond", TimerSpec(), if_match="*")  # only replaces: it is gone


def test_delete_removes_it_and_a_second_delete_is_not_found(client: TimerClient) -> None:
    client.put("gone", TimerSpec())
    client.delete("gone")
    with pytest.raises(NotFoundError) as raised:
        client.get("gone")
    assert (raised.value.status, raised.value.code, raised.value.field) == (404, "not_found", "id")
    with pytest.raises(NotFoundError):
        client.delete("gone")


def test_list_gives_one_page_and_iter_timers_every_page(stack: StackProcess) -> None:
    # A tenant of its own: the timers below are all it has
    with TimerClient(stack.url, api_key=QUOTA_KEY) as timers:
        for n in range(5):
            timers.put(f"page-{n}", TimerSpec(schedule="rate(1 day)"))
        page = timers.list(limit=2)
        assert [t.id for t in page.items] == ["page-0", "page-1"] and page.next_token is not None
        assert [t.id for t in timers.iter_timers(page_size=2)] == [f"page-{n}" for n in range(5)]
        for n in range(5):
            timers.delete(f"page-{n}")


def test_pause_resume_trigger_and_runs(client: TimerClient) -> None:
    client.put("fires", TimerSpec(schedule="rate(1 day)", history="all"))
    assert client.pause("fires").enabled is False
    assert client.resume("fires").enabled is True
    fired = client.trigger("fires")
    assert fired.id == "fires" and fired.firing_id.endswith("~manual")
    # WHEN its callback has run THEN its run is in the history (the sqs job type, locally)
    deadline = time.monotonic() + 20
    while not (page := client.runs("fires")).items and time.monotonic() < deadline:
        time.sleep(0.2)
    (run,) = page.items
    assert (run.firing_id, run.outcome, run.manual) == (fired.firing_id, "ok", True)
    assert [r.firing_id for r in client.iter_runs("fires", page_size=1)] == [fired.firing_id]
    with pytest.raises(NotFoundError):
        client.runs("no-such-timer")


def test_preview_job_types_dead_letters_redrive_and_health(client: TimerClient) -> None:
    preview = client.preview("cron(30 2 * * ? *)", timezone="America/New_York", count=3)
    assert len(preview.next_fire_times) == 3 and preview.timezone == "America/New_York"
    as_model = client.preview(SchedulePreviewRequest(schedule="rate(1 hour)", count=2))
    assert len(as_model.next_fire_times_local) == 2
    names = {job_type["name"] for job_type in client.job_types()}
    assert {"sqs", "webhook", "html_monitor"} <= names
    assert client.dead_letters(limit=10).items == []
    assert list(client.iter_dead_letters()) == []
    assert client.redrive().redriven == 0
    assert client.redrive(["no-such-firing"]).more is False
    assert client.health()["status"] == "ok"


def test_api_mistakes_are_typed_errors_naming_the_field(
    stack: StackProcess, client: TimerClient
) -> None:
    with pytest.raises(BadRequestError) as bad:
        client.put("bad", {"schedule": "cron(0 25 * * ? *)"})
    assert (bad.value.code, bad.value.field) == ("validation_error", "schedule")
    with pytest.raises(RequestTooLargeError):
        client.put("big", {"timerCallbackData": "x" * 300_000})
    with TimerClient(stack.url) as keyless, pytest.raises(AuthenticationError) as unknown:
        keyless.list()
    assert unknown.value.field == "X-Api-Key"


def test_a_tenant_past_its_quota_is_permission_denied(stack: StackProcess) -> None:
    with TimerClient(stack.url, api_key=QUOTA_KEY) as timers:
        for n in range(QUOTA):
            timers.put(f"q-{n}", TimerSpec(schedule="rate(1 day)"))
        with pytest.raises(PermissionDeniedError) as full:
            timers.put("one-too-many", TimerSpec())
        for n in range(QUOTA):
            timers.delete(f"q-{n}")
    assert full.value.code == "quota_exceeded"


def test_async_client_makes_the_same_calls_many_at_once(stack: StackProcess) -> None:
    async def calls() -> None:
        async with AsyncTimerClient(stack.url, api_key=KEY) as timers:
            ids = [f"async-{n}" for n in range(20)]
            created = await asyncio.gather(
                *(timers.put(i, TimerSpec(schedule="rate(1 day)")) for i in ids)
            )
            assert [t.id for t in created] == ids
            assert (await timers.get("async-3")).version == 1
            assert (await timers.pause("async-3")).enabled is False
            listed = [t.id async for t in timers.iter_timers(page_size=7)]
            assert set(ids) <= set(listed)
            assert (await timers.trigger("async-4")).id == "async-4"
            assert (await timers.preview("rate(2 hours)", count=1)).next_fire_times
            await asyncio.gather(*(timers.delete(i) for i in ids))
            with pytest.raises(NotFoundError):
                await timers.get("async-3")

    asyncio.run(calls())


def test_the_guide_s_recipe_for_many_timers_creates_them(stack: StackProcess) -> None:
    import functools
    import re

    guide = (Path(__file__).resolve().parents[2] / "docs" / "client.md").read_text()
    recipe = guide.split("## Recipe: create 10,000 timers quickly", 1)[1]
    block = re.search(r"```python\n(.*?)```", recipe, re.S)
    assert block is not None
    code = block.group(1).rsplit("asyncio.run(", 1)[0]  # all but its run against :8080
    namespace: dict[str, Any] = {}
    exec(compile(code, "docs/client.md", "exec"), namespace)
    namespace["AsyncTimerClient"] = functools.partial(AsyncTimerClient, api_key=KEY)
    asyncio.run(namespace["create_all"](stack.url, 20))
    with TimerClient(stack.url, api_key=KEY) as client:
        made = [t.id for t in client.iter_timers() if t.id.startswith("order-0")]
        assert made == [f"order-{n:05d}" for n in range(20)]
        for timer_id in made:
            client.delete(timer_id)


def test_the_guide_s_conditional_write_keeps_the_timer_s_other_fields(
    client: TimerClient,
) -> None:
    # GIVEN a timer with a time zone and callback data, then the guide's conditional put
    import re

    created = client.put(
        "order-42",
        {"schedule": "rate(5 minutes)", "timezone": "Europe/Paris", "timerCallbackData": [42]},
    )  # the module's other tests may have made an order-42 before: a version of its own
    guide = (Path(__file__).resolve().parents[2] / "docs" / "client.md").read_text()
    section = guide.split("**Conditional writes.**", 1)[1]
    block = re.search(r"```python\n(.*?)```", section, re.S)
    assert block is not None
    exec(compile(block.group(1), "docs/client.md", "exec"), {"client": client})
    # THEN it is paused, and nothing else of it was lost
    timer = client.get("order-42")
    assert (timer.enabled, timer.version) == (False, created.version + 1)
    assert (timer.timezone, timer.timer_callback_data) == ("Europe/Paris", [42])
    client.delete("order-42")
