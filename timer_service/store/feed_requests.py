"""Feeds' items and their conditional writes, as DynamoDB requests (keys in
:mod:`timer_service.keys`): a feed's token item and its scope item carry the same attributes,
and change together, in one transaction."""

from __future__ import annotations

from typing import Any

from timer_service.feeds import FeedGrant, FeedKind
from timer_service.keys import PK, feed_key, feed_scope_key, timer_key
from timer_service.store.codecs import Item, key_item, number, string

__all__ = ["delete_feed", "feed_from_item", "feed_item", "put_feed"]

Request = dict[str, Any]
_KINDS: tuple[FeedKind, ...] = ("timer", "label")


def feed_item(grant: FeedGrant) -> Item:
    """The attributes both items of a feed hold (without a key)."""
    item: Item = {
        "tokenHash": string(grant.token_hash),
        "owner": string(grant.owner),
        "kind": string(grant.kind),
        "name": string(grant.name),
        "createdS": number(grant.created_s),
    }
    if grant.incarnation is not None:
        item["inc"] = number(grant.incarnation)
    return item


def feed_from_item(item: Item) -> FeedGrant:
    kind = item["kind"]["S"]
    if kind not in _KINDS:
        raise ValueError(f"not a feed's kind: {kind!r}")
    return FeedGrant(
        token_hash=item["tokenHash"]["S"],
        owner=item["owner"]["S"],
        kind="timer" if kind == "timer" else "label",
        name=item["name"]["S"],
        created_s=int(item["createdS"]["N"]),
        incarnation=int(item["inc"]["N"]) if "inc" in item else None,
    )


def put_feed(table: str, grant: FeedGrant, *, replaces: FeedGrant | None) -> list[Request]:
    """The feed's new token: its item, its scope item (still at ``replaces``: none, or that
    token), the replaced token's item gone; a timer's feed only while the timer is that
    incarnation (a delete racing it would leave a scope item no delete removes)."""
    scope_key = feed_scope_key(grant.owner, grant.scope)
    scope: Request = {
        "TableName": table,
        "Item": {**key_item(scope_key), **feed_item(grant)},
        "ExpressionAttributeNames": {"#pk": PK},
    }
    if replaces is None:
        scope["ConditionExpression"] = "attribute_not_exists(#pk)"
    else:
        scope["ConditionExpression"] = "attribute_exists(#pk) AND tokenHash = :old"
        scope["ExpressionAttributeValues"] = {":old": string(replaces.token_hash)}
    token: Request = {
        "TableName": table,
        "Item": {**key_item(feed_key(grant.token_hash)), **feed_item(grant)},
        "ConditionExpression": "attribute_not_exists(#pk)",
        "ExpressionAttributeNames": {"#pk": PK},
    }
    actions: list[Request] = [{"Put": scope}, {"Put": token}]
    if replaces is not None:
        old = {"TableName": table, "Key": key_item(feed_key(replaces.token_hash))}
        actions.append({"Delete": old})
    if grant.kind == "timer" and grant.incarnation is not None:
        check = {
            "TableName": table,
            "Key": key_item(timer_key(grant.owner, grant.name)),
            "ConditionExpression": "createdS = :inc",
            "ExpressionAttributeValues": {":inc": number(grant.incarnation)},
        }
        actions.append({"ConditionCheck": check})
    return actions


def delete_feed(table: str, grant: FeedGrant) -> list[Request]:
    """The feed's two items, if its scope still names its token."""
    scope = {
        "TableName": table,
        "Key": key_item(feed_scope_key(grant.owner, grant.scope)),
        "ConditionExpression": "tokenHash = :h",
        "ExpressionAttributeValues": {":h": string(grant.token_hash)},
    }
    token = {"TableName": table, "Key": key_item(feed_key(grant.token_hash))}
    return [{"Delete": scope}, {"Delete": token}]
