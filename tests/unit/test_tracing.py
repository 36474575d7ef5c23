"""Every firing carries a W3C trace (https://www.w3.org/TR/trace-context/) from the sender to its
job: one trace per firing, the same on every delivery of it, at a few bytes a message."""

from __future__ import annotations

import json
import re

from hypothesis import given
from hypothesis import strategies as st

from timer_service.clock import FixedClock
from timer_service.dispatch import Firing, InMemoryDispatchQueue
from timer_service.messages import (
    PACK_MAX_FIRINGS,
    due_now,
    firings_in,
    messages_of,
    read,
    retry_message,
)
from timer_service.tracing import TraceParent, fallback_trace_id, new_trace_id, trace_id_of

# traceparent, as the Recommendation's section 3.2 spells it: version "-" trace-id "-" parent-id
# "-" trace-flags, each lowercase hex of its length.
TRACEPARENT = re.compile(
    r"(?P<version>[0-9a-f]{2})-(?P<trace_id>[0-9a-f]{32})-(?P<parent_id>[0-9a-f]{16})"
    r"-(?P<flags>[0-9a-f]{2})"
)


def assert_w3c_traceparent(header: str, *, sampled: bool = True) -> dict[str, str]:
    """The header's parts, checked against the spec's rules for version 00 (and, by default,
    flagged sampled, as the service sends it)."""
    match = TRACEPARENT.fullmatch(header)
    assert match is not None, header
    parts = match.groupdict()
    assert parts["version"] == "00"  # the version this spec defines (ff is invalid)
    assert parts["trace_id"] != "0" * 32  # all zeros is invalid
    assert parts["parent_id"] != "0" * 16  # all zeros is invalid
    if sampled:  # the service records its runs
        assert int(parts["flags"], 16) & 0x01 == 0x01
    assert int(parts["flags"], 16) & ~0x01 == 0  # no flag this version does not define
    return parts


def firing(n: int, second: int = 1000, **flags: bool) -> Firing:
    return Firing("owner", f"timer-{n}", 1, second, **flags)


def test_each_firing_of_a_pack_has_a_trace_of_its_own() -> None:
    # GIVEN 100 firings due in one second WHEN they are packed and the pack is read back
    (message,) = messages_of([firing(n) for n in range(PACK_MAX_FIRINGS)])
    firings = read(message.body).firings
    # THEN each has a trace id of its own, valid in a traceparent, as the sender had it
    ids = [f.trace_id for f in firings]
    assert len(set(ids)) == PACK_MAX_FIRINGS
    for trace_id in ids:
        assert trace_id is not None
        assert_w3c_traceparent(TraceParent.start(trace_id).header)
    assert ids == [f.trace_id for f in message.firings]


def test_a_pack_carries_one_seed_not_an_id_a_firing() -> None:
    # GIVEN 100 firings due in one second
    group = [firing(n) for n in range(PACK_MAX_FIRINGS)]
    untraced = '{"p":[' + ",".join(f.to_message() for f in group) + "]}"
    # WHEN they are packed THEN their traces add one 32-hex seed to the message, no byte a firing
    (message,) = messages_of(group)
    assert len(message.body) - len(untraced) <= 40
    assert '"t"' not in message.body


def test_a_lone_firing_carries_its_trace_id() -> None:
    (message,) = messages_of([firing(1, manual=True)])
    body = json.loads(message.body)
    assert re.fullmatch(r"[0-9a-f]{32}", body["t"])
    assert Firing.from_message(message.body).trace_id == body["t"]


def test_a_retry_of_a_packed_firing_keeps_its_trace_id() -> None:
    # GIVEN a firing read from a pack
    (message,) = messages_of([firing(n) for n in range(5)])
    third = read(message.body).firings[2]
    # WHEN it is sent again alone (a retry after a failure), twice
    again = read(retry_message(third, attempts_before=1).body).firings[0]
    twice = read(retry_message(again, attempts_before=2).body).firings[0]
    # THEN each delivery of it is in the same trace
    assert third.trace_id is not None
    assert again.trace_id == twice.trace_id == third.trace_id


def test_a_redrive_keeps_the_trace_id_and_traces_a_firing_that_had_none() -> None:
    traced = Firing("owner", "a", 1, 1000, trace_id=new_trace_id())
    untraced = Firing("owner", "b", 1, 1000)
    (message,) = due_now([traced, untraced])
    back = {f.timer_id: f.trace_id for f in read(message.body).firings}
    assert back["a"] == traced.trace_id
    assert back["b"] is not None and back["b"] != traced.trace_id


def test_the_in_memory_queue_keeps_the_traces_it_sent() -> None:
    queue = InMemoryDispatchQueue(FixedClock(990.0))
    queue.send([firing(n) for n in range(3)])
    queue.resend([firing(9)])
    assert all(f.trace_id is not None for f, _ in queue.sent)


def test_a_firing_is_the_same_firing_whatever_its_trace() -> None:
    # the API and a ticker may both send one firing: two traces, one firing to run
    assert Firing("o", "t", 1, 5, trace_id="a" * 32) == Firing("o", "t", 1, 5, trace_id="b" * 32)


def test_packs_read_back_whole_with_their_traces() -> None:
    group = [firing(n) for n in range(7)]
    (message,) = messages_of(group)
    assert firings_in(message.body) == group
    assert [f.trace_id for f in firings_in(message.body)] == [f.trace_id for f in message.firings]


def test_each_delivery_attempt_is_a_span_of_its_own() -> None:
    trace_id = new_trace_id()
    first, second = TraceParent.start(trace_id), TraceParent.start(trace_id)
    assert first.trace_id == second.trace_id == trace_id
    assert first.parent_id != second.parent_id
    assert TraceParent.parse(first.header) == first


def test_a_firing_from_before_traces_gets_a_stable_one() -> None:
    # a message queued by the version before this one: every delivery derives the same trace
    firing_id = "owner#t@2026-11-22T12:00:00Z"
    assert fallback_trace_id(firing_id) == fallback_trace_id(firing_id)
    assert fallback_trace_id(firing_id) != fallback_trace_id(firing_id + "~manual")
    assert_w3c_traceparent(TraceParent.start(fallback_trace_id(firing_id)).header)


@given(seed=st.binary(min_size=16, max_size=16), position=st.integers(0, PACK_MAX_FIRINGS - 1))
def test_derived_trace_ids_are_valid_w3c_trace_ids(seed: bytes, position: int) -> None:
    assert_w3c_traceparent(TraceParent.start(trace_id_of(seed.hex(), position)).header)


@given(header=st.text(max_size=60))
def test_parse_refuses_what_the_spec_refuses(header: str) -> None:
    try:
        parsed = TraceParent.parse(header)
    except ValueError:
        return
    assert_w3c_traceparent(parsed.header, sampled=False)


def test_parse_refuses_all_zero_ids_and_unknown_versions() -> None:
    good = "00-" + "a" * 32 + "-" + "b" * 16 + "-01"
    assert TraceParent.parse(good).header == good
    for bad in (
        "00-" + "0" * 32 + "-" + "b" * 16 + "-01",
        "00-" + "a" * 32 + "-" + "0" * 16 + "-01",
        "ff-" + "a" * 32 + "-" + "b" * 16 + "-01",
        "00-" + "A" * 32 + "-" + "b" * 16 + "-01",
        "00-" + "a" * 31 + "-" + "b" * 16 + "-01",
    ):
        try:
            TraceParent.parse(bad)
        except ValueError:
            continue
        raise AssertionError(f"parsed {bad}")
