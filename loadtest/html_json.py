"""JSON filtering, side by side: html_monitor's ``jsonPath``/``jq`` against changedetection.io's
JSON filter (``html_tools.extract_json_as_string``, as its text processor calls it for a
``json:`` or ``jq:`` filter) on the same real documents.

The documents are botocore's service models (``botocore/data/*/*/service-2.json.gz``, real
JSON that the runtime already ships: 1 KB to several MB each). Each (document, filter) pair is
one check on each side: parse the response, apply the filter, render what it selected as the
text that is compared. CPU time is summed over the pairs; the selected values are compared
value for value (changedetection.io prints one match bare and several as a list).
"""

from __future__ import annotations

import gzip
import json
import resource
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import botocore

from callbacks.html_monitor.json_filter import FilterError, filtered_text

__all__ = ["FILTERS", "compare_json"]

MODELS = Path(botocore.__file__).parent / "data"
# Each valid in RFC 9535 and in jsonpath-ng's extended syntax, which changedetection.io uses.
FILTERS = [
    ("jsonPath", "$.metadata.serviceFullName"),
    ("jsonPath", "$.operations.*.http.method"),
    ("jsonPath", "$.shapes[?(@.type == 'structure')].required"),
    ("jsonPath", "$..errors[*].shape"),
    ("jq", "[.operations[].name] | sort"),
]
OUR_REPEATS = 3

THEIR_SIDE = r"""
import json, sys, time
from changedetectionio import html_tools

out = []
for path, kind, expression in json.load(sys.stdin):
    content = open(path, encoding="utf-8").read()
    rule = ("json:" if kind == "jsonPath" else "jq:") + expression
    started = time.process_time()
    text = html_tools.extract_json_as_string(content=content, json_filter=rule)
    out.append({"cpu_s": time.process_time() - started, "text": text})
json.dump(out, sys.stdout)
"""


def documents(limit: int | None, into: Path) -> list[Path]:
    """The first ``limit`` service models (by name), decompressed into ``into``."""
    models = sorted(MODELS.glob("*/*/service-2.json.gz"))
    newest: dict[str, Path] = {}
    for model in models:  # one API version a service: the newest
        newest[model.parent.parent.name] = model
    paths = []
    for name, model in sorted(newest.items())[:limit]:
        path = into / f"{name}.json"
        path.write_bytes(gzip.decompress(model.read_bytes()))
        paths.append(path)
    return paths


def ours(pairs: list[tuple[Path, str, str]]) -> tuple[list[list[Any]], list[float]]:
    bodies = {path: path.read_bytes() for path, _, _ in pairs}
    best = [float("inf")] * len(pairs)
    values: list[list[Any]] = []
    for _ in range(OUR_REPEATS):
        values = []
        for n, (path, kind, expression) in enumerate(pairs):
            started = _cpu()
            try:
                text = filtered_text(
                    bodies[path],
                    json_path=[expression] if kind == "jsonPath" else [],
                    jq=[expression] if kind == "jq" else [],
                )
            except FilterError:
                text = ""
            best[n] = min(best[n], _cpu() - started)
            values.append(_values(text))
    return values, best


def _cpu() -> float:
    """CPU seconds of this process and of its children that ended: a jq program (and a
    JSONPath with a regex function) runs in a forked child, whose time is ours too."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    ended = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + ended.ru_utime + ended.ru_stime


def _values(text: str) -> list[Any]:
    """Our compared text back to its values (pretty-printed one after another)."""
    if not text:
        return []
    decoder = json.JSONDecoder()
    found, at = [], 0
    while at < len(text):
        value, at = decoder.raw_decode(text, at)
        found.append(value)
        while at < len(text) and text[at].isspace():
            at += 1
    return found


def theirs(python: Path, pairs: list[tuple[Path, str, str]]) -> tuple[list[Any], list[float]]:
    """Each pair's printed selection as changedetection.io prints it, decoded (None: nothing)."""
    done = subprocess.run(
        [str(python), "-c", THEIR_SIDE],
        input=json.dumps([[str(p), k, e] for p, k, e in pairs]),
        capture_output=True,
        text=True,
        check=True,
    )
    answers = json.loads(done.stdout)
    values = [json.loads(a["text"]) if a["text"] else None for a in answers]
    return values, [answer["cpu_s"] for answer in answers]


def compare_json(python: Path | None, *, limit: int | None = 100) -> dict[str, Any]:
    """Both sides on the same documents and filters; ``python=None``: ours only."""
    with tempfile.TemporaryDirectory() as scratch:
        paths = documents(limit, Path(scratch))
        pairs = [(path, kind, expression) for path in paths for kind, expression in FILTERS]
        our_values, our_each = ours(pairs)
        our_cpu = sum(our_each)
        figures: dict[str, Any] = {
            "documents": len(paths),
            "megabytes": round(sum(p.stat().st_size for p in paths) / 1e6, 1),
            "filters": [f"{kind} {expression}" for kind, expression in FILTERS],
            "checks": len(pairs),
            "ours_cpu_ms_per_check": round(our_cpu / len(pairs) * 1000, 3),
            "values_selected": sum(len(v) for v in our_values),
        }
        if python is None:
            return figures
        their_values, their_each = theirs(python, pairs)
        their_cpu = sum(their_each)
    same = [_same(a, b) for a, b in zip(our_values, their_values, strict=True)]
    differing = [
        f"{path.name} {kind} {expression}"
        for (path, kind, expression), ok in zip(pairs, same, strict=True)
        if not ok
    ]
    per_filter = {}
    for n, (kind, expression) in enumerate(FILTERS):
        mine = sum(our_each[n :: len(FILTERS)])
        other = sum(their_each[n :: len(FILTERS)])
        per_filter[f"{kind} {expression}"] = {
            "ours_ms": round(mine / len(paths) * 1000, 3),
            "changedetection_ms": round(other / len(paths) * 1000, 3),
        }
    return figures | {
        "per_filter": per_filter,
        "changedetection_cpu_ms_per_check": round(their_cpu / len(pairs) * 1000, 3),
        "cpu_ratio": round(their_cpu / our_cpu, 1),
        "identical_values": sum(same),
        "differing": differing[:10],
    }


def _same(ours: list[Any], theirs: Any) -> bool:
    """changedetection.io prints nothing for no match, one match bare, several as a list."""
    if not ours:
        return theirs is None
    return bool(theirs == (ours[0] if len(ours) == 1 else ours))
