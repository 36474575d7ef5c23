"""Key formats of the single DynamoDB table: the one place they are spelled.

| item                         | pk                                  | sk                      |
|------------------------------|-------------------------------------|-------------------------|
| timer                        | ``T#{owner}#{id}``                  | ``T``                   |
| time index, absolute minute  | ``S#{shard}#M#{epochMinute}``       | ``{sec:02}#{owner}#{id}`` |
| time index, rate class       | ``S#{shard}#R#{baseMin}#{slot}``    | ``{sec:02}#{owner}#{id}`` |
| shard state                  | ``SHARD#{n}``                       | ``SHARD``               |
| shard registry               | ``SHARDS``                          | ``SHARDS``              |
| run history                  | ``R#{owner}#{id}``                  | see below               |
| job state (e.g. a snapshot)  | ``J#{owner}#{id}``                  | ``J``                   |
| claim of a raced firing      | ``F#{firingId}``                    | ``F``                   |
| an owner's timer count       | ``C#{owner}``                       | ``C``                   |
| a dead-lettered firing       | ``D#{owner}``                       | see below               |
| a heartbeat's deadline state | ``P#{sha256 of its ping token}``    | ``P``                   |
| an owner's signing secrets   | ``W#{owner}``                       | ``W``                   |
| one label of a timer         | ``L#{owner}#{key}={value}``         | ``{id}``                |
| a feed's token               | ``K#{sha256 of its feed token}``    | ``K``                   |
| a feed's scope (its token)   | ``E#{owner}``                       | ``t#{id}``, ``l#{k}={v}`` |

A run's sort key is ``{createdS}#{scheduledS}#{kind}#{attempt}``, the kind ``s`` (scheduled),
``m`` (manual) or ``b`` (backfill): the timer's creation second first, so a timer created again
under the same id starts an empty history. A dead letter's sort key is
``{scheduledS:011d}#{id}#{kind}`` (newest last); its ``dlpk`` (the partition again) puts it,
and only it, in the sparse ``deadLetters`` index, which the operator's view scans. A label's
item is written and removed in the transaction that writes its timer, so a label's partition
lists, by id, exactly the owner's timers that have it (a key holds no ``=``: the partition
names one pair). A feed's scope item names its current token's hash: the token's item is
served only while it does, and a timer's delete removes its scope item in the same transaction.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "DEAD_LETTER_INDEX",
    "DEAD_LETTER_INDEX_PK",
    "OWNER_INDEX",
    "PK",
    "SK",
    "SNAPSHOT_PREFIX",
    "TTL_ATTRIBUTE",
    "IndexKey",
    "completed_key",
    "dead_letter_key",
    "dead_letter_partition",
    "feed_key",
    "feed_scope_key",
    "firing_claim_key",
    "heartbeat_key",
    "index_sort_key",
    "job_state_key",
    "label_key",
    "label_partition",
    "minute_partition",
    "owner_count_key",
    "owner_partition",
    "rate_partition",
    "registry_key",
    "run_partition",
    "shard_state_key",
    "signing_secrets_key",
    "timer_key",
]

PK = "pk"
SK = "sk"
TTL_ATTRIBUTE = "expiresAt"
OWNER_INDEX = "byOwner"
OWNER_INDEX_PK = "gsi1pk"
OWNER_INDEX_SK = "gsi1sk"
TIMER_SK = "T"
SNAPSHOT_PREFIX = "html-monitor/"  # the snapshot bucket's keys: html_monitor's large snapshots
DEAD_LETTER_INDEX = "deadLetters"
DEAD_LETTER_INDEX_PK = "dlpk"


class IndexKey(NamedTuple):
    """Where one time-index item lives."""

    pk: str
    sk: str


def timer_key(owner: str, timer_id: str) -> IndexKey:
    return IndexKey(f"T#{owner}#{timer_id}", TIMER_SK)


def run_partition(owner: str, timer_id: str) -> str:
    return f"R#{owner}#{timer_id}"


def owner_count_key(owner: str) -> IndexKey:
    return IndexKey(f"C#{owner}", "C")


def completed_key(owner: str, timer_id: str) -> IndexKey:
    """A timer that deleted itself on completion: which incarnation's runs are still shown."""
    return IndexKey(f"G#{owner}#{timer_id}", "G")


def firing_claim_key(firing_id: str) -> IndexKey:
    return IndexKey(f"F#{firing_id}", "F")


def heartbeat_key(ping_hash: str) -> IndexKey:
    """Found from the ping alone (its token's hash): a ping needs no read to find it."""
    return IndexKey(f"P#{ping_hash}", "P")


def feed_key(token_hash: str) -> IndexKey:
    """Found from a feed URL alone (its token's hash), as a heartbeat's ping is."""
    return IndexKey(f"K#{token_hash}", "K")


def feed_scope_key(owner: str, scope: str) -> IndexKey:
    """The owner's feed of a timer or a label (``timer_service.feeds.feed_scope``): its token."""
    return IndexKey(f"E#{owner}", scope)


def signing_secrets_key(owner: str) -> IndexKey:
    """An owner's webhook signing secrets, all in one item: read once, changed conditionally."""
    return IndexKey(f"W#{owner}", "W")


def dead_letter_partition(owner: str) -> str:
    return f"D#{owner}"


def dead_letter_key(
    owner: str, timer_id: str, scheduled_s: int, *, manual: bool, backfill: bool = False
) -> IndexKey:
    kind = "m" if manual else "b" if backfill else "s"
    return IndexKey(dead_letter_partition(owner), f"{scheduled_s:011d}#{timer_id}#{kind}")


def job_state_key(owner: str, timer_id: str) -> IndexKey:
    return IndexKey(f"J#{owner}#{timer_id}", "J")


def label_partition(owner: str, key: str, value: str) -> str:
    return f"L#{owner}#{key}={value}"


def label_key(owner: str, key: str, value: str, timer_id: str) -> IndexKey:
    return IndexKey(label_partition(owner, key, value), timer_id)


def owner_partition(owner: str) -> str:
    return f"O#{owner}"


def minute_partition(shard: int, epoch_minute: int) -> str:
    return f"S#{shard}#M#{epoch_minute}"


def rate_partition(shard: int, base_minutes: int, slot: int) -> str:
    return f"S#{shard}#R#{base_minutes}#{slot}"


def index_sort_key(second: int, owner: str, timer_id: str) -> str:
    return f"{second:02d}#{owner}#{timer_id}"


def shard_state_key(shard: int) -> IndexKey:
    return IndexKey(f"SHARD#{shard}", "SHARD")


def registry_key() -> IndexKey:
    return IndexKey("SHARDS", "SHARDS")
