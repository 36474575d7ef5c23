"""The DynamoDB store's conditional writes as requests: what each condition and update says,
pure (the adapter, :mod:`timer_service.store.dynamodb`, sends them and reads the answers).

A condition that is false writes nothing; in a transaction, nothing of any action (DynamoDB
Developer Guide, "Condition expressions" and "Amazon DynamoDB Transactions: How it works").
Writes whose refusal the service reports ask for the item as it was
(``ReturnValuesOnConditionCheckFailure=ALL_OLD``), so the answer says what won.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from timer_service.completion import CountChange, count_change, write_change
from timer_service.feeds import feed_scope
from timer_service.keys import (
    TTL_ATTRIBUTE,
    IndexKey,
    completed_key,
    feed_scope_key,
    firing_claim_key,
    job_state_key,
    label_key,
    owner_count_key,
    shard_state_key,
    timer_key,
)
from timer_service.models import Timer
from timer_service.store.codecs import (
    claim_item,
    index_item,
    key_item,
    number,
    numbers,
    string,
    timer_item,
)
from timer_service.store.heartbeat_requests import (
    clear_heartbeat_idle,
    mark_heartbeat_missed,
    ping_heartbeat,
    put_heartbeat,
)
from timer_service.store.shard_requests import begin_tick, end_tick, ensure_base, retire_base
from timer_service.time_index import IndexEntry

__all__ = [
    "ALL_OLD",
    "begin_tick",
    "claim_firing",
    "clear_heartbeat_idle",
    "complete_timer",
    "delete_stale",
    "delete_timer",
    "end_tick",
    "ensure_base",
    "label_changes",
    "mark_heartbeat_missed",
    "move_timer",
    "ping_heartbeat",
    "put_heartbeat",
    "put_successor",
    "release_firing",
    "retire_base",
    "save_timer",
]

Request = dict[str, Any]
_ONE_TIMER_LESS = CountChange(timers=-1)
ALL_OLD = {"ReturnValuesOnConditionCheckFailure": "ALL_OLD"}


def _version_condition(expected_version: int | None) -> Request:
    if expected_version is None:
        return {"ConditionExpression": "attribute_not_exists(pk)", **ALL_OLD}
    return {
        "ConditionExpression": "version = :v",
        "ExpressionAttributeValues": {":v": number(expected_version)},
        **ALL_OLD,
    }


def _count_update(
    table: str,
    owner: str,
    change: CountChange,
    limit: int | None,
    firing_limit: int | None = None,
) -> Request | None:
    """The owner's counts (timers, firings a minute) changed by ``change``, each rise under its
    limit when given; None when nothing changes. A refusal returns the counts as they were."""
    terms = [
        (name, value)
        for name, value in (("timers", change.timers), ("firings", change.firings))
        if value
    ]
    if not terms:
        return None
    values: dict[str, Any] = {f":{name}": number(value) for name, value in terms}
    update: Request = {
        "TableName": table,
        "Key": key_item(owner_count_key(owner)),
        "UpdateExpression": "ADD " + ", ".join(f"{name} :{name}" for name, _ in terms),
        "ExpressionAttributeValues": values,
    }
    conditions = []
    if limit is not None and change.timers > 0:
        conditions.append("(attribute_not_exists(timers) OR timers < :limit)")
        values[":limit"] = number(limit)
    if firing_limit is not None and change.firings > 0:
        conditions.append("(attribute_not_exists(firings) OR firings <= :fmax)")
        values[":fmax"] = number(firing_limit - change.firings)
    if conditions:
        update["ConditionExpression"] = " AND ".join(conditions)
        update.update(ALL_OLD)
    return update


def _delete(table: str, key: IndexKey) -> Request:
    return {"Delete": {"TableName": table, "Key": key_item(key)}}


def label_changes(
    table: str, owner: str, timer_id: str, old: Mapping[str, str], new: Mapping[str, str]
) -> list[Request]:
    """The timer's label items from ``old`` to ``new``: the pairs gone deleted, the new put
    (one key-only item each, :func:`timer_service.keys.label_key`); a kept pair costs nothing."""
    gone = [(k, v) for k, v in sorted(old.items()) if new.get(k) != v]
    added = [(k, v) for k, v in sorted(new.items()) if old.get(k) != v]
    actions = [_delete(table, label_key(owner, k, v, timer_id)) for k, v in gone]
    actions += [
        {"Put": {"TableName": table, "Item": key_item(label_key(owner, k, v, timer_id))}}
        for k, v in added
    ]
    return actions


def save_timer(
    table: str,
    timer: Timer,
    *,
    expected_version: int | None,
    remove: Sequence[IndexKey],
    index: IndexEntry | None,
    count_limit: int | None,
    change: CountChange | None = None,
    firing_limit: int | None = None,
    replaces: Timer | None = None,
) -> list[Request]:
    """The timer's put first (its condition: the version), its index items, its label items
    (from those of ``replaces``, the timer as read), and last the owner's counts when they
    change (a new timer: ``change`` defaults to one more)."""
    put: Request = {"TableName": table, "Item": timer_item(timer)}
    actions: list[Request] = [{"Put": put | _version_condition(expected_version)}]
    new_key = None if index is None else index.key
    actions += [_delete(table, key) for key in dict.fromkeys(remove) if key != new_key]
    if index is not None:
        actions.append({"Put": {"TableName": table, "Item": index_item(index)}})
    old_labels = {} if replaces is None else replaces.labels
    actions += label_changes(table, timer.owner, timer.id, old_labels, timer.labels)
    if change is None:
        change = write_change(timer, expected_version=expected_version, replaces=None)
    counts = _count_update(table, timer.owner, change, count_limit, firing_limit)
    if counts is not None:
        actions.append({"Update": counts})
    return actions


def delete_timer(
    table: str,
    owner: str,
    timer_id: str,
    *,
    expected_version: int,
    remove: Sequence[IndexKey],
    change: CountChange = _ONE_TIMER_LESS,
    labels: Mapping[str, str] | None = None,
    forget_completed: bool = True,
) -> list[Request]:
    """The timer's delete first (its condition: the version), its items, its job state, its
    ``labels``' items, its feed's scope (its feed URL ends), and the owner's count; with
    ``forget_completed``, the note an earlier timer of the id left when it deleted itself on
    completion (its runs go unlisted with it)."""
    delete: Request = {"TableName": table, "Key": key_item(timer_key(owner, timer_id))}
    actions: list[Request] = [{"Delete": delete | _version_condition(expected_version)}]
    gone = [
        *remove,
        job_state_key(owner, timer_id),
        feed_scope_key(owner, feed_scope("timer", timer_id)),
    ]
    if forget_completed:
        gone.append(completed_key(owner, timer_id))
    actions += [_delete(table, key) for key in dict.fromkeys(gone)]
    actions += label_changes(table, owner, timer_id, labels or {}, {})
    counts = _count_update(table, owner, change, None)
    if counts is not None:
        actions.append({"Update": counts})
    return actions


def complete_timer(
    table: str,
    timer: Timer,
    *,
    completed_s: int,
    delete: bool,
    remove: Sequence[IndexKey],
    runs_until_s: int,
) -> list[Request]:
    """The timer's completion at its version, once: marked, or deleted with a note of its
    incarnation (TTL ``runs_until_s``); and the owner's counts no longer holding it."""
    key = key_item(timer_key(timer.owner, timer.id))
    condition: Request = {
        "ConditionExpression": "version = :v AND attribute_not_exists(completedS)",
        "ExpressionAttributeValues": {":v": number(timer.version)},
    }
    change = count_change(None, timer)
    if delete:
        actions = delete_timer(
            table,
            timer.owner,
            timer.id,
            expected_version=timer.version,
            remove=remove,
            change=change,
            labels=timer.labels,
            forget_completed=False,  # this delete writes the note
        )
        actions[0]["Delete"].update(condition)
        note = {
            **key_item(completed_key(timer.owner, timer.id)),
            "inc": number(timer.created_s),
            TTL_ATTRIBUTE: number(runs_until_s),
        }
        actions.insert(1, {"Put": {"TableName": table, "Item": note}})
        return actions
    mark: Request = {
        "TableName": table,
        "Key": key,
        "UpdateExpression": "SET completedS = :done REMOVE fw",
        **condition,
    }
    mark["ExpressionAttributeValues"] = {
        **condition["ExpressionAttributeValues"],
        ":done": number(completed_s),
    }
    actions = [{"Update": mark}]
    counts = _count_update(table, timer.owner, change, None)
    if counts is not None:
        actions.append({"Update": counts})
    return actions


def claim_firing(table: str, firing_id: str, *, claimant: str, expires_s: int) -> Request:
    """Put the claim unless another claimant holds it."""
    return {
        "TableName": table,
        "Item": claim_item(firing_id, claimant=claimant, expires_s=expires_s),
        "ConditionExpression": "attribute_not_exists(pk) OR claimant = :c",
        "ExpressionAttributeValues": {":c": string(claimant)},
    }


def release_firing(table: str, firing_id: str, *, claimant: str) -> Request:
    """Delete the claim if ``claimant`` holds it."""
    return {
        "TableName": table,
        "Key": key_item(firing_claim_key(firing_id)),
        "ConditionExpression": "claimant = :c",
        "ExpressionAttributeValues": {":c": string(claimant)},
    }


def put_successor(table: str, entry: IndexEntry) -> Request:
    """Put the item unless a newer version of the timer holds its key."""
    return {
        "TableName": table,
        "Item": index_item(entry),
        "ConditionExpression": "attribute_not_exists(pk) OR v <= :v",
        "ExpressionAttributeValues": {":v": number(entry.version)},
    }


def delete_stale(table: str, key: IndexKey, version: int) -> Request:
    """Delete the item if it still belongs to ``version``."""
    return {
        "TableName": table,
        "Key": key_item(key),
        "ConditionExpression": "v = :v",
        "ExpressionAttributeValues": {":v": number(version)},
    }


def move_timer(
    table: str,
    timer: Timer,
    *,
    target: int,
    remove: Sequence[IndexKey],
    entries: Sequence[IndexEntry],
    old_claimed: int | None,
    first_minute: int | None,
    base: int | None,
) -> list[Request]:
    """The old shard idle at ``old_claimed``, the timer at its version, the target not past
    ``first_minute`` (and ``base`` ensured on it); the items moved."""
    old_check: Request = {"TableName": table, "Key": key_item(shard_state_key(timer.shard))}
    if old_claimed is None:
        old_check["ConditionExpression"] = "attribute_not_exists(claimed)"
    else:
        old_check["ConditionExpression"] = (
            "claimed = :c AND done = :c AND attribute_not_exists(leaseOwner)"
        )
        old_check["ExpressionAttributeValues"] = {":c": number(old_claimed)}
    # The target's `claimed` is checked, and the item's rate base ensured, in one action.
    target_action: Request = {"TableName": table, "Key": key_item(shard_state_key(target))}
    values: dict[str, Any] = {}
    if first_minute is not None:
        target_action["ConditionExpression"] = "attribute_not_exists(claimed) OR claimed < :f"
        values[":f"] = number(first_minute)
    if base is not None:
        target_action["UpdateExpression"] = "ADD bases :b DELETE retiring :b"
        values[":b"] = numbers([base])
    if values:
        target_action["ExpressionAttributeValues"] = values
    new_keys = {entry.key for entry in entries}
    actions: list[Request] = [
        {"ConditionCheck": old_check},
        {
            "Update": {
                "TableName": table,
                "Key": key_item(timer_key(timer.owner, timer.id)),
                "UpdateExpression": "SET #shard = :s",
                "ConditionExpression": "version = :v",
                "ExpressionAttributeNames": {"#shard": "shard"},
                "ExpressionAttributeValues": {":s": number(target), ":v": number(timer.version)},
            }
        },
        *(_delete(table, key) for key in dict.fromkeys(remove) if key not in new_keys),
    ]
    if base is not None:
        actions.append({"Update": target_action})
    elif first_minute is not None:
        actions.append({"ConditionCheck": target_action})
    actions += [{"Put": {"TableName": table, "Item": index_item(e)}} for e in entries]
    return actions
