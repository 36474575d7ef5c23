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

from tests.unit.world import T0, World
from timer_service.firing import Firing
from timer_service.messages import Message, messages_of, read
from timer_service.tick import RACE_SLACK_S

RELEASES = Path(__file__).parents[1] / "data" / "releases" / "readers.tar.gz"
TEMPLATE = 7  # timers made from one template: they share their copy

READ_AS_A_RELEASE = r"""
import json, sys
from timer_service.messages import read
answers = []
for body in json.load(sys.stdin):
    try:
        answers.append([
            [f.owner, f.timer_id, f.version, f.scheduled_s, getattr(f, "snapshot", None)]
            for f in read(body).firings
        ])
    except Exception as exc:
        answers.append(repr(exc))
json.dump(answers, sys.stdout)
"""


def ticked_packs() -> list[Message]:
    """The packs one steady tick sends: TEMPLATE timers alike, two with data of their own."""
    world = World(start_s=T0 + 1)
    for n in range(TEMPLATE):
        world.put(f"same-{n}", schedule="rate(1 minute)", jobType="counted")
    for n in range(2):
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
    return [firing.owner, firing.timer_id, firing.version, firing.scheduled_s, firing.snapshot]


@pytest.fixture(scope="module")
def packs() -> list[Message]:
    found = ticked_packs()
    assert found and all(len(m.firings) == TEMPLATE + 2 for m in found)
    return found


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    into = tmp_path_factory.mktemp("releases")
    with tarfile.open(RELEASES) as archive:
        archive.extractall(into, filter="data")
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


def test_members_sharing_a_copy_carry_it_once_and_read_back_with_it(
    packs: list[Message],
) -> None:
    for message in packs:
        body = json.loads(message.body)
        copies = [f.snapshot for f in message.firings]
        shared = max(set(copies), key=copies.count)
        assert copies.count(shared) == TEMPLATE and body["X"] == shared
        assert message.body.count(str(shared)) == 1  # once, not once a member
        assert [_as_sent(f) for f in read(message.body).firings] == list(
            map(_as_sent, message.firings)
        )


def test_a_member_without_a_copy_stays_without_one_beside_a_shared_copy() -> None:
    copied = [
        Firing("o", f"t{n}", 1, 1000, snapshot="C", snap_s=940, shard=0, incarnation=1, ledger=0)
        for n in range(3)
    ]
    bare = replace(copied[0], timer_id="bare", snapshot=None, snap_s=None, shard=None)
    other = replace(copied[0], timer_id="other", snapshot="D")
    (message,) = messages_of([*copied, bare, other])
    assert json.loads(message.body)["X"] == "C"
    assert [(f.timer_id, f.snapshot, f.snap_s) for f in read(message.body).firings] == [
        ("t0", "C", 940),
        ("t1", "C", 940),
        ("t2", "C", 940),
        ("bare", None, None),
        ("other", "D", 940),
    ]


@pytest.mark.parametrize(
    "pack",
    [
        {"X": 3, "K": 1, "Z": 0, "p": [{"o": "o", "i": "t", "v": 1, "s": 5}] * 2},
        {"X": "C", "p": [{"o": "o", "i": "t", "v": 1, "s": 5}] * 2},  # no stamp
        {"X": "C", "K": 1, "Z": 0, "p": [{"o": "o", "i": "t", "v": 1, "s": 5, "k": 2}] * 2},
        {"X": "C", "K": 1, "Z": 0, "p": [["o", "t", 1, 5]] * 2},
    ],
    ids=["copy-not-text", "no-stamp", "own-stamp-without-copy", "member-not-object"],
)
def test_a_pack_whose_shared_copy_does_not_hold_together_is_no_message(
    pack: dict[str, Any],
) -> None:
    with pytest.raises(ValueError):
        read(json.dumps(pack))


@pytest.mark.parametrize("release", ["d4f0a7e", "e2d0e94"])
def test_a_release_before_reads_every_firing_of_a_tick_and_never_another_timers_copy(
    packs: list[Message], releases: dict[str, Path], release: str
) -> None:
    answers = read_as(releases[release], [m.body for m in packs])
    for message, answer in zip(packs, answers, strict=True):
        assert isinstance(answer, list), answer  # read, not dropped as no firing
        assert [a[:4] for a in answer] == [_as_sent(f)[:4] for f in message.firings]
        for (*_, copy), firing in zip(answer, message.firings, strict=True):
            assert copy in (None, firing.snapshot)  # None: it reads its timer
