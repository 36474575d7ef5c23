"""Failure alerts for every job type: where notices go (a webhook, an SNS topic, Apprise
URLs, as ``html_monitor``'s ``notify`` has them) and after how many failures in a row.

One notice when a failing streak reaches ``afterFailures``, one when it ends (the next
success), none per firing in between; ``pauseAfterFailures`` pauses the timer with a reason.
The streak is counted on the timer's item, which delivery reads anyway: a timer that does not
fail costs no write, and the first success after failures one (to reset the count). Notices
are sent by the built-in ``notify`` job type, through the same SSRF guard as every job.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, AnyHttpUrl, BaseModel, ConfigDict, Field, StrictInt
from pydantic.alias_generators import to_camel

__all__ = [
    "DEFAULT_AFTER_FAILURES",
    "NOTIFY_JOB_TYPE",
    "SNS_ARN_PATTERN",
    "AlertsSpec",
    "NotifyConfig",
    "check_apprise_url",
]

SNS_ARN_PATTERN = r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$"
DEFAULT_AFTER_FAILURES = 3
NOTIFY_JOB_TYPE = "notify"  # the job type that sends notices (callbacks.job_types.notify)


def check_apprise_url(url: str) -> str:
    """``url`` if Apprise supports it; ValueError otherwise."""
    import apprise  # slow to import: only for timers that use it

    if apprise.Apprise.instantiate(url, suppress_exceptions=True) is None:
        raise ValueError("not a URL Apprise supports")
    return url


AppriseUrl = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(check_apprise_url)]


class NotifyConfig(BaseModel):
    """Where a monitor's notices go; any of the three, or none."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    webhook_url: AnyHttpUrl | None = None
    sns_topic_arn: Annotated[str | None, Field(pattern=SNS_ARN_PATTERN)] = None
    apprise: Annotated[list[AppriseUrl], Field(max_length=10)] = Field(
        default_factory=list, description="Apprise URLs, e.g. slack://..., mailto://..."
    )


class AlertsSpec(NotifyConfig):
    """A timer's ``alerts``: where failure notices go, and after how many failures in a row."""

    after_failures: Annotated[
        StrictInt,
        Field(ge=1, le=1000, description="failed runs in a row before the notice (default 3)"),
    ] = DEFAULT_AFTER_FAILURES
