"""The conditional writes of a timer's run bookkeeping, as requests: its failing streak
(counted on the timer's item, no version change) and, for ``overlap: skip``, the mark of the
run in progress. Each holds only while the timer is at the version that was read."""

from __future__ import annotations

from typing import Any

from timer_service.keys import timer_key
from timer_service.models import Timer
from timer_service.store.codecs import key_item, number, string

__all__ = ["claim_run", "clear_failures", "record_failure", "release_run"]

Request = dict[str, Any]


def _at_version(table: str, timer: Timer) -> Request:
    return {
        "TableName": table,
        "Key": key_item(timer_key(timer.owner, timer.id)),
        "ConditionExpression": "version = :v",
        "ExpressionAttributeValues": {":v": number(timer.version)},
    }


def record_failure(table: str, timer: Timer) -> Request:
    """One more failed run in a row; the count comes back."""
    request = _at_version(table, timer)
    request["UpdateExpression"] = "ADD failures :one"
    request["ExpressionAttributeValues"][":one"] = number(1)
    request["ReturnValues"] = "UPDATED_NEW"
    return request


def clear_failures(table: str, timer: Timer, *, failures: int) -> Request:
    """The streak of ``failures`` ended: a run succeeded (only one of two that race does it)."""
    request = _at_version(table, timer)
    request["UpdateExpression"] = "REMOVE failures"
    request["ConditionExpression"] += " AND failures = :n"
    request["ExpressionAttributeValues"][":n"] = number(failures)
    return request


def claim_run(table: str, timer: Timer, firing_id: str, *, now_s: int, until_s: int) -> Request:
    """Mark ``firing_id``'s run in progress unless another run's mark holds (and is not past
    its lease); the same firing may claim again (a retry of its message)."""
    request = _at_version(table, timer)
    request["UpdateExpression"] = "SET runId = :f, runUntil = :u"
    request["ConditionExpression"] += (
        " AND (attribute_not_exists(runUntil) OR runUntil < :now OR runId = :f)"
    )
    request["ExpressionAttributeValues"] |= {
        ":f": string(firing_id),
        ":u": number(until_s),
        ":now": number(now_s),
    }
    return request


def release_run(table: str, timer: Timer, firing_id: str) -> Request:
    """The run ended: its mark goes, if it is still this firing's."""
    return {
        "TableName": table,
        "Key": key_item(timer_key(timer.owner, timer.id)),
        "UpdateExpression": "REMOVE runId, runUntil",
        "ConditionExpression": "runId = :f",
        "ExpressionAttributeValues": {":f": string(firing_id)},
    }
