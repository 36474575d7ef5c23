"""JSON responses as a change monitor compares them: filtered, then pretty-printed stably.

``jsonPath`` filters are RFC 9535 JSONPath (python-jsonpath in its strict mode, which runs
the JSONPath Compliance Test Suite); ``jq`` filters are jq programs (the jq library's own C
implementation). Each selected value is printed with sorted keys and two-space indentation,
so re-ordered keys or re-formatted JSON are not a change; what the filters select, in filter
order, is the text that is compared and diffed.

A jq program can loop for ever (``def f: f; f``) and a JSONPath ``match()``/``search()`` can
backtrack for ever: those run in a forked child that is killed at ``FILTER_BUDGET_S``, so a
hostile filter fails the check instead of stalling the callback. Plain JSONPath (no regex
functions) runs in the process: its cost is linear in the document.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import pickle
import re
import select
import signal
import time
from collections.abc import Callable, Sequence
from typing import Any

__all__ = [
    "FILTER_BUDGET_S",
    "FilterError",
    "check_jq",
    "check_json_path",
    "filtered_text",
    "is_json_content_type",
    "pretty",
    "select_values",
]

FILTER_BUDGET_S = 1.0  # all filters of one response
MAX_SELECTED = 10_000  # values one filter may select
_REGEX_FUNCTIONS = ("match(", "search(")
# jq builtins that reach outside the document (the process environment holds the function's
# AWS credentials; modules and inputs read files and streams; halt ends the process), refused
# at PUT as changedetection.io refuses them (html_tools._JQ_BLOCKED_PATTERNS). The forked child
# that runs every jq program also has an empty environment.
_JQ_BLOCKED = re.compile(
    r"\$ENV\b|\$__loc__\b|\$__prog_args\b|\$JQ_BUILD_CONFIGURATION\b|"
    r'(?<![\w$."])(env|include|import|'
    r"inputs?|input_filename|debug|stderr|halt|halt_error|builtins|modulemeta|get_search_list|"
    r"get_jq_origin|get_prog_origin|input_line_number)\b"
)


class FilterError(ValueError):
    """The response could not be filtered: not JSON, a filter that selects nothing, or one
    that ran out of time. The message names the filter."""


@functools.cache
def _environment() -> Any:
    from jsonpath import JSONPathEnvironment

    return JSONPathEnvironment(strict=True)


def check_json_path(path: str) -> str:
    """``path`` if it is an RFC 9535 JSONPath query; ValueError otherwise."""
    from jsonpath import JSONPathError

    try:
        _environment().compile(path)
    except JSONPathError as exc:
        raise ValueError(f"{path!r} is not an RFC 9535 JSONPath query: {exc}") from exc
    return path


def check_jq(program: str) -> str:
    """``program`` if jq compiles it; ValueError otherwise."""
    import jq

    if blocked := _JQ_BLOCKED.search(program):
        raise ValueError(
            f"{program!r} uses {blocked.group(0)!r}, which reads outside the document: not allowed"
        )
    try:
        jq.compile(program)
    except ValueError as exc:
        message = str(exc).splitlines()[0] if str(exc) else "does not compile"
        raise ValueError(f"{program!r} is not a jq program: {message}") from exc
    return program


def is_json_content_type(content_type: str | None) -> bool:
    """``application/json``, ``text/json`` and ``+json`` types (RFC 6839)."""
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media in ("application/json", "text/json") or media.endswith("+json")


def pretty(value: Any) -> str:
    """One selected value as it is compared: sorted keys, two-space indent, UTF-8 kept."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def select_values(
    document: Any, *, json_path: Sequence[str] = (), jq: Sequence[str] = ()
) -> list[tuple[str, list[Any]]]:
    """Each filter and what it selected, in order. FilterError names a filter that selected
    nothing or ran out of time."""
    deadline = time.monotonic() + FILTER_BUDGET_S
    selected: list[tuple[str, list[Any]]] = []
    for path in json_path:
        if any(name in path for name in _REGEX_FUNCTIONS):
            values = _bounded(lambda p=path: _json_path(p, document), path, deadline)
        else:
            values = _json_path(path, document)
        selected.append((path, values))
    for program in jq:
        selected.append((program, _bounded(lambda p=program: _jq(p, document), program, deadline)))
    for name, values in selected:
        if not values:
            kind = "jq" if name in jq else "jsonPath"
            raise FilterError(f"{kind} {name!r} selected nothing")
    return selected


def filtered_text(body: bytes, *, json_path: Sequence[str] = (), jq: Sequence[str] = ()) -> str:
    """The compared text of a JSON response: the selected values (all of it without filters),
    pretty-printed one after another."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FilterError(f"the response is not JSON: {exc}") from exc
    if not json_path and not jq:
        return pretty(document)
    selected = select_values(document, json_path=json_path, jq=jq)
    return "\n".join(pretty(value) for _, values in selected for value in values)


@functools.lru_cache(maxsize=512)
def _query(path: str) -> Any:
    """A compiled query: a warm function checks the same timers' queries again and again."""
    return _environment().compile(path)


def _json_path(path: str, document: Any) -> list[Any]:
    values = []
    for match in _query(path).finditer(document):
        values.append(match.obj)
        if len(values) > MAX_SELECTED:
            raise FilterError(f"jsonPath {path!r} selected over {MAX_SELECTED} values")
    return values


def _jq(program: str, document: Any) -> list[Any]:
    import jq

    values = []
    try:
        for value in jq.compile(program).input_value(document):
            values.append(value)
            if len(values) > MAX_SELECTED:
                raise FilterError(f"jq {program!r} selected over {MAX_SELECTED} values")
    except ValueError as exc:  # a jq runtime error (e.g. indexing a string)
        if isinstance(exc, FilterError):
            raise
        raise FilterError(f"jq {program!r} failed: {str(exc).splitlines()[0]}") from exc
    return values


def _bounded(run: Callable[[], list[Any]], name: str, deadline: float) -> list[Any]:
    """``run()`` in a forked child, killed at ``deadline``: its result, or FilterError."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, send, and leave without running any cleanup
        os.close(read_end)
        os.environ.clear()  # unsetenv(3) each: jq's `env` and `$ENV` see nothing
        try:
            outcome: tuple[str, Any] = ("ok", run())
        except FilterError as exc:
            outcome = ("error", str(exc))
        except Exception as exc:
            outcome = ("error", f"{name!r} failed: {exc}")
        data = pickle.dumps(outcome)
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(data)
        os._exit(0)
    os.close(write_end)
    chunks: list[bytes] = []
    try:
        with os.fdopen(read_end, "rb", buffering=0) as pipe:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not select.select([pipe], [], [], remaining)[0]:
                    raise FilterError(
                        f"{name!r} took over {FILTER_BUDGET_S:g} s on this response; simplify it"
                    )
                chunk = pipe.read(1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    status, value = pickle.loads(b"".join(chunks))  # our own child's answer
    if status == "error":
        raise FilterError(value)
    return list(value)
