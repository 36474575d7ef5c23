"""Firings of one pack whose copies are found wanting are read together, in one batched read
(issue 22, from the review of the first version)."""

from __future__ import annotations

from tests.unit.world import T0, World


def test_fallbacks_of_one_pack_share_one_read() -> None:
    w = World(start_s=T0 - 570)
    for n in range(20):
        w.put(f"t{n}", schedule="rate(1 minute)", jobType="counted")
    w.clock.set(T0 + 1.5)
    w.engine.tick(0)
    firs = [f for f, _ in w.queue.sent if f.scheduled_s == T0 + 30]
    assert len(firs) == 20 and all(f.snapshot for f in firs)
    for n in range(20):  # a bulk relabel (or pause) of all of them after the tick
        w.service.relabel("alice", f"t{n}", put={"team": "x"})
    w.clock.set(T0 + 30.2)
    reads = w.delivery.reads(firs)  # one pack: due in the same second
    for n, f in enumerate(firs):
        w.delivery.deliver(f, attempt=1, reads=reads, delivery_id=f"m{n}")
    assert (reads.copies, reads.log_reads) == (0, 1)
    assert reads.reads == 1, reads.reads
