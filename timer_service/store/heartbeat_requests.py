"""The heartbeat states' conditional writes as requests (re-exported by
:mod:`timer_service.store.expressions`): a ping is one UpdateItem."""

from __future__ import annotations

from typing import Any

from timer_service.heartbeat import HeartbeatState
from timer_service.keys import heartbeat_key
from timer_service.store.codecs import key_item, number, string

__all__ = ["clear_heartbeat_idle", "mark_heartbeat_missed", "ping_heartbeat", "put_heartbeat"]

Request = dict[str, Any]


def put_heartbeat(table: str, state: HeartbeatState) -> Request:
    """Create a heartbeat's state, idle since ``state.idle_since_s``; or, that None, change
    its timer's part of it (it must exist), keeping its deadline and marks."""
    values: dict[str, Any] = {
        ":o": string(state.owner),
        ":i": string(state.timer_id),
        ":s": number(state.shard),
        ":a": number(state.allow_s),
    }
    update = "SET #o = :o, timerId = :i, #s = :s, allowS = :a"
    request: Request = {
        "TableName": table,
        "Key": key_item(heartbeat_key(state.ping_hash)),
        "ExpressionAttributeNames": {"#o": "owner", "#s": "shard"},  # reserved words
    }
    if state.idle_since_s is None:
        request["ConditionExpression"] = "attribute_exists(pk)"
    else:
        update += ", idleSince = :idle"
        values[":idle"] = number(state.idle_since_s)
    return request | {"UpdateExpression": update, "ExpressionAttributeValues": values}


def ping_heartbeat(table: str, ping_hash: str, *, now_s: int) -> Request:
    """The ping: its deadline moves to now + period + grace, if the heartbeat exists; the
    state as it was comes back (was it idle, missed?)."""
    return {
        "TableName": table,
        "Key": key_item(heartbeat_key(ping_hash)),
        "UpdateExpression": "SET lastPingS = :now, deadlineS = :now + allowS",
        "ConditionExpression": "attribute_exists(pk)",
        "ExpressionAttributeValues": {":now": number(now_s)},
        "ReturnValues": "ALL_OLD",
    }


def mark_heartbeat_missed(table: str, ping_hash: str, *, deadline_s: int) -> Request:
    """Record the deadline as missed, if no ping moved it."""
    return {
        "TableName": table,
        "Key": key_item(heartbeat_key(ping_hash)),
        "UpdateExpression": "SET idleSince = :d",
        "ConditionExpression": "deadlineS = :d",
        "ExpressionAttributeValues": {":d": number(deadline_s)},
    }


def clear_heartbeat_idle(table: str, ping_hash: str, *, idle_since_s: int) -> Request:
    """The heartbeat is watched again: clear the idle mark a ping found, if it is still that."""
    return {
        "TableName": table,
        "Key": key_item(heartbeat_key(ping_hash)),
        "UpdateExpression": "REMOVE idleSince",
        "ConditionExpression": "idleSince = :i",
        "ExpressionAttributeValues": {":i": number(idle_since_s)},
    }
