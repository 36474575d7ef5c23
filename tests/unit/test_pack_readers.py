"""A tick's packs carry a copy that members share once, and the callbacks of releases that
landed before (a deploy in progress, a rollback) still read every firing of them right.

The releases' own readers (``tests/data/releases``: ``messages.read`` and what it imports, as
``d4f0a7e`` and ``e2d0e94`` shipped them) run in a process of their own on the packs a tick of
this release sends. A member that names no copy of its own is, to them, one without a copy:
they read its timer, as they did before copies travelled. They must never lose a firing, nor
run one with another timer's copy.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.world import T0, World
from timer_service.firing import Firing
from timer_service.messages import PACK_MAX_BYTES, Message, due_now, messages_of, read
from timer_service.tick import RACE_SLACK_S

RELEASES = Path(__file__).parents[1] / "data" / "releases" / "readers.tar.gz"
TEMPLATE = 40  # timers made from one template: they share their copy
OWN = 10  # timers with data of their own

READ_AS_A_RELEASE = r"""
import json, sys
from timer_service.messages import read
answers = []
for body in json.load(sys.stdin):
    try:
        answers.append([
            [f.owner, f.timer_id, f.version, f.scheduled_s]
            + [getattr(f, name, None) for name in ("snapshot", "snap_s", "shard")]
            for f in read(body).firings
        ])
    except Exception as exc:
        answers.append(repr(exc))
json.dump(answers, sys.stdout)
"""


def ticked_packs() -> list[Message]:
    """The packs one steady tick sends: TEMPLATE timers alike, OWN with data of their own."""
    world = World(start_s=T0 + 1)
    for n in range(TEMPLATE):
        world.put(f"same-{n}", schedule="rate(1 minute)", jobType="counted")
    for n in range(OWN):
        world.put(
            f"own-{n}", schedule="rate(1 minute)", jobType="counted", timerCallbackData={"n": n}
        )
    # Steady state: written well before (a timer written within the race window of its
    # minute fires alone, see tick.py), one tick came before.
    world.clock.set(T0 + 60 * (2 + (RACE_SLACK_S + 120) // 60) + 1)
    world.engine.tick(0)
    world.next_minute()
    before = len(world.queue.messages)
    world.engine.tick(0)
    return [message for message, _ in world.queue.messages[before:] if len(message.firings) > 1]


def _as_sent(firing: Firing) -> list[Any]:
    copy = [firing.snapshot, firing.snap_s, firing.shard] if firing.snapshot else [None] * 3
    return [firing.owner, firing.timer_id, firing.version, firing.scheduled_s, *copy]


def mixed_pack() -> Message:
    """Members with the pack's stamp, one of another second and one of another shard, one
    without a copy."""
    copied = [
        Firing("o", f"t{n}", 1, 1000, snapshot="C", snap_s=940, shard=0, incarnation=1, ledger=0)
        for n in range(3)
    ]
    (message,) = messages_of(
        [
            *copied,
            replace(copied[0], timer_id="bare", snapshot=None, snap_s=None, shard=None),
            replace(copied[0], timer_id="second", snapshot="D", snap_s=941),
            replace(copied[0], timer_id="shard", snapshot="E", shard=1),
        ]
    )
    return message


@pytest.fixture(scope="module")
def packs() -> list[Message]:
    found = ticked_packs()
    assert found and all(len(m.firings) == TEMPLATE + OWN for m in found)
    return found


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    into = tmp_path_factory.mktemp("releases")
    with tarfile.open(RELEASES) as archive:  # Python 3.11.2 has no extraction filters
        for member in archive.getmembers():
            source = archive.extractfile(member) if member.isfile() else None
            if source is not None:
                path = into / Path(member.name)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(source.read())
    return {path.name: path for path in sorted(into.iterdir())}


def read_as(release: Path, bodies: list[str]) -> list[Any]:
    done = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            f"import sys; sys.path.insert(0, {str(release)!r})\n" + READ_AS_A_RELEASE,
        ],
        input=json.dumps(bodies),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return list(json.loads(done.stdout))


def test_a_ticks_copies_travel_deflated_together_and_read_back_as_they_were(
    packs: list[Message],
) -> None:
    for message in packs:
        body = json.loads(message.body)
        copies = [str(f.snapshot) for f in message.firings]
        assert all(copy not in message.body for copy in copies)  # in "Q", not in a member
        assert len(body["Q"]) < len("".join(copies)) / 4
        assert [_as_sent(f) for f in read(message.body).firings] == list(
            map(_as_sent, message.firings)
        )


def test_members_without_a_copy_or_with_their_own_stamp_read_back_as_they_were() -> None:
    message = mixed_pack()
    assert "Q" in json.loads(message.body)
    assert [(f.timer_id, f.snapshot, f.snap_s, f.shard) for f in read(message.body).firings] == [
        ("t0", "C", 940, 0),
        ("t1", "C", 940, 0),
        ("t2", "C", 940, 0),
        ("bare", None, None, None),
        ("second", "D", 941, 0),
        ("shard", "E", 940, 1),
    ]


def _copy(seed: int) -> str:
    """A copy as long as the service writes (``snapshots.MAX_SNAPSHOT_BYTES`` of JSON that
    does not deflate): "1" and 1,372 characters of base64."""
    import base64
    import random

    return "1" + base64.b64encode(random.Random(seed).randbytes(1029)).decode()


def test_a_copy_shared_by_a_packs_members_counts_once_in_its_size() -> None:
    alike = [
        Firing("o", f"t{n}", 1, 1000, snapshot=_copy(0), snap_s=940, shard=0, incarnation=1)
        for n in range(1000)
    ]
    messages = messages_of([replace(f, ledger=0) for f in alike])
    assert [len(m.firings) for m in messages] == [100] * 10


def test_packs_of_copies_that_do_not_deflate_stay_within_their_bound() -> None:
    distinct = [
        Firing("o", f"t{n}", 1, 1000, snapshot=_copy(n), snap_s=940, shard=0, incarnation=1)
        for n in range(300)
    ]
    messages = messages_of([replace(f, ledger=0) for f in distinct])
    assert max(len(m.body) for m in messages) <= PACK_MAX_BYTES
    assert [_as_sent(f) for m in messages for f in read(m.body).firings] == list(
        map(_as_sent, distinct)
    )


MEMBER = {"o": "o", "i": "t", "v": 1, "s": 5}


@pytest.mark.parametrize(
    ("pack", "copies"),
    [
        ({"K": 1, "Z": 0}, "[1,null]"),
        ({}, '["C","C"]'),  # no stamp
        ({"K": 1, "Z": 0}, '["C"]'),  # one copy for two members
        ({"K": 1, "Z": 0}, '{"0":"C"}'),
        ({"K": 1, "Z": 0, "p": [MEMBER | {"x": "D"}, MEMBER]}, '["C",null]'),  # two copies
        ({"K": 1, "Z": 0, "p": [MEMBER | {"k": 2}, MEMBER]}, '["C",null]'),
        ({"K": 1, "Z": 0, "p": [MEMBER | {"z": 2}, MEMBER]}, '["C",null]'),
        ({"K": 1, "Z": 0}, "[" * 100_000),  # nested past what Python holds
        ({"K": 1, "Z": 0, "Q": "%%%"}, ""),  # not deflate
    ],
    ids=[
        "copy-not-text",
        "no-stamp",
        "short",
        "not-a-list",
        "own-copy",
        "own-second",
        "own-shard",
        "too-deep",
        "bad",
    ],
)
def test_a_pack_whose_copies_do_not_hold_together_is_no_message(
    pack: dict[str, Any], copies: str
) -> None:
    from timer_service.messages import _deflated

    with pytest.raises(ValueError):
        read(json.dumps({"p": [MEMBER, MEMBER], "Q": _deflated(copies)} | pack))


@pytest.mark.parametrize("release", ["d4f0a7e", "e2d0e94"])
def test_a_release_before_reads_every_firing_of_a_tick_and_never_another_timers_copy(
    packs: list[Message], releases: dict[str, Path], release: str
) -> None:
    redriven = due_now([f for m in packs for f in read(m.body).firings])  # a dead-letter redrive
    sent = [*packs, mixed_pack(), *redriven]
    answers = read_as(releases[release], [m.body for m in sent])
    for message, answer in zip(sent, answers, strict=True):
        assert isinstance(answer, list), answer  # read, not dropped as no firing
        assert [a[:4] for a in answer] == [_as_sent(f)[:4] for f in message.firings]
        for read_back, firing in zip(answer, message.firings, strict=True):
            # its own copy at its own second and shard, or none: it reads its timer
            assert read_back[4] is None or read_back == _as_sent(firing)


COPIES = st.one_of(st.none(), st.sampled_from(["C", "D", "{}"]), st.text(max_size=40))


@st.composite
def firings(draw: st.DrawFn) -> list[Firing]:
    """Firings as a tick, a redrive or a retry hands them over: copies shared, of their own,
    at the pack's second and shard or another, none; trace ids and incarnations or none."""
    made = []
    for n in range(draw(st.integers(1, 120))):
        copy = draw(COPIES)
        made.append(
            Firing(
                draw(st.sampled_from(["o", "p"])),
                f"t{n}",
                draw(st.integers(1, 3)),
                1000 + draw(st.integers(0, 1)),
                snapshot=copy,
                snap_s=None if copy is None else draw(st.sampled_from([940, 941])),
                shard=None if copy is None else draw(st.sampled_from([0, 1])),
                incarnation=draw(st.one_of(st.none(), st.just(1))),
                trace_id=draw(st.one_of(st.none(), st.just(f"{n:032x}"))),
                ledger=draw(st.one_of(st.none(), st.just(0))),
                raced=draw(st.booleans()) and n % 7 == 0,
            )
        )
    return made


def _whole(firing: Firing) -> tuple[object, ...]:
    return (firing, firing.snapshot, firing.snap_s, firing.shard, firing.trace_id, firing.origin)


@settings(max_examples=80, deadline=None)
@given(firings(), st.booleans())
def test_every_pack_reads_back_as_it_was_sent(sent: list[Firing], deflate: bool) -> None:
    for message in [*messages_of(sent, deflate=deflate), *due_now(sent, deflate=deflate)]:
        assert len(message.body) <= PACK_MAX_BYTES
        assert list(map(_whole, read(message.body).firings)) == list(map(_whole, message.firings))
