"""Starts ``timer-service dev`` as a subprocess and stops it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from loadtest.stack import StackProcess, start_stack


@pytest.fixture
def local_stack(tmp_path: Path) -> Iterator[Callable[..., StackProcess]]:
    """A factory: each call starts ``timer-service dev`` in ``tmp_path``; all are stopped after."""
    started: list[StackProcess] = []

    def start(*args: str) -> StackProcess:
        stack = start_stack(*args, cwd=tmp_path)
        started.append(stack)
        return stack

    yield start
    for stack in started:
        stack.kill()
