r"""HTML text extraction, side by side: ``extract_text`` against changedetection.io's own pipeline.

On the same real pages (Debian's ``python3.11-doc``: 530 pages) and the same selector
(``div.body``), each side extracts the text a change monitor compares; the benchmark reports
CPU time per page for both, the ratio, and how far the two texts agree on their words.

Words are runs of letters and digits (``\w+``). Where a page has no white space between
inline elements (Sphinx writes ``<span>f</span><span>(</span><em>x</em>``), a browser and
``extract_text`` show ``f(x)``, while inscriptis puts a space around each element
(``f ( x )``): counting white-space-separated tokens would count punctuation placement, not
words. That figure is reported too (``token_agreement``), as are inscriptis's own additions
(list bullets ``*`` and ``o``) in the words only it has.
changedetection.io runs in a throwaway virtual environment of its own (created, with
``pip install changedetection-io``, on first use) as a subprocess: its
``html_tools.include_filters`` then ``html_tools.html_to_text``, as its text processor calls
them for a CSS include filter.

    .venv/bin/python -m loadtest html [--pages /usr/share/doc/python3.11/html] [--limit N]
                                      [--ours-only] [--json PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import time
import venv
from collections import Counter
from pathlib import Path
from typing import Any

from callbacks.html_monitor import extract_text

__all__ = ["DEFAULT_PAGES", "SELECTOR", "compare", "configure", "report", "run"]

DEFAULT_PAGES = Path("/usr/share/doc/python3.11/html")
DEFAULT_VENV = Path(".cache/changedetection-io-venv")
SELECTOR = "div.body"
WORD = re.compile(r"\w+")
OUR_REPEATS = 3  # our side is fast enough to take the best of three passes

THEIR_SIDE = r"""
import json, sys, time
from changedetectionio import html_tools

out = {}
for path in json.load(sys.stdin):
    html = open(path, encoding="utf-8", errors="replace").read()
    started = time.process_time()
    block = html_tools.include_filters(include_filters=SELECTOR, html_content=html)
    text = html_tools.html_to_text(html_content=block)
    out[path] = {"cpu_s": time.process_time() - started, "text": text}
json.dump(out, sys.stdout)
"""


def changedetection_python(venv_dir: Path) -> Path:
    """The interpreter of a venv holding changedetection-io; made on first use."""
    python = venv_dir / "bin" / "python"
    probe = [str(python), "-c", "import changedetectionio.html_tools"]
    if python.exists() and subprocess.run(probe, capture_output=True, check=False).returncode == 0:
        return python
    venv.create(venv_dir, with_pip=True, clear=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "changedetection-io"], check=True
    )
    return python


def their_texts(python: Path, pages: list[Path]) -> dict[str, dict[str, Any]]:
    script = f"SELECTOR = {SELECTOR!r}\n" + THEIR_SIDE
    done = subprocess.run(
        [str(python), "-c", script],
        input=json.dumps([str(p) for p in pages]),
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, dict[str, Any]] = json.loads(done.stdout)
    return result


def our_texts(pages: list[Path]) -> tuple[dict[str, str], dict[str, float]]:
    sources = {str(p): p.read_text(encoding="utf-8", errors="replace") for p in pages}
    best: dict[str, float] = {}
    texts: dict[str, str] = {}
    for _ in range(OUR_REPEATS):
        for path, html in sources.items():
            started = time.process_time()
            texts[path] = extract_text(html, include=[SELECTOR])
            spent = time.process_time() - started
            best[path] = min(spent, best.get(path, spent))
    return texts, best


def agreement(ours: list[str], theirs: list[str]) -> tuple[int, int]:
    """(items in common, items in both lists together): 2 * common / total is the share."""
    a, b = Counter(ours), Counter(theirs)
    return sum((a & b).values()), sum(a.values()) + sum(b.values())


def compare(
    pages_dir: Path = DEFAULT_PAGES,
    *,
    limit: int | None = None,
    venv_dir: Path | None = DEFAULT_VENV,
) -> dict[str, Any]:
    """Both sides on the same pages; ``venv_dir=None``: ours only (no changedetection.io)."""
    pages = sorted(pages_dir.rglob("*.html"))[:limit]
    if not pages:
        raise SystemExit(f"no pages under {pages_dir}: apt-get install python3.11-doc")
    if venv_dir is None:
        ours, our_cpu = our_texts(pages)
        return {
            "scenario": "html",
            "pages": len(pages),
            "megabytes": round(sum(p.stat().st_size for p in pages) / 1e6, 1),
            "selector": SELECTOR,
            "ours_cpu_ms_per_page": round(sum(our_cpu.values()) / len(pages) * 1000, 3),
            "changedetection_cpu_ms_per_page": None,
            "cpu_ratio": None,
            "word_agreement": None,
            "words_extracted": sum(len(WORD.findall(text)) for text in ours.values()),
        }
    theirs = their_texts(changedetection_python(venv_dir), pages)
    ours, our_cpu = our_texts(pages)
    words = [0, 0]
    tokens = [0, 0]
    worst = 1.0
    only_theirs: Counter[str] = Counter()
    for path, text in ours.items():
        their_text = theirs[path]["text"]
        shared, total = agreement(WORD.findall(text), WORD.findall(their_text))
        words = [words[0] + shared, words[1] + total]
        if total:
            worst = min(worst, 2 * shared / total)
        shared, total = agreement(text.split(), their_text.split())
        tokens = [tokens[0] + shared, tokens[1] + total]
        only_theirs.update(Counter(WORD.findall(their_text)) - Counter(WORD.findall(text)))
    our_total = sum(our_cpu.values())
    their_total = sum(page["cpu_s"] for page in theirs.values())
    raw = [p.read_bytes() for p in pages]
    started = time.process_time()
    for body in raw:
        hashlib.blake2b(body, digest_size=16).hexdigest()
    hash_s = time.process_time() - started
    return {
        "scenario": "html",
        "pages": len(pages),
        "megabytes": round(sum(map(len, raw)) / 1e6, 1),
        "selector": SELECTOR,
        "ours_cpu_ms_per_page": round(our_total / len(pages) * 1000, 3),
        "changedetection_cpu_ms_per_page": round(their_total / len(pages) * 1000, 3),
        "cpu_ratio": round(their_total / our_total, 1),
        "word_agreement": round(2 * words[0] / words[1], 4) if words[1] else 1.0,
        "word_agreement_worst_page": round(worst, 4),
        "token_agreement": round(2 * tokens[0] / tokens[1], 4) if tokens[1] else 1.0,
        "words_only_changedetection_has": dict(only_theirs.most_common(5)),
        "unchanged_page_cpu_ms_per_page": round(hash_s / len(pages) * 1000, 4),
    }


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pages", type=Path, default=DEFAULT_PAGES, help="a tree of HTML pages")
    parser.add_argument(
        "--json-documents", type=int, default=100, help="botocore service models (0: none)"
    )
    parser.add_argument("--limit", type=int, default=None, help="the first N pages only")
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV, help="changedetection.io's")
    parser.add_argument(
        "--ours-only", action="store_true", help="skip changedetection.io (no venv needed)"
    )


def run(args: argparse.Namespace, progress: Any = None) -> dict[str, Any]:
    if progress is not None:
        progress(0, None, "extracting")
    venv_dir = None if args.ours_only else args.venv
    figures = compare(args.pages, limit=args.limit, venv_dir=venv_dir)
    if args.json_documents:
        from loadtest.html_json import compare_json

        if progress is not None:
            progress(0, None, "filtering JSON")
        python = None if venv_dir is None else changedetection_python(venv_dir)
        figures["json"] = compare_json(python, limit=args.json_documents)
    return figures


def report(figures: dict[str, Any], console: Any) -> None:
    from rich.table import Table

    table = Table(
        f"{figures['pages']} pages, {figures['megabytes']} MB", "ours", "changedetection.io"
    )
    theirs = figures["changedetection_cpu_ms_per_page"]
    table.add_row(
        "CPU per page",
        f"{figures['ours_cpu_ms_per_page']} ms",
        "-" if theirs is None else f"{theirs} ms ({figures['cpu_ratio']}x ours)",
    )
    if figures.get("word_agreement") is not None:
        table.add_row("words in agreement", f"{figures['word_agreement']:.2%}", "")
        table.add_row(
            "unchanged page (hash only)", f"{figures['unchanged_page_cpu_ms_per_page']} ms", ""
        )
    console.print(table)
    if json_figures := figures.get("json"):
        table = Table(
            f"JSON: {json_figures['documents']} documents, {json_figures['megabytes']} MB,"
            f" {json_figures['checks']} checks",
            "ours",
            "changedetection.io",
        )
        theirs = json_figures.get("changedetection_cpu_ms_per_check")
        table.add_row(
            "CPU per check",
            f"{json_figures['ours_cpu_ms_per_check']} ms",
            "-" if theirs is None else f"{theirs} ms ({json_figures['cpu_ratio']}x ours)",
        )
        if theirs is not None:
            table.add_row(
                "identical selected values",
                f"{json_figures['identical_values']} of {json_figures['checks']}",
                "",
            )
        console.print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    configure(parser)
    args = parser.parse_args(argv)
    print(json.dumps(run(args), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
