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
# The pattern argument of match() and search(): a string literal after the first argument.
_REGEX_ARGUMENT = re.compile(
    r"""(?:match|search)\s*\((?:[^()'"]|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\([^()]*\))*?,\s*"""
    r"""('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\s*\)"""
)
MEMORY_LIMIT_BYTES = 512 * 1024 * 1024  # a filter's child may grow by this much
_TOO_DEEP = "JSON Python can hold: nested too deep"
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
    import regex
    from jsonpath import JSONPathError

    try:
        _environment().compile(path)
    except JSONPathError as exc:
        raise ValueError(f"{path!r} is not an RFC 9535 JSONPath query: {exc}") from exc
    for literal in _REGEX_ARGUMENT.findall(path):  # compiled only when a string is matched
        body = literal[1:-1]
        if literal[0] == "'":  # as the double-quoted JSON string it is, escapes and all
            body = body.replace("\\'", "'").replace('"', '\\"')
        try:
            pattern = json.loads(f'"{body}"')
        except ValueError:
            continue  # the library reads its own literals; this check is only for regexes
        try:
            regex.compile(pattern)  # I-Regexp (RFC 9485) has \\p{..}: the regex package's
        except regex.error as exc:
            raise ValueError(
                f"{path!r} is not an RFC 9535 JSONPath query: {literal} is not a regex: {exc}"
            ) from exc
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
    except (UnicodeDecodeError, ValueError) as exc:  # ValueError: JSON's, or a huge integer
        raise FilterError(f"the response is not JSON: {exc}") from exc
    except RecursionError as exc:
        raise FilterError(f"the response is not {_TOO_DEEP}") from exc
    try:
        if not json_path and not jq:
            text = pretty(document)
        else:
            selected = select_values(document, json_path=json_path, jq=jq)
            text = "\n".join(pretty(value) for _, values in selected for value in values)
    except RecursionError as exc:
        raise FilterError(f"the response is not {_TOO_DEEP}") from exc
    # A lone surrogate ("\ud800") is valid JSON but no text: it becomes U+FFFD.
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


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
    libc = _libc()  # loaded before the fork: the child only calls it
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, send, and leave without running any cleanup
        try:
            os.close(read_end)
            _empty_environment(libc)
            _limit_memory()
            _answer(run, name, write_end)
        finally:  # whatever it raised, it never returns into the caller's code
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
    if not chunks:  # it died before answering: jq aborts when an allocation fails
        raise FilterError(_over_memory(name))
    status, value = pickle.loads(b"".join(chunks))  # our own child's answer
    if status == "error":
        raise FilterError(value)
    return list(value)


def _answer(run: Callable[[], list[Any]], name: str, write_end: int) -> None:
    """In the child: ``run()``'s values, or the error that names the filter, to the parent."""
    try:
        outcome: tuple[str, Any] = ("ok", run())
    except FilterError as exc:
        outcome = ("error", str(exc))
    except MemoryError:
        outcome = ("error", _over_memory(name))
    except Exception as exc:
        outcome = ("error", f"{name!r} failed: {exc}")
    try:
        data = pickle.dumps(outcome)
    except RecursionError:  # values nested past the stack (a response that nests so)
        data = pickle.dumps(("error", f"{name!r} selected values that are not {_TOO_DEEP}"))
    with os.fdopen(write_end, "wb") as pipe:
        pipe.write(data)


def _empty_environment(libc: Any) -> None:
    """In the child: jq's ``env`` and ``$ENV`` see no variable. os.environ.clear() unsets
    those Python knows; clearenv(3) those set in C too (readline sets LINES and COLUMNS),
    and one variable set and unset leaves environ an empty list, not the NULL that jq's env
    would read past."""
    os.environ.clear()
    libc.clearenv()
    libc.setenv(b"_", b"", 1)
    libc.unsetenv(b"_")


@functools.cache
def _libc() -> Any:
    import ctypes

    return ctypes.CDLL(None)


def _limit_memory() -> None:
    """In the child: its address space may grow MEMORY_LIMIT_BYTES beyond what it has."""
    import resource

    try:
        with open("/proc/self/status", encoding="ascii") as status:
            size_kb = next(int(line.split()[1]) for line in status if line.startswith("VmSize:"))
        limit = size_kb * 1024 + MEMORY_LIMIT_BYTES
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (OSError, StopIteration, ValueError):  # no /proc: bounded by time alone
        pass


def _over_memory(name: str) -> str:
    return f"{name!r} took over {MEMORY_LIMIT_BYTES // 2**20} MB of memory on this response"
