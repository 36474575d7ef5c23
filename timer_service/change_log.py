"""Each shard's log of writes to its timers: what delivery checks a timer's copy against.

A firing the ticker sent carries its timer's definition as the ticker read it from the index
(:mod:`timer_service.snapshots`) and the second of that read. Every write of an existing timer
(a replace, a pause or resume, a relabelling, a delete, a move between shards, a completion
that deletes) first records the timer and its second in its shard's log; delivery reads the log
once for the firings of a pack, strongly consistent, at their second. A firing whose timer is in
the log from a second before its read on is delivered as before, from a strong read of the
timer; the others run from their copy. So nothing runs after a DELETE or pause returned, and a
replaced timer's firings carry its new definition, as when every firing read its timer.

Entries are kept ``KEEP_S``; a firing older than ``TRUST_S`` when delivered (held over a long
jitter or pacing wait) reads its timer, as do retries.
"""

from __future__ import annotations

__all__ = ["CLOCK_SLACK_S", "KEEP_S", "TRUST_S", "change_partition", "change_sort_key"]

KEEP_S = 3600  # an entry's life (DynamoDB's TTL removes it later still)
TRUST_S = 1200  # a copy older than this when delivered is not trusted: the timer is read
CLOCK_SLACK_S = 5  # between the ticker's clock and the API's: a write this close counts


def change_partition(shard: int) -> str:
    return f"chg#{shard}"


def change_sort_key(second: int, owner: str, timer_id: str) -> str:
    return f"{second:011d}#{owner}#{timer_id}"
