"""``make fuzz``: schemathesis against the OpenAPI document of a fresh local stack, twice.

Once with the rate limit off, so that every generated request reaches the API, and once with
the stack's default per-tenant limit (``timer-service dev`` as users run it), where 429s with
``Retry-After`` must be answers the document declares. Each run is a fresh stack and
``--seconds`` of schemathesis: all operations, all phases (examples, coverage, fuzzing, stateful:
the document links ``PUT`` to the operations on the timer it made), every check but one:
``positive_data_acceptance`` expects every schema-valid request to succeed, while the API also
checks what JSON Schema cannot say (a cron expression's fields, ``endAt`` after ``startAt``, a
job config against its job type) and refuses those with a 400 naming the field. Any 5xx, any
answer outside the document, any response that breaks its schema fails the run. The summary
gives each run's test cases, failures and the statuses the stack answered.

    .venv/bin/python -m loadtest.fuzz [--seconds 300] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from loadtest.stack import start_stack

__all__ = ["CONFIGURATIONS", "FuzzRun", "main"]

EXCLUDED_CHECKS = ("positive_data_acceptance",)
#: Each run's name and the ``timer-service dev`` arguments it adds.
CONFIGURATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("rate limit off", ("--rate-limit", "0")),
    ("default rate limit", ()),
)


@dataclass
class FuzzRun:
    """What one schemathesis run found."""

    name: str
    exit_code: int
    cases: int = 0
    failing_cases: int = 0
    unique_failures: int = 0
    errors: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    stack_errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.stack_errors

    def line(self) -> str:
        answered = sum(self.statuses.values())
        shares = ", ".join(f"{status}: {count}" for status, count in sorted(self.statuses.items()))
        return (
            f"{self.name}: {self.cases:,} test cases, {self.failing_cases} failing"
            f" ({self.unique_failures} unique), {self.errors} errors;"
            f" {answered:,} requests ({shares})"
        )


def run_one(name: str, stack_args: tuple[str, ...], *, seconds: int, workers: int) -> FuzzRun:
    """A fresh stack with ``stack_args``, schemathesis against it, and what the reports say."""
    with tempfile.TemporaryDirectory() as state_dir:
        reports = Path(state_dir) / "reports"
        stack = start_stack("--quiet", *stack_args, "--state-dir", state_dir, cwd=Path(state_dir))
        try:
            command = [
                str(Path(sys.executable).with_name("schemathesis")),
                "run",
                f"{stack.url}/openapi.json",
                "--checks",
                "all",
                "--exclude-checks",
                ",".join(EXCLUDED_CHECKS),
                "--phases",
                "examples,coverage,fuzzing,stateful",
                "--max-time",
                str(seconds),
                "--workers",
                str(workers),
                "--report",
                "json,har",
                "--report-dir",
                str(reports),
            ]
            print(f"== {name}\n$ " + " ".join(command), flush=True)
            code = subprocess.run(command, check=False).returncode
        finally:
            stopped = stack.stop()
        run = FuzzRun(name, code)
        run.stack_errors = [line for line in stack.output if "Traceback" in line or "ERROR" in line]
        if stopped != 0:
            run.stack_errors.append(f"the stack stopped with {stopped}")
        for report in reports.glob("json-*.json"):
            summary = json.loads(report.read_text())
            cases = summary["test_cases"]
            run.cases = cases["generated"]
            run.failing_cases = cases["with_failures"]
            run.unique_failures = cases["unique_failures"]
            run.errors = cases["errored"] + len(summary["errors"])
        for har in reports.glob("har-*.json"):
            entries = json.loads(har.read_text())["log"]["entries"]
            run.statuses.update(entry["response"]["status"] for entry in entries)
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fuzz a local stack's API with schemathesis.")
    parser.add_argument(
        "--seconds", type=int, default=300, help="time budget of each configuration's run"
    )
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    runs = [
        run_one(name, stack_args, seconds=args.seconds, workers=args.workers)
        for name, stack_args in CONFIGURATIONS
    ]
    print("\n== make fuzz")
    for run in runs:
        print(f"{'ok' if run.ok else 'FAILED':7}{run.line()}")
        for line in run.stack_errors:
            print(f"  the local stack logged: {line}")
    return 0 if all(run.ok for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
