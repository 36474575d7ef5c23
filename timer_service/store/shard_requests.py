"""The shards' tick requests (re-exported by :mod:`timer_service.store.expressions`): the
lease and watermarks of a tick, and the rate bases a ticker reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from timer_service.keys import shard_state_key
from timer_service.store.codecs import key_item, number, numbers, string

__all__ = ["begin_tick", "end_tick", "ensure_base", "retire_base"]

Request = dict[str, Any]


def begin_tick(
    table: str, shard: int, *, token: str, now_s: float, lease_s: float, claim: int, first: int
) -> Request:
    """Take the lease (free, expired or ours) and raise ``claimed``, never lower it."""
    return {
        "TableName": table,
        "Key": key_item(shard_state_key(shard)),
        "UpdateExpression": (
            "SET leaseOwner = :me, leaseUntil = :until, done = if_not_exists(done, :d), "
            "claimed = :c, retiringSince = if_not_exists(retiringSince, :none)"
        ),
        "ConditionExpression": (
            "(attribute_not_exists(leaseOwner) OR leaseOwner = :me OR leaseUntil < :now)"
            " AND (attribute_not_exists(claimed) OR claimed <= :c)"
        ),
        "ExpressionAttributeValues": {
            ":me": string(token),
            ":until": {"N": repr(now_s + lease_s)},
            ":now": {"N": repr(now_s)},
            ":d": number(first - 1),
            ":c": number(claim),
            ":none": {"M": {}},
        },
        "ReturnValues": "ALL_OLD",  # the store computes the new state (claimed_before)
    }


def end_tick(
    table: str, shard: int, *, token: str, done: int, mark: Mapping[int, int], unmark: Sequence[int]
) -> Request:
    """Record ``done`` and give the lease back, if it is still ours; (un)mark bases."""
    if mark and unmark:
        raise ValueError("mark and unmark in one call: both change `retiring`")
    sets, removes = ["done = :d"], ["leaseOwner", "leaseUntil"]
    values: dict[str, Any] = {":d": number(done), ":me": string(token)}
    names: dict[str, str] = {}
    tail = ""
    for n, (base, minute) in enumerate(sorted(mark.items())):
        names[f"#b{n}"] = str(base)
        sets.append(f"retiringSince.#b{n} = :m{n}")
        values[f":m{n}"] = number(minute)
    if mark:
        tail = " ADD retiring :marked"
        values[":marked"] = numbers(mark)
    for n, base in enumerate(sorted(unmark)):
        names[f"#u{n}"] = str(base)
        removes.append(f"retiringSince.#u{n}")
    if unmark:
        tail = " DELETE retiring :cleared"
        values[":cleared"] = numbers(unmark)
    request: Request = {
        "TableName": table,
        "Key": key_item(shard_state_key(shard)),
        "UpdateExpression": f"SET {', '.join(sets)} REMOVE {', '.join(removes)}{tail}",
        "ConditionExpression": "leaseOwner = :me",
        "ExpressionAttributeValues": values,
    }
    if names:
        request["ExpressionAttributeNames"] = names
    return request


def ensure_base(table: str, shard: int, base: int) -> Request:
    return {
        "TableName": table,
        "Key": key_item(shard_state_key(shard)),
        "UpdateExpression": "ADD bases :b DELETE retiring :b",
        "ExpressionAttributeValues": {":b": numbers([base])},
    }


def retire_base(table: str, shard: int, base: int, *, marked_minute: int) -> Request:
    """Drop ``base`` if it is still marked retiring since ``marked_minute``."""
    return {
        "TableName": table,
        "Key": key_item(shard_state_key(shard)),
        "UpdateExpression": "DELETE bases :b, retiring :b REMOVE retiringSince.#b",
        "ConditionExpression": "contains(retiring, :one) AND retiringSince.#b = :m",
        "ExpressionAttributeNames": {"#b": str(base)},
        "ExpressionAttributeValues": {
            ":b": numbers([base]),
            ":one": number(base),
            ":m": number(marked_minute),
        },
    }
