"""DynamoDB items <-> the service's values: pure functions, no client (keys in
:mod:`timer_service.keys`, attribute values in DynamoDB's JSON: ``{"S": ...}``, ``{"N": ...}``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from timer_service.heartbeat import HeartbeatState
from timer_service.keys import (
    OWNER_INDEX_PK,
    OWNER_INDEX_SK,
    PK,
    SK,
    TTL_ATTRIBUTE,
    IndexKey,
    firing_claim_key,
    job_state_key,
    owner_partition,
    registry_key,
    run_partition,
    timer_key,
)
from timer_service.models import ShardRegistry, ShardState, Timer
from timer_service.runs import Run
from timer_service.snapshots import is_deflated
from timer_service.store.base import decode_job_state, encode_job_state
from timer_service.time_index import IndexEntry

__all__ = [
    "Item",
    "claim_item",
    "heartbeat_from_item",
    "index_entry_from_item",
    "index_item",
    "job_state_from_item",
    "job_state_item",
    "key_item",
    "number",
    "numbers",
    "registry_from_item",
    "registry_item",
    "run_from_item",
    "run_item",
    "shard_state_from_item",
    "string",
    "timer_from_item",
    "timer_item",
    "version_of",
]

Item = dict[str, Any]


def string(value: str) -> dict[str, str]:
    return {"S": value}


def number(value: int) -> dict[str, str]:
    return {"N": str(value)}


def numbers(values: Iterable[int]) -> dict[str, list[str]]:
    """A number set (``NS``); DynamoDB refuses an empty one."""
    return {"NS": [str(v) for v in sorted(values)]}


def _put_number(item: Item, name: str, value: int | None) -> None:
    if value is not None:
        item[name] = number(value)


def _get_number(item: Item, name: str) -> int | None:
    return int(item[name]["N"]) if name in item else None


def _get_string(item: Item, name: str) -> str | None:
    return item[name]["S"] if name in item else None


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def key_item(key: IndexKey) -> Item:
    return {PK: string(key.pk), SK: string(key.sk)}


def timer_item(timer: Timer) -> Item:
    item: Item = {
        **key_item(timer_key(timer.owner, timer.id)),
        OWNER_INDEX_PK: string(owner_partition(timer.owner)),
        OWNER_INDEX_SK: string(timer.id),
        "owner": string(timer.owner),
        "id": string(timer.id),
        "shard": number(timer.shard),
        "schedule": string(timer.schedule),
        "tz": string(timer.timezone),
        "jobType": string(timer.job_type),
        "job": string(_compact(timer.job)),
        "data": string(_compact(timer.callback_data)),
        "enabled": {"BOOL": timer.enabled},
        "misfire": string(timer.misfire_policy),
        "delivery": string(timer.delivery),
        "version": number(timer.version),
        "createdS": number(timer.created_s),
        "updatedS": number(timer.updated_s),
    }
    _put_number(item, "startS", timer.start_s)
    _put_number(item, "endS", timer.end_s)
    _put_number(item, "firstFireS", timer.first_fire_s)
    _put_number(item, "catchUpS", timer.catch_up_window_s)
    _put_number(item, "beatS", timer.heartbeat_period_s)
    _put_number(item, "graceS", timer.heartbeat_grace_s)
    if timer.ping_hash is not None:
        item["pingHash"] = string(timer.ping_hash)
    if timer.history is not None:
        item["history"] = string(timer.history)
    for name, value in (
        ("jitterS", timer.jitter_s or None),
        ("maxFirings", timer.max_firings),
        ("maxFireS", timer.max_fire_s),
        ("completedS", timer.completed_s),
        ("fw", timer.firing_weight or None),
    ):
        _put_number(item, name, value)
    if timer.on_complete != "keep":
        item["onComplete"] = string(timer.on_complete)
    if timer.alerts is not None:
        item["alerts"] = string(_compact(timer.alerts))
    _put_number(item, "pauseAfter", timer.pause_after_failures)
    _put_number(item, "failures", timer.failures or None)
    if timer.overlap != "allow":
        item["overlap"] = string(timer.overlap)
    if timer.paused_reason is not None:
        item["pausedReason"] = string(timer.paused_reason)
    if timer.concurrency_key is not None:
        item["flowKey"] = string(timer.concurrency_key)
    _put_number(item, "flowMax", timer.max_concurrency)
    _put_number(item, "flowRate", timer.max_per_second)
    if timer.labels:
        item["labels"] = {"M": {k: string(v) for k, v in timer.labels.items()}}
    _put_number(item, "fv", timer.schedule_version)
    _put_number(item, "pv", timer.prior_version)
    _put_number(item, "pvS", timer.prior_until_s)
    return item


def timer_from_item(item: Item) -> Timer:
    return Timer(
        owner=item["owner"]["S"],
        id=item["id"]["S"],
        shard=int(item["shard"]["N"]),
        schedule=item["schedule"]["S"],
        timezone=item["tz"]["S"],
        start_s=_get_number(item, "startS"),
        end_s=_get_number(item, "endS"),
        first_fire_s=_get_number(item, "firstFireS"),
        job_type=item["jobType"]["S"],
        job=json.loads(item["job"]["S"]),
        callback_data=json.loads(item["data"]["S"]),
        enabled=item["enabled"]["BOOL"],
        misfire_policy=item["misfire"]["S"],
        delivery=item.get("delivery", {"S": "atLeastOnce"})["S"],
        history=_get_string(item, "history"),
        catch_up_window_s=_get_number(item, "catchUpS"),
        heartbeat_period_s=_get_number(item, "beatS"),
        heartbeat_grace_s=_get_number(item, "graceS"),
        ping_hash=_get_string(item, "pingHash"),
        jitter_s=_get_number(item, "jitterS") or 0,
        max_firings=_get_number(item, "maxFirings"),
        max_fire_s=_get_number(item, "maxFireS"),
        on_complete=_get_string(item, "onComplete") or "keep",
        completed_s=_get_number(item, "completedS"),
        firing_weight=_get_number(item, "fw") or 0,
        alerts=None if "alerts" not in item else json.loads(item["alerts"]["S"]),
        pause_after_failures=_get_number(item, "pauseAfter"),
        overlap=_get_string(item, "overlap") or "allow",
        failures=_get_number(item, "failures") or 0,
        paused_reason=_get_string(item, "pausedReason"),
        concurrency_key=_get_string(item, "flowKey"),
        max_concurrency=_get_number(item, "flowMax"),
        max_per_second=_get_number(item, "flowRate"),
        labels={k: v["S"] for k, v in item.get("labels", {}).get("M", {}).items()},
        version=int(item["version"]["N"]),
        schedule_version=_get_number(item, "fv"),
        prior_version=_get_number(item, "pv"),
        prior_until_s=_get_number(item, "pvS"),
        created_s=int(item["createdS"]["N"]),
        updated_s=int(item["updatedS"]["N"]),
    )


def version_of(item: Item | None) -> int | None:
    """The version of a timer item, None when there is no item."""
    return None if item is None else int(item["version"]["N"])


# Index items are read far more often than anything else (each tick reads every item of the
# slots it queries, firing or not, billed by the byte): owner, id, second and shard are read
# from the keys, and the rest has one-letter names.
_KIND_CODES = {"rate": "r", "cron": "c", "at": "a", "heartbeat": "h"}
_MISFIRE_CODES = {"fireOnce": "o", "fireAll": "a", "skip": "s"}
_KINDS = {code: kind for kind, code in _KIND_CODES.items()}
_MISFIRES = {code: policy for policy, code in _MISFIRE_CODES.items()}
_INDEX_NUMBERS = (
    ("f", "fire_s"),
    ("a", "first_fire_s"),
    ("p", "period_s"),
    ("e", "end_s"),
    ("b", "start_s"),
    ("n", "not_before_s"),
    ("w", "api_written_s"),
    ("u", "catch_up_window_s"),
    ("j", "jitter_s"),
    ("g", "created_s"),
)


def index_item(entry: IndexEntry) -> Item:
    item: Item = {
        **key_item(entry.key),
        "v": number(entry.version),
        "k": string(_KIND_CODES[entry.kind]),
        "m": string(_MISFIRE_CODES[entry.misfire_policy]),
    }
    for name, attribute in _INDEX_NUMBERS:
        value = getattr(entry, attribute)
        _put_number(item, name, None if name == "j" and not value else value)  # no jitter: no bytes
    _put_number(item, TTL_ATTRIBUTE, entry.expires_s)
    if entry.schedule is not None:
        item["c"] = string(entry.schedule)
    if entry.timezone is not None:
        item["z"] = string(entry.timezone)
    if entry.ping_hash is not None:
        item["t"] = string(entry.ping_hash)
    if entry.snapshot is not None:
        item["d"] = string(entry.snapshot)  # text: a ticker of the release before reads it
        _put_number(item, "q", entry.copy_s)
        if is_deflated(entry.snapshot) and entry.created_s == entry.api_written_s:
            del item["g"]  # a new timer's item: its creation is its write (a deflated copy says so)
    return item


def index_entry_from_item(item: Item) -> IndexEntry:
    pk, sk = item[PK]["S"], item[SK]["S"]
    owner, _, timer_id = sk[3:].rpartition("#")  # "{sec:02}#{owner}#{id}"; ids have no "#"
    found: dict[str, Any] = {
        attribute: _get_number(item, name) for name, attribute in _INDEX_NUMBERS
    }
    found["jitter_s"] = found["jitter_s"] or 0
    if found["created_s"] is None and is_deflated(_get_string(item, "d")):
        found["created_s"] = found["api_written_s"]  # left out: the same (index_item)
    return IndexEntry(
        key=IndexKey(pk, sk),
        shard=int(pk.split("#", 2)[1]),
        owner=owner,
        timer_id=timer_id,
        version=int(item["v"]["N"]),
        kind=_KINDS[item["k"]["S"]],  # type: ignore[arg-type]
        second=int(sk[:2]),
        misfire_policy=_MISFIRES[item["m"]["S"]],  # type: ignore[arg-type]
        schedule=_get_string(item, "c"),
        timezone=_get_string(item, "z"),
        ping_hash=_get_string(item, "t"),
        snapshot=_get_string(item, "d"),
        copy_s=_get_number(item, "q"),
        **found,
    )


def run_item(run: Run, *, expires_s: int) -> Item:
    item: Item = {
        PK: string(run_partition(run.owner, run.timer_id)),
        SK: string(run.sort_key),
        "firingId": string(run.firing_id),
        "inc": number(run.incarnation),
        "scheduledS": number(run.scheduled_s),
        "startedS": {"N": f"{run.started_s:.3f}"},
        "finishedS": {"N": f"{run.finished_s:.3f}"},
        "attempt": number(run.attempt),
        "outcome": string(run.outcome),
        "summary": string(run.summary),
        "manual": {"BOOL": run.manual},
        TTL_ATTRIBUTE: number(expires_s),
    }
    if run.lateness_ms is not None:
        item["latenessMs"] = {"N": f"{run.lateness_ms:.1f}"}
    if run.diff is not None:
        item["diff"] = string(run.diff)
    if run.details:
        item["details"] = string(_compact(run.details))
    if run.backfill:
        item["backfill"] = {"BOOL": True}
    if run.heartbeat is not None:
        item["heartbeat"] = string(run.heartbeat)
    _put_number(item, "offsetS", run.offset_s)
    if run.trace_id is not None:
        item["traceId"] = string(run.trace_id)
    return item


def run_from_item(item: Item, owner: str, timer_id: str) -> Run:
    return Run(
        owner=owner,
        timer_id=timer_id,
        incarnation=int(item["inc"]["N"]),
        firing_id=item["firingId"]["S"],
        scheduled_s=int(item["scheduledS"]["N"]),
        started_s=float(item["startedS"]["N"]),
        finished_s=float(item["finishedS"]["N"]),
        attempt=int(item["attempt"]["N"]),
        outcome=item["outcome"]["S"],
        summary=item["summary"]["S"],
        manual=item["manual"]["BOOL"],
        lateness_ms=float(item["latenessMs"]["N"]) if "latenessMs" in item else None,
        diff=_get_string(item, "diff"),
        details=json.loads(item["details"]["S"]) if "details" in item else {},
        backfill=item.get("backfill", {"BOOL": False})["BOOL"],
        heartbeat=_get_string(item, "heartbeat"),  # type: ignore[arg-type]
        offset_s=_get_number(item, "offsetS"),
        trace_id=_get_string(item, "traceId"),
    )


def job_state_item(owner: str, timer_id: str, state: dict[str, Any]) -> Item:
    """The compressed state; JobStateTooLargeError past MAX_JOB_STATE_BYTES."""
    return {**key_item(job_state_key(owner, timer_id)), "state": {"B": encode_job_state(state)}}


def job_state_from_item(item: Item) -> dict[str, Any]:
    return decode_job_state(item["state"]["B"])


def claim_item(firing_id: str, *, claimant: str, expires_s: int) -> Item:
    return {
        **key_item(firing_claim_key(firing_id)),
        "claimant": string(claimant),
        TTL_ATTRIBUTE: number(expires_s),
    }


def heartbeat_from_item(item: Item) -> HeartbeatState:
    return HeartbeatState(
        ping_hash=item[PK]["S"].removeprefix("P#"),
        owner=item["owner"]["S"],
        timer_id=item["timerId"]["S"],
        shard=int(item["shard"]["N"]),
        allow_s=int(item["allowS"]["N"]),
        deadline_s=_get_number(item, "deadlineS"),
        last_ping_s=_get_number(item, "lastPingS"),
        idle_since_s=_get_number(item, "idleSince"),
    )


def registry_item(registry: ShardRegistry) -> Item:
    return {
        **key_item(registry_key()),
        "active": {"L": [number(n) for n in registry.active]},
        "draining": {"L": [number(n) for n in registry.draining]},
    }


def registry_from_item(item: Item | None) -> ShardRegistry:
    """The registry; one active shard 0 when none was written."""
    if item is None:
        return ShardRegistry()
    return ShardRegistry(
        active=tuple(int(v["N"]) for v in item["active"]["L"]),
        draining=tuple(int(v["N"]) for v in item["draining"]["L"]),
    )


def shard_state_from_item(shard: int, item: Item | None) -> ShardState:
    """A shard's state; a base is retiring when it is in ``retiring`` and has a minute."""
    item = item or {}
    since = item.get("retiringSince", {}).get("M", {})
    return ShardState(
        shard=shard,
        claimed=_get_number(item, "claimed"),
        done=_get_number(item, "done"),
        lease_owner=_get_string(item, "leaseOwner"),
        lease_until_s=float(item["leaseUntil"]["N"]) if "leaseUntil" in item else None,
        bases=frozenset(int(b) for b in item.get("bases", {}).get("NS", [])),
        retiring={
            int(b): int(since[b]["N"]) for b in item.get("retiring", {}).get("NS", []) if b in since
        },
    )
