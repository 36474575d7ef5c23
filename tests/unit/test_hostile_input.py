"""Hostile input never crashes the parsers and never takes long: schedules, PUT bodies, pages.

Each property draws thousands of inputs; "bounded time" is hypothesis's per-example deadline.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import quote

import h11
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from callbacks.html_monitor.extract import MAX_DEPTH, NestingTooDeepError, extract_text
from callbacks.html_monitor.job import HtmlMonitorJob
from callbacks.job_types.webhook import WebhookJob
from timer_service.clock import FixedClock
from timer_service.errors import InvalidRequestError, InvalidScheduleError
from timer_service.job_types import JobTypeRegistry
from timer_service.models import TimerSpec, is_timer_id
from timer_service.schedules import LATEST_FIRE_S, Timing, parse_schedule
from timer_service.service import TimerService
from timer_service.store.memory import InMemoryTimerStore

NOW_S = 1_795_000_000  # 2026-11-18
FAST = settings(max_examples=400, deadline=timedelta(milliseconds=500))
CRON_TOKENS = st.sampled_from(
    [
        "*",
        "?",
        "L",
        "W",
        "LW",
        "#",
        "/",
        "-",
        ",",
        "0",
        "1",
        "5",
        "7",
        "15",
        "23",
        "31",
        "59",
        "60",
        "1970",
        "2199",
        "2200",
        "MON",
        "FRI",
        "JAN",
        "DEC",
        "5#5",
        "6L",
        "15W",
        "0/0",
        "1-0",
    ]
)
CRON_FIELD = st.lists(CRON_TOKENS, min_size=1, max_size=4).map("".join)


@FAST
@given(st.text(max_size=300))
def test_any_text_is_a_schedule_or_a_clear_error(text: str) -> None:
    try:
        parse_schedule(text)
    except InvalidScheduleError as exc:
        assert exc.field == "schedule" and exc.message


@FAST
@given(st.lists(CRON_FIELD, min_size=6, max_size=6))
def test_cron_like_expressions_parse_or_fail_clearly_and_evaluate_quickly(
    fields: list[str],
) -> None:
    expression = f"cron({' '.join(fields)})"
    try:
        schedule = parse_schedule(expression)
    except InvalidScheduleError as exc:
        assert exc.message.startswith(expression) or exc.message.startswith(f"'{expression}")
        return
    fires = Timing(schedule, "America/New_York").next_fires(NOW_S, 5)
    assert fires == sorted(set(fires))


@FAST
@given(
    value=st.integers(min_value=-5, max_value=10**12),
    unit=st.sampled_from(["minute", "minutes", "hour", "hours", "day", "days", "week", ""]),
)
def test_rates_of_any_size_parse_or_fail_clearly(value: int, unit: str) -> None:
    try:
        schedule = parse_schedule(f"rate({value} {unit})")
    except InvalidScheduleError:
        return
    fires = Timing(schedule, first_fire_s=NOW_S).next_fires(NOW_S, 3)
    period = schedule.period_s  # type: ignore[union-attr]
    expected = [s for s in (NOW_S, NOW_S + period, NOW_S + 2 * period) if s <= LATEST_FIRE_S]
    assert fires == expected


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
FIELDS = st.sampled_from(
    [
        "schedule",
        "timezone",
        "startAt",
        "endAt",
        "jobType",
        "job",
        "timerCallbackData",
        "enabled",
        "misfirePolicy",
        "delivery",
        "history",
        "colour",
    ]
)


@settings(max_examples=400, deadline=timedelta(milliseconds=500))
@given(st.dictionaries(FIELDS, JSON, max_size=6))
def test_any_put_body_is_a_timer_spec_or_a_validation_error(body: dict[str, Any]) -> None:
    try:
        TimerSpec.model_validate(body)
    except ValidationError as exc:
        assert exc.errors()


YEARS = st.sampled_from([1, 1969, 1970, 2026, 2027, 2199, 2200, 9999])
OFFSETS = st.sampled_from(["", "Z", "+14:00", "-12:00", "+05:30"])
ZONES = st.sampled_from(["UTC", "America/New_York", "Pacific/Kiritimati", "Pacific/Pago_Pago"])


@st.composite
def instant(draw: st.DrawFn) -> str:
    year, offset = draw(YEARS), draw(OFFSETS)
    return f"{year:04d}-12-31T23:{draw(st.sampled_from(['00', '59']))}:00{offset}"


@st.composite
def extreme_schedule(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["rate", "at", "cron"]))
    if kind == "rate":
        value = draw(st.sampled_from([1, 59, 10**5, 10**6, 10**8, 10**11]))
        return f"rate({value} {draw(st.sampled_from(['minutes', 'hours', 'days']))})"
    if kind == "at":
        return f"at({draw(instant())[:19]})"
    year = draw(st.sampled_from(["*", "2020", "2199", "2026-2199"]))
    return f"cron(0 0 {draw(st.sampled_from(['*', '29', 'L']))} * ? {year})"


@settings(max_examples=300, deadline=timedelta(milliseconds=1000))
@given(
    schedule=extreme_schedule(),
    timezone=ZONES,
    start=st.none() | instant(),
    end=st.none() | instant(),
)
def test_extreme_times_are_a_timer_that_reads_back_or_a_400_that_writes_nothing(
    schedule: str, timezone: str, start: str | None, end: str | None
) -> None:
    """Found by probing a local stack: rate(99999999999 minutes) was stored, then its view
    (year 192159) failed, answering 502 and breaking GET and the list for its owner."""
    fields = {"schedule": schedule, "timezone": timezone, "startAt": start, "endAt": end}
    store = InMemoryTimerStore()
    service = TimerService(
        store=store, clock=FixedClock(NOW_S), job_types=JobTypeRegistry.from_entry_points()
    )
    try:
        spec = TimerSpec.model_validate({k: v for k, v in fields.items() if v is not None})
        service.put("alice", "t", spec)
    except (ValidationError, InvalidRequestError):
        assert service.list("alice").items == []
        return
    view = service.get("alice", "t")
    assert view.next_fire_times and service.list("alice").items == [view]


TAGS = st.sampled_from(["div", "p", "span", "b", "table", "td", "li", "script", "svg", "x-y"])


@st.composite
def tag_soup(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 60))):
        tag = draw(TAGS)
        parts.append(
            draw(
                st.sampled_from(
                    [f"<{tag}>", f"</{tag}>", f"<{tag} class='a'>", draw(st.text(max_size=20))]
                )
            )
        )
    return "".join(parts)


@settings(max_examples=300, deadline=timedelta(milliseconds=500))
@given(
    html=tag_soup() | st.text(max_size=2000),
    include=st.none() | st.lists(st.sampled_from(["div", "p", ".a", "td span", "#x"]), max_size=2),
)
def test_any_markup_gives_text(html: str, include: list[str] | None) -> None:
    text = extract_text(html, include=include, ignore_text=["^a+$"])
    assert "\ue000" not in text
    assert all(line == line.strip() and line for line in text.splitlines())


@settings(max_examples=100, deadline=timedelta(milliseconds=1000))
@given(st.binary(max_size=20_000))
def test_any_bytes_give_text(body: bytes) -> None:
    assert isinstance(extract_text(body), str)


@settings(
    max_examples=15,
    deadline=timedelta(seconds=3),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(depth=st.integers(0, 60_000), tag=st.sampled_from(["div", "span", "b", "x-deep"]))
def test_deep_pages_are_parsed_or_refused_quickly(depth: int, tag: str) -> None:
    html = f"<{tag}>" * depth + "core" + f"</{tag}>" * depth
    try:
        assert extract_text(html).endswith("core")
    except NestingTooDeepError:
        assert depth > MAX_DEPTH


def test_a_huge_flat_page_is_extracted() -> None:
    html = "<table>" + "<tr><td>cell</td></tr>" * 100_000 + "</table>"
    assert extract_text(html).count("cell") == 100_000


ID_LIKE = st.text(alphabet=st.sampled_from("aZ09._:-/%\n "), min_size=0, max_size=6) | st.text(
    alphabet=st.sampled_from(".a"), min_size=120, max_size=130
)


@settings(max_examples=2000, deadline=None)
@given(ID_LIKE | st.sampled_from([".", "..", "...", ".a", "a.", "..a"]))
def test_an_id_is_accepted_exactly_when_a_url_can_address_it(text: str) -> None:
    # httpx resolves the URL as RFC 3986 says (dot segments removed, 5.2.4): the id must come
    # back as the path segment it was sent as, or no client could reach the timer
    url = httpx.URL(f"http://127.0.0.1/periodic/{quote(text, safe='')}/runs")
    addressable = url.path == f"/periodic/{text}/runs" and 1 <= len(text) <= 128
    in_alphabet = all(c.isascii() and (c.isalnum() or c in "._:-") for c in text)
    assert is_timer_id(text) == (addressable and in_alphabet), (text, url.path)


HEADER_TEXT = st.text(alphabet=st.characters(codec="utf-8", max_codepoint=0x17F), max_size=8)


@pytest.mark.parametrize("model", [WebhookJob, HtmlMonitorJob])
@settings(max_examples=1000, deadline=None)
@given(HEADER_TEXT | st.sampled_from(["X-Tenant", "a b", " a", "a\t", "a\r\nb"]), HEADER_TEXT)
def test_a_job_header_that_is_taken_can_be_sent_by_httpx_and_h11(
    model: type[BaseModel], name: str, value: str
) -> None:
    # the webhook's own HTTP stack is the judge: what it refuses at firing time would only
    # ever be retried, so the PUT must refuse it first (h11 itself is laxer than RFC 9110:
    # it sends control characters other than NUL, CR, LF and whitespace; the PUT does not)
    try:
        request = httpx.Request("POST", "https://example.com/", headers={name: value})
        h11.Request(method="POST", target="/", headers=request.headers.raw)
        sendable = True
    except (h11.LocalProtocolError, UnicodeEncodeError):
        sendable = False
    try:
        model.model_validate({"url": "https://example.com/", "headers": {name: value}})
        taken = True
    except ValidationError as exc:
        assert exc.errors()[0]["loc"][:2] == ("headers", name)
        taken = False
    assert sendable or not taken, (name, value)
