"""Text of an HTML page as a change monitor compares it: parsed once with selectolax (Lexbor).

Scripts, styles and other non-text elements are dropped, ``exclude`` selectors are removed,
``include`` selectors pick what remains (default: the body), block elements become line
breaks, white space is normalised within each line, empty lines go, and lines that match an
``ignore_text`` regex are left out.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from selectolax.lexbor import LexborNode

__all__ = [
    "MAX_DEPTH",
    "Extracted",
    "IgnorePatternError",
    "NestingTooDeepError",
    "check_pattern",
    "check_selector",
    "decode_html",
    "extract",
    "extract_text",
    "lines",
    "nesting_depth",
]

DROPPED_TAGS = ["script", "style", "noscript", "svg", "template", "iframe"]
BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "caption",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "legend",
        "li",
        "main",
        "nav",
        "ol",
        "option",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
    ]
)
IGNORE_BUDGET_S = 1.0  # all ignoreText matching of one page; hostile patterns fail the check
_BREAK = "\ue000"  # a private-use character marks block boundaries while the text is joined
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)


class IgnorePatternError(ValueError):
    """An ignoreText pattern took longer than the page's matching budget."""


class NestingTooDeepError(ValueError):
    """The page nests elements deeper than MAX_DEPTH: parsing it would take too long."""


# Parsing is quadratic in nesting depth (each start tag checks the stack of open elements):
# 10,000 levels parse in 0.1 s, 100,000 in 11 s. A page with fewer tags than DEPTH_SCAN_TAGS
# cannot nest deeper than that and is parsed at once; a larger one is scanned first.
MAX_DEPTH = 10_000
DEPTH_SCAN_TAGS = 20_000

_NOT_NESTING = frozenset(
    # void elements, and elements whose start tag closes an open one of their kind
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
        "p",
        "li",
        "dt",
        "dd",
        "tr",
        "td",
        "th",
        "option",
        "optgroup",
        "rp",
        "rt",
        "tbody",
        "thead",
        "tfoot",
        "colgroup",
        "caption",
    ]
)
# A start or end tag of an element that nests (void and self-closing kinds are not counted):
# its attributes are skipped greedily, so the scan is one pass of the regex engine.
_NESTING_TAG = re.compile(
    r"<(/?)(?!(?:" + "|".join(sorted(_NOT_NESTING)) + r")[\s/>])([A-Za-z][A-Za-z0-9-]*)"
    r"(?:[^>]*[^/>])?(/?)>",
    re.IGNORECASE,
)


def nesting_depth(html: str) -> int:
    """How deep the page's elements nest, estimated in linear time from its tags."""
    if html.count("<") < DEPTH_SCAN_TAGS:
        return 0  # too few tags to matter: not scanned
    open_by_name: dict[str, int] = {}
    opened = open_by_name.get
    depth = deepest = 0
    for closing, tag, self_closing in _NESTING_TAG.findall(html):
        if self_closing:
            continue
        name = tag.lower()
        if closing:
            count = opened(name, 0)
            if count:
                open_by_name[name] = count - 1
                depth -= 1
        else:
            open_by_name[name] = opened(name, 0) + 1
            depth += 1
            deepest = max(deepest, depth)
    return deepest


@dataclass(frozen=True)
class Extracted:
    """The normalised text and how many elements the ``include`` selectors matched."""

    text: str
    matched: int


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """Bytes to text: a BOM, else the header's charset, else a ``<meta charset>``, else UTF-8."""
    if body.startswith(codecs.BOM_UTF8):
        return body[3:].decode("utf-8", errors="replace")
    candidates: list[str] = []
    if content_type and (match := _HEADER_CHARSET.search(content_type)):
        candidates.append(match.group(1))
    if match := _META_CHARSET.search(body[:4096]):
        candidates.append(match.group(1).decode("ascii"))
    for charset in candidates:
        try:
            codecs.lookup(charset)
        except LookupError:
            continue
        return body.decode(charset, errors="replace")
    return body.decode("utf-8", errors="replace")


def check_selector(selector: str) -> str:
    """``selector`` if Lexbor accepts it as CSS; ValueError otherwise."""
    # selectolax and regex are imported where they are used: the API and the callbacks load
    # this job type at a cold start, and only timers that watch a page need either.
    from selectolax.lexbor import LexborHTMLParser

    try:
        LexborHTMLParser("<p></p>").css(selector)
    except Exception as exc:  # selectolax raises a bare Exception subclass for bad CSS
        raise ValueError(f"{selector!r} is not a CSS selector: {exc}") from exc
    return selector


def check_pattern(pattern: str) -> str:
    """``pattern`` if it compiles as a regular expression; ValueError otherwise."""
    import regex

    try:
        regex.compile(pattern)
    except regex.error as exc:
        raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from exc
    return pattern


def extract(
    html: str | bytes,
    *,
    include: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
    ignore_text: Sequence[str] | None = None,
) -> Extracted:
    """The page's normalised text and the number of elements ``include`` matched."""
    from selectolax.lexbor import LexborHTMLParser

    if isinstance(html, bytes):
        html = decode_html(html)
    depth = nesting_depth(html)
    if depth > MAX_DEPTH:
        raise NestingTooDeepError(f"the page nests elements {depth} deep; at most {MAX_DEPTH}")
    tree = LexborHTMLParser(html)
    tree.strip_tags(DROPPED_TAGS)
    root = tree.root
    if root is None:
        return Extracted("", 0)
    for selector in exclude or ():
        for node in root.css(selector):
            node.decompose()
    if include:
        nodes = _outermost([node for selector in include for node in root.css(selector)])
    else:
        nodes = [tree.body or root]
    parts = []
    for node in nodes:
        # One walk of the node's elements finds its blocks (a CSS query of the 43 kinds took
        # 2.7 times as long). The walk starts at the node itself, which keeps its place.
        walk = node.traverse()
        next(walk)
        for block in [element for element in walk if element.tag in BLOCK_TAGS]:
            block.insert_before(_BREAK)
            block.insert_after(_BREAK)
        parts.append(node.text(deep=True, separator="", strip=False))
    kept = lines(_BREAK.join(parts))
    if ignore_text:
        kept = _without_ignored(kept, ignore_text)
    return Extracted("\n".join(kept), len(nodes) if include else 0)


def extract_text(
    html: str | bytes,
    *,
    include: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
    ignore_text: Sequence[str] | None = None,
) -> str:
    """The text a change monitor compares, one line per block, normalised.

    >>> extract_text("<p>Price:  <b>10</b> EUR</p><script>x()</script><p>Updated 12:00</p>",
    ...              ignore_text=["^Updated"])
    'Price: 10 EUR'
    """
    return extract(html, include=include, exclude=exclude, ignore_text=ignore_text).text


def lines(text: str) -> list[str]:
    r"""The non-empty lines between block breaks, white space normalised to one space and
    stripped: what ``re.sub(r"\s+", " ", piece).strip()`` gives, 3 times faster (str.split()
    and re's \s know the same white space, and the break is none of it)."""
    return [line for piece in text.split(_BREAK) if (line := " ".join(piece.split()))]


def _outermost(nodes: list[LexborNode]) -> list[LexborNode]:
    """Matched elements in first-match order, without those inside another match."""
    chosen = {node.mem_id for node in nodes}
    result: list[LexborNode] = []
    seen: set[int] = set()
    for node in nodes:
        if node.mem_id in seen:
            continue
        seen.add(node.mem_id)
        parent = node.parent
        nested = False
        while parent is not None:
            if parent.mem_id in chosen:
                nested = True
                break
            parent = parent.parent
        if not nested:
            result.append(node)
    return result


def _without_ignored(lines: list[str], patterns: Sequence[str]) -> list[str]:
    from callbacks.html_monitor.text_rules import Budget, PatternTimeout, without_matching

    try:
        return without_matching(lines, patterns, Budget(IGNORE_BUDGET_S), "ignoreText")
    except PatternTimeout as exc:
        raise IgnorePatternError(str(exc)) from exc
