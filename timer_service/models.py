"""Value objects: a client sends a TimerSpec, the store keeps a Timer, the API shows a TimerView."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationInfo,
    field_validator,
)
from pydantic.alias_generators import to_camel

from timer_service.alerts import AlertsSpec
from timer_service.camel import CamelModel
from timer_service.errors import InvalidScheduleError
from timer_service.heartbeat import HeartbeatSpec
from timer_service.jitter import MAX_JITTER_S
from timer_service.labels import LabelMap
from timer_service.runs import HistoryPolicy
from timer_service.schedules import MAX_YEAR, MIN_YEAR, load_timezone, parse_schedule
from timer_service.shards import MAX_SHARDS, ShardRegistry, ShardState

__all__ = [
    "DEFAULT_SCHEDULE",
    "MAX_CALLBACK_DATA_BYTES",
    "MAX_CATCH_UP_WINDOW_S",
    "MAX_SHARDS",
    "TIMER_ID_PATTERN",
    "TIMER_ID_RULE",
    "TIMER_TOKEN_PATTERN",
    "DeliveryMode",
    "MisfirePolicy",
    "OnComplete",
    "Overlap",
    "SchedulePreviewRequest",
    "ShardRegistry",
    "ShardState",
    "Timer",
    "TimerSpec",
    "TimerState",
    "is_timer_id",
    "json_size",
]

# 1-128 of A-Z a-z 0-9 . _ : -, but not "." or "..": a URL path drops those segments (RFC 3986
# 5.2.4), so no client could reach the timer again. Spelled without a look-ahead, which JSON
# Schema's users (pydantic's Rust regex, hypothesis) do not all read.
TIMER_ID_PATTERN = (
    r"^(?:[A-Za-z0-9_:-][A-Za-z0-9._:-]{0,127}"
    r"|\.[A-Za-z0-9_:-][A-Za-z0-9._:-]{0,126}"
    r"|\.\.[A-Za-z0-9._:-]{1,126})$"
)
TIMER_ID_RE = re.compile(TIMER_ID_PATTERN)
TIMER_ID_RULE = "1-128 characters of A-Z a-z 0-9 . _ : -, other than . and .."
# A page token is the last id of a page: any id ever stored, . and .. included.
TIMER_TOKEN_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"
TIMER_TOKEN_RE = re.compile(TIMER_TOKEN_PATTERN)
DEFAULT_SCHEDULE = "rate(1 minute)"
SCHEDULE_HELP = "rate(N seconds|minutes|hours|days), cron(6 fields) or at(YYYY-MM-DDThh:mm:ss)"
DEFAULT_JOB_TYPE = "sqs"
MAX_CALLBACK_DATA_BYTES = 64 * 1024
# A late cron item is kept two days (time_index.INDEX_RETENTION_S): no catch-up reaches further.
MAX_CATCH_UP_WINDOW_S = 2 * 86400

MisfirePolicy = Literal["fireOnce", "fireAll", "skip"]
OnComplete = Literal["keep", "delete"]
Overlap = Literal["allow", "skip"]
MAX_FIRINGS = 1_000_000
TimerState = Literal["active", "paused", "completed"]
DeliveryMode = Literal["atLeastOnce", "deduplicated"]


def is_timer_id(text: str) -> bool:
    """Whether ``text`` is a timer id, all of it (``$`` alone would let a trailing newline by)."""
    return TIMER_ID_RE.fullmatch(text) is not None


def json_size(value: Any) -> int:
    """Bytes of ``value`` as compact UTF-8 JSON: the size the service stores and sends."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


class _TimingFields(CamelModel):
    """When a timer fires: the fields a schedule preview and a timer share."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=False, extra="forbid", frozen=True
    )

    schedule: Annotated[
        StrictStr,
        Field(
            description=SCHEDULE_HELP,
            max_length=256,
        ),
    ] = DEFAULT_SCHEDULE
    timezone: Annotated[StrictStr, Field(description="IANA time zone", max_length=64)] = "UTC"
    start_at: Annotated[
        datetime | None,
        Field(description="no firing before this instant; without offset: local to timezone"),
    ] = None
    end_at: Annotated[
        datetime | None,
        Field(description="no firing after this instant; without offset: local to timezone"),
    ] = None

    @field_validator("schedule")
    @classmethod
    def _schedule_parses(cls, value: str) -> str:
        try:
            return parse_schedule(value).expression
        except InvalidScheduleError as exc:
            raise ValueError(exc.message) from exc

    @field_validator("timezone")
    @classmethod
    def _timezone_exists(cls, value: str) -> str:
        try:
            load_timezone(value)
        except InvalidScheduleError as exc:
            raise ValueError(exc.message) from exc
        return value

    @field_validator("start_at", "end_at", mode="before")
    @classmethod
    def _date_time_text(cls, value: object) -> object:
        if value is None or isinstance(value, str | datetime):
            return value
        raise ValueError("must be an ISO 8601 date-time, e.g. 2027-01-01T09:00:00")

    @field_validator("start_at", "end_at")
    @classmethod
    def _date_time_in_range(cls, value: datetime | None) -> datetime | None:
        if value is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
            raise ValueError(f"the year must be {MIN_YEAR}-{MAX_YEAR}")
        return value

    @field_validator("end_at")
    @classmethod
    def _end_after_start(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        start = info.data.get("start_at")
        if value is None or start is None:
            return value
        if (start.tzinfo is None) == (value.tzinfo is None) and value <= start:
            raise ValueError("endAt must be later than startAt")
        return value


class TimerSpec(_TimingFields):
    """The body of ``PUT /periodic/{id}``; every field has a default."""

    model_config = ConfigDict(  # and the strict settings of _TimingFields
        json_schema_extra={
            "examples": [
                {
                    "schedule": "rate(5 minutes)",
                    "jobType": "webhook",
                    "job": {"url": "https://example.com/hook"},
                    "timerCallbackData": {"orderId": 42},
                }
            ]
        },
    )

    job_type: Annotated[StrictStr, Field(max_length=64)] = DEFAULT_JOB_TYPE
    job: Annotated[dict[str, JsonValue], Field(description="configuration of the job type")] = (
        Field(default_factory=dict)
    )
    timer_callback_data: Annotated[
        JsonValue, Field(description="any JSON, at most 64 KiB; handed to every firing")
    ] = None
    enabled: StrictBool = True
    misfire_policy: MisfirePolicy = "fireOnce"
    delivery: Annotated[
        DeliveryMode,
        Field(
            description="atLeastOnce: no write per firing, receivers dedupe on the firing id;"
            " deduplicated: the job never runs twice for one firing (one write per firing)"
        ),
    ] = "atLeastOnce"
    history: Annotated[
        HistoryPolicy | None,
        Field(
            description="which runs GET /periodic/{id}/runs keeps: all, changes-and-errors"
            " (default for html_monitor), errors (default otherwise) or none"
        ),
    ] = None
    catch_up_window: Annotated[
        StrictInt | None,
        Field(
            ge=0,
            le=MAX_CATCH_UP_WINDOW_S,
            description="fireAll: after an outage, missed firings up to this many seconds old"
            " are still sent (paced, one a second); default the stack's, 3600",
        ),
    ] = None
    heartbeat: Annotated[
        HeartbeatSpec | None,
        Field(
            description="a heartbeat timer (no schedule): fires when not pinged within"
            " periodSeconds + graceSeconds of the last ping; its ping URL is in the answer"
        ),
    ] = None
    jitter_seconds: Annotated[
        StrictInt,
        Field(
            ge=0,
            le=MAX_JITTER_S,
            description="each firing runs at its scheduled time plus an offset in"
            " [0, jitterSeconds], derived from the timer and that time (never early)",
        ),
    ] = 0
    max_firings: Annotated[
        StrictInt | None,
        Field(
            ge=1,
            le=MAX_FIRINGS,
            description="the timer completes after this many scheduled firings from when it is"
            " written (a cron's at most 10000)",
        ),
    ] = None
    on_complete: Annotated[
        OnComplete,
        Field(
            description="keep: a completed timer stays (state completed, no longer counted in"
            " the quota); delete: it is removed once its last firing has run"
        ),
    ] = "keep"
    alerts: Annotated[
        AlertsSpec | None,
        Field(
            description="failure notices for any job type: webhookUrl, snsTopicArn, apprise;"
            " one when afterFailures runs in a row failed (default 3), one on recovery"
        ),
    ] = None
    pause_after_failures: Annotated[
        StrictInt | None,
        Field(ge=1, le=1000, description="pause the timer after this many failed runs in a row"),
    ] = None
    concurrency_key: Annotated[
        StrictStr | None,
        Field(
            pattern=r"^[A-Za-z0-9._:/-]{1,128}$",
            description="flow control: all your timers with this key share its limits",
        ),
    ] = None
    max_concurrency: Annotated[
        StrictInt | None,
        Field(ge=1, le=1000, description="runs of the key at once, at most"),
    ] = None
    max_per_second: Annotated[
        StrictInt | None,
        Field(ge=1, le=1000, description="runs of the key started in one second, at most"),
    ] = None
    overlap: Annotated[
        Overlap,
        Field(
            description="allow: firings run even while the previous run goes on; skip: a firing"
            " is skipped (recorded skipped) while the previous run of this timer has not ended"
        ),
    ] = "allow"
    labels: Annotated[
        LabelMap,
        Field(
            description="key -> value, for finding and acting on timers by what they are"
            " (GET /periodic?label=, POST /periodic/bulk); changing only labels never moves"
            " a firing"
        ),
    ] = Field(default_factory=dict)

    @field_validator("timer_callback_data")
    @classmethod
    def _callback_data_fits(cls, value: JsonValue) -> JsonValue:
        size = json_size(value)
        if size > MAX_CALLBACK_DATA_BYTES:
            raise ValueError(f"is {size} bytes as JSON; at most {MAX_CALLBACK_DATA_BYTES}")
        return value


class SchedulePreviewRequest(_TimingFields):
    """The body of ``POST /schedules/preview``: a schedule as a timer would take it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"schedule": "cron(30 2 * * ? *)", "timezone": "America/New_York"}]
        },
    )

    schedule: Annotated[  # required here: there is nothing to preview without it
        StrictStr,
        Field(
            description=SCHEDULE_HELP,
            max_length=256,
        ),
    ]
    count: Annotated[StrictInt, Field(ge=1, le=20, description="how many firings to show")] = 5
    jitter_seconds: Annotated[StrictInt, Field(ge=0, le=MAX_JITTER_S)] = 0
    id: Annotated[
        StrictStr | None,
        Field(
            pattern=TIMER_ID_PATTERN,
            description="the timer's id: with jitterSeconds, the offsets are this timer's",
        ),
    ] = None
    max_firings: Annotated[StrictInt | None, Field(ge=1, le=MAX_FIRINGS)] = None


class Timer(BaseModel):
    """A stored timer. Times are epoch seconds (UTC); ``first_fire_s`` anchors a rate."""

    model_config = ConfigDict(frozen=True)

    owner: str
    id: str
    shard: int
    schedule: str
    timezone: str = "UTC"
    start_s: int | None = None
    end_s: int | None = None
    first_fire_s: int | None = None
    job_type: str = DEFAULT_JOB_TYPE
    job: dict[str, Any] = Field(default_factory=dict)
    callback_data: Any = None
    enabled: bool = True
    misfire_policy: MisfirePolicy = "fireOnce"
    delivery: DeliveryMode = "atLeastOnce"
    history: HistoryPolicy | None = None  # None: the job type's default
    catch_up_window_s: int | None = None  # None: the stack's CATCH_UP_WINDOW_SECONDS
    heartbeat_period_s: int | None = None  # a heartbeat timer: its period and grace,
    heartbeat_grace_s: int | None = None
    ping_hash: str | None = None  # and its ping token's hash (timer_service.heartbeat)
    jitter_s: int = 0
    max_firings: int | None = None
    max_fire_s: int | None = None  # the maxFirings-th firing's second (timer_service.completion)
    on_complete: OnComplete = "keep"
    completed_s: int | None = None  # when its last firing ran: it no longer counts
    firing_weight: int = 0  # firings per minute counted against the owner's limit
    alerts: dict[str, Any] | None = None  # AlertsSpec, as JSON (by alias)
    pause_after_failures: int | None = None
    overlap: Overlap = "allow"
    failures: int = 0  # failed runs in a row (delivery counts them; no version change)
    concurrency_key: str | None = None
    max_concurrency: int | None = None
    max_per_second: int | None = None
    paused_reason: str | None = None  # why delivery paused it (pauseAfterFailures)
    labels: dict[str, str] = Field(default_factory=dict)
    version: int = 1
    # The version its index items and firings carry, when writes that changed only its labels
    # have moved `version` past it (None: `version`): such a write leaves its firings be.
    schedule_version: int | None = None
    # A replace hands over between two seconds: firings of the version it replaced (its firing
    # version, `prior_version`) scheduled at or before `prior_until_s` still run, once; the new
    # version's start after it (timer_service.handoff.hand_over).
    prior_version: int | None = None
    prior_until_s: int | None = None
    created_s: int
    updated_s: int

    @property
    def firing_version(self) -> int:
        """The version its index items and firings carry: a firing of another is stale."""
        return self.version if self.schedule_version is None else self.schedule_version

    def runs_firing_of(
        self, version: int, scheduled_s: int, incarnation: int | None = None
    ) -> bool:
        """Whether a firing of ``version`` scheduled at ``scheduled_s`` is one of this
        timer's: its own, or one the version it replaced had due before the hand-over; never
        one of another incarnation (a timer of the id deleted since; None: not known)."""
        if incarnation not in (None, self.created_s):
            return False
        if version == self.firing_version:
            return True
        return (
            version == self.prior_version
            and self.prior_until_s is not None
            and scheduled_s <= self.prior_until_s
        )

    @property
    def last_s(self) -> int | None:
        """The last second it may fire: ``endAt`` or its ``maxFirings``-th firing."""
        bounds = [s for s in (self.end_s, self.max_fire_s) if s is not None]
        return min(bounds) if bounds else None
