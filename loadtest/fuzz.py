"""``make fuzz``: schemathesis against the OpenAPI document of a fresh local stack.

All operations, all phases (examples, coverage, fuzzing, stateful: the document links ``PUT``
to the operations on the timer it made), every check but one: ``positive_data_acceptance``
expects every schema-valid request to succeed, while the API also checks what JSON Schema
cannot say (a cron expression's fields, ``endAt`` after ``startAt``, a job config against its
job type) and refuses those with a 400 naming the field. Any 5xx, any answer outside the
document, any response that breaks its schema fails the run.

    .venv/bin/python -m loadtest.fuzz [--seconds 300] [--workers 2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from loadtest.stack import start_stack

__all__ = ["main"]

EXCLUDED_CHECKS = ("positive_data_acceptance",)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fuzz a local stack's API with schemathesis.")
    parser.add_argument("--seconds", type=int, default=300, help="time budget of the run")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as state_dir:
        stack = start_stack(
            "--quiet", "--rate-limit", "0", "--state-dir", state_dir, cwd=Path(state_dir)
        )
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
                str(args.seconds),
                "--workers",
                str(args.workers),
            ]
            print("$ " + " ".join(command), flush=True)
            code = subprocess.run(command, check=False).returncode
        finally:
            stopped = stack.stop()
        errors = [line for line in stack.output if "Traceback" in line or "ERROR" in line]
    if errors:
        print("the local stack logged errors:\n" + "\n".join(errors))
    print(f"schemathesis exit {code}; stack stopped with {stopped}")
    return code or (1 if errors else 0)


if __name__ == "__main__":
    sys.exit(main())
