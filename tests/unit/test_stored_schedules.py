"""A timer stored under rules older than today's (an expression the parser now refuses, e.g.
`3#1,6#3`, which AWS's documentation says is not valid) must not stop its shard or its owner's
listing: it fires its due firing, stops there, and reads back without next firings."""

from __future__ import annotations

from dataclasses import replace

from tests.unit.world import T0, World

OLD = "cron(0/1 * ? * 3#1,6#3 *)"  # accepted by an earlier version, refused now


def store_with_an_old_expression(world: World, timer_id: str) -> None:
    world.put(timer_id, schedule="cron(0/1 * ? * * *)", jobType="counted")
    timer = world.store.timers[("alice", timer_id)]
    world.store.timers[("alice", timer_id)] = timer.model_copy(update={"schedule": OLD})
    for partition in world.store.index.values():
        for sort_key, entry in partition.items():
            if entry.timer_id == timer_id:
                partition[sort_key] = replace(entry, schedule=OLD)


def test_a_stored_expression_refused_now_does_not_stop_the_shard() -> None:
    control, world = World(start_s=T0 + 1), World(start_s=T0 + 1)
    for each in (control, world):
        each.put("healthy", schedule="cron(0/1 * ? * * *)", jobType="counted")
    store_with_an_old_expression(world, "old")
    for each in (control, world):
        each.next_minute()
    expected = control.run_minutes(3)
    fired = world.run_minutes(3)
    assert [f for f in fired if f.timer_id == "healthy"] == expected
    assert [f.timer_id for f in fired].count("old") == 1  # its due firing, then no successor


def test_a_stored_expression_refused_now_still_reads_and_lists() -> None:
    world = World(start_s=T0 + 1)
    world.put("healthy", schedule="rate(5 minutes)", jobType="counted")
    store_with_an_old_expression(world, "old")
    view = world.service.get("alice", "old")
    assert view.schedule == OLD and view.next_fire_times == []
    assert [t.id for t in world.service.list("alice").items] == ["healthy", "old"]
