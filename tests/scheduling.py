"""pytest plugin: how ``make test`` spreads the tests over pytest-xdist's workers
(``-n 4 --dist loadgroup``).

Most of the session's wall time is two e2e tests that wait minutes for the local stack's minute
ticks (marked ``wall_clock``); everything else is CPU on two cores. So:

- The tests are ordered heaviest first: the ``wall_clock`` ones, then the rest of e2e, the load
  harness and the browser (subprocesses, waits), the CDK tests, the functional tests, and the
  unit tests last, small enough to fill the gaps at the end.
- Tests that share a module-scoped fixture, or a session-scoped one of a directory's conftest
  (a running stack, a browser, the synthesized stacks), are one group, run by one worker: the
  fixture is made once.
- A worker running a ``wall_clock`` test is given nothing to wait behind it but the one test it
  needs to start it (xdist runs a test once it knows the next): the last, a unit test. So four
  workers: two mostly asleep in those tests, two for the CPU.

xdist's own ``xdist_group`` does not work with this pytest (it renames ``Item._nodeid``, which
pytest 9 no longer reads), so the workers write each test's group to a file the scheduler in
the controller reads. Without ``--dist loadgroup`` (``-p no:xdist``, ``-n 2`` alone) the order
still holds and the groups are not used.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

WALL_CLOCK = "wall_clock"  # the marker, and the prefix of those tests' groups
GROUPS_ENV = "TIMER_SERVICE_TEST_GROUPS"  # the directory the workers write the groups into
ORDER = (  # by where a test lives, after the wall_clock ones: lower first
    (("tests/e2e/", "tests/loadtest/", "tests/browser/"), 1),
    (("tests/infra/",), 2),
    (("tests/functional/",), 3),
)
LAST = 4  # unit tests and the rest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{WALL_CLOCK}: waits minutes for the wall clock (run first, on a worker of its own)",
    )
    controller = not hasattr(config, "workerinput")
    if controller and config.getoption("dist", "no") == "loadgroup":
        os.environ[GROUPS_ENV] = tempfile.mkdtemp(prefix="test-groups-")  # workers inherit it


def pytest_unconfigure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput") and (directory := os.environ.pop(GROUPS_ENV, None)):
        shutil.rmtree(directory, ignore_errors=True)


def _shared_scope(item: pytest.Item, everyones: set[str]) -> str | None:
    """The module or directory whose fixture the test shares with others, if it uses one that
    is module-scoped, or session-scoped in a directory's conftest. Session fixtures of
    ``everyones`` (pytest's, the root conftest's: the embedded AWS each worker starts) are not
    shared things to group by: that would put every functional test on one worker."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return None
    shared = None
    for definitions in info.name2fixturedefs.values():
        for definition in definitions:
            if definition.scope == "session" and definition.baseid not in everyones:
                return str(definition.baseid)  # the directory: its modules too
            if definition.scope == "module":
                shared = item.nodeid.split("::", 1)[0]
    return shared


def _rank(item: pytest.Item) -> int:
    if item.get_closest_marker(WALL_CLOCK) is not None:
        return 0
    path = item.nodeid
    return next((rank for prefixes, rank in ORDER if path.startswith(prefixes)), LAST)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=_rank)  # stable: each part keeps its order
    directory = os.environ.get(GROUPS_ENV)
    if not hasattr(config, "workerinput") or directory is None:
        return
    everyones = {"", Path(__file__).parent.relative_to(config.rootpath).as_posix()}
    groups = {}
    for item in items:
        if item.get_closest_marker(WALL_CLOCK) is not None:
            groups[item.nodeid] = f"{WALL_CLOCK}:{item.nodeid}"
        elif (scope := _shared_scope(item, everyones)) is not None:
            groups[item.nodeid] = scope
    worker = config.workerinput["workerid"]  # type: ignore[attr-defined]
    written = Path(directory, f"{worker}.partial")
    written.write_text(json.dumps(groups))
    written.replace(written.with_suffix(".json"))  # whole, before xdist hears of the collection


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    config.option.loadscopereorder = False  # the order is the collection's (heaviest first)

    class Grouped(LoadGroupScheduling):  # type: ignore[misc]
        """Whole groups to one worker each; nothing but one unit test queued behind a
        ``wall_clock`` test."""

        _groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self._groups is None:  # every worker has collected: each wrote the same groups
                directory = Path(os.environ[GROUPS_ENV])
                self._groups = json.loads(next(iter(sorted(directory.glob("*.json")))).read_text())
            return self._groups.get(nodeid, nodeid)

        def _reschedule(self, node: Any) -> None:
            assigned = self.assigned_work.get(node, {})
            waiting = any(
                scope.startswith(f"{WALL_CLOCK}:") and not all(done.values())
                for scope, done in assigned.items()
            )
            if node.shutting_down or not self.workqueue or not waiting:
                super()._reschedule(node)
            elif self._pending_of(assigned) < 2:  # the test starts once the worker has another
                scope, unit = self.workqueue.popitem(last=True)
                assigned[scope] = unit
                collection = self.registered_collections[node]
                node.send_runtest_some([collection.index(nodeid) for nodeid in unit])

    return Grouped(config, log)
