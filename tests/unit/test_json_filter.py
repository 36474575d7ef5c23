"""html_monitor's JSON filters against outside truth: the JSONPath Compliance Test Suite
(github.com/jsonpath-standard/jsonpath-compliance-test-suite, cts.json at 7be7c1f, BSD-2;
copied to tests/data/jsonpath/), RFC 9535's own test suite, run through what a timer's
`jsonPath` goes through (validation at PUT, selection at the check); and jq programs that
would reach outside the document."""

from __future__ import annotations

import ctypes
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from callbacks.html_monitor.json_filter import (
    FilterError,
    check_jq,
    check_json_path,
    filtered_text,
    select_values,
)

CTS = json.loads((Path(__file__).parents[1] / "data" / "jsonpath" / "cts.json").read_text())
CASES = CTS["tests"]


def _id(case: dict[str, Any]) -> str:
    return str(case["name"])


@pytest.mark.parametrize("case", [c for c in CASES if c.get("invalid_selector")], ids=_id)
def test_a_query_the_suite_calls_invalid_is_refused_at_put(case: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="is not an RFC 9535 JSONPath query"):
        check_json_path(case["selector"])


@pytest.mark.parametrize("case", [c for c in CASES if not c.get("invalid_selector")], ids=_id)
def test_a_valid_query_selects_what_the_suite_says(case: dict[str, Any]) -> None:
    assert check_json_path(case["selector"]) == case["selector"]
    expected = case.get("results", [case.get("result")])  # several when order is not fixed
    try:
        ((_, values),) = select_values(case["document"], json_path=[case["selector"]])
    except FilterError:
        values = []  # selected nothing: the check reports it; the suite expects []
    assert values in expected


@pytest.mark.parametrize(
    "program",
    ["env", "$ENV.AWS_SECRET_ACCESS_KEY", "env | .AWS_SESSION_TOKEN", "[inputs]", "input",
     'import "x" as x; .', 'include "x"; .', ".a | debug", "halt_error", "$__loc__",
     '"\\(env)"'],
)  # fmt: skip
def test_jq_programs_that_read_outside_the_document_are_refused(program: str) -> None:
    with pytest.raises(ValueError, match="reads outside the document"):
        check_jq(program)


@pytest.mark.parametrize("program", [".env", '."env"', 'select(.name == "env")', ".input"])
def test_jq_fields_named_like_those_builtins_are_allowed(program: str) -> None:
    assert check_jq(program) == program


def test_a_jq_program_stored_before_the_check_existed_still_sees_no_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "the-function's-own")
    ((_, values),) = select_values({"a": 1}, jq=["[env, $ENV] | map(length)"])
    assert values == [[0, 0]]
    assert os.environ["AWS_SECRET_ACCESS_KEY"] == "the-function's-own"  # the parent keeps it


def test_a_variable_set_in_c_and_unknown_to_os_environ_is_not_seen_by_jq() -> None:
    # readline, for one, sets LINES and COLUMNS with setenv(3): os.environ never hears of them,
    # so clearing os.environ alone left them (and anything a library sets so) for jq's env.
    libc = ctypes.CDLL(None)
    libc.setenv(b"SET_IN_C_ONLY", b"the-function's-own", 1)
    try:
        assert "SET_IN_C_ONLY" not in os.environ
        ((_, values),) = select_values({"a": 1}, jq=["[env, $ENV] | map(keys)"])
        assert values == [[[], []]]
        ((_, values),) = select_values({"a": 1}, jq=["env.SET_IN_C_ONLY"])
        assert values == [None]
    finally:
        libc.unsetenv(b"SET_IN_C_ONLY")


def test_a_child_that_fails_to_send_its_answer_ends_there_and_never_runs_the_callers_code(
    tmp_path: Path,
) -> None:
    # 900 nested arrays: Python reads them and jq selects them, but pickling the answer
    # overflows the stack. The child then raised out of the fork into the caller's code and
    # ran on as a second copy of the callback (with its clients) until the deadline.
    ran_here = tmp_path / "pids"
    try:
        filtered_text(b"[" * 900 + b"]" * 900, jq=["."])
        outcome = "selected"
    except FilterError as exc:
        outcome = str(exc)
    with ran_here.open("a") as pids:  # every process that comes back here writes its pid
        pids.write(f"{os.getpid()}\n")
    time.sleep(0.3)
    assert ran_here.read_text().split() == [str(os.getpid())]
    assert "nested too deep" in outcome, outcome


@pytest.mark.parametrize(
    ("body", "program", "expected"),
    [
        # jq reads the document as Python parsed it, so a number's spelling in the response
        # (19.90 against 19.9 on the next deploy of the API) is no change of its text
        (b'{"price": 19.90}', '"\\(.price) EUR"', '"19.9 EUR"'),
        (b'{"a": 1E2}', ".a | tostring", '"100.0"'),
        # any encoding json.loads reads (RFC 8259 allows UTF-16 and UTF-32 with a BOM)
        ('{"a": "\u00e9"}'.encode("utf-16"), ".a", '"\u00e9"'),
    ],
)
def test_jq_sees_the_values_python_read(body: bytes, program: str, expected: str) -> None:
    assert filtered_text(body, jq=[program]) == expected
