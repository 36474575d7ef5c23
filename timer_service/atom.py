"""A feed as an Atom document (RFC 4287), written with the standard library's ElementTree.

Every text goes through ElementTree, which escapes ``&``, ``<`` and ``>`` in text (so ``]]>``
and ``<script>`` in a diff stay text) and quotes in attributes; what XML 1.0 cannot hold at all,
escaped or not (C0 controls other than tab, LF and CR, lone surrogates, U+FFFE and U+FFFF), is
replaced by U+FFFD first (:func:`xml_text`). An entry's content is XHTML: its summary in a
``<p>`` and its diff in a ``<pre>``, so readers show the diff's lines as they are.

    >>> xml_text("a\\x00b\\x1bc")
    'a\\ufffdb\\ufffdc'
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from timer_service.feed_service import Feed, FeedEntry
from timer_service.runs import format_utc_ms

__all__ = ["ATOM_CONTENT_TYPE", "MAX_ENTRY_DIFF_CHARS", "render", "xml_text"]

ATOM_CONTENT_TYPE = "application/atom+xml; charset=utf-8"
ATOM_NS = "http://www.w3.org/2005/Atom"
XHTML_NS = "http://www.w3.org/1999/xhtml"
MAX_ENTRY_DIFF_CHARS = 20_000  # 50 entries stay far below a Lambda answer's 6 MB, escaped
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
AUTHOR = "timer-service"


def xml_text(text: str) -> str:
    """``text`` with each character XML 1.0 cannot hold replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def _add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: xml_text(v) for k, v in attributes.items()})
    if text is not None:
        element.text = xml_text(text)
    return element


def _diff(entry: FeedEntry) -> str | None:
    diff = entry.run.diff
    if diff is None or len(diff) <= MAX_ENTRY_DIFF_CHARS:
        return diff
    return (
        diff[:MAX_ENTRY_DIFF_CHARS]
        + f"\n… cut at {MAX_ENTRY_DIFF_CHARS} characters of {len(diff)}:"
        f" GET /periodic/{entry.timer_id}/runs has it whole\n"
    )


def _entry(feed: ET.Element, entry: FeedEntry) -> None:
    run = entry.run
    summary = run.summary or "changed"
    element = _add(feed, "entry")
    _add(element, "id", entry.entry_id)
    _add(element, "title", f"{entry.timer_id}: {summary}")
    _add(element, "updated", format_utc_ms(run.finished_s))
    _add(element, "published", format_utc_ms(run.started_s))
    if entry.link is not None:
        _add(element, "link", rel="alternate", href=entry.link)
    _add(element, "category", term=entry.timer_id)
    _add(element, "summary", summary)
    content = _add(element, "content", type="xhtml")
    body = _add(content, "div", xmlns=XHTML_NS)
    _add(body, "p", summary)
    diff = _diff(entry)
    if diff is not None:
        _add(body, "pre", diff)


def render(feed: Feed, *, self_url: str) -> str:
    """The feed as an Atom document, served at ``self_url``."""
    root = ET.Element("feed", {"xmlns": ATOM_NS})
    _add(root, "id", feed.feed_id)
    _add(root, "title", feed.title)
    _add(root, "updated", format_utc_ms(feed.updated_s))
    _add(_add(root, "author"), "name", AUTHOR)
    _add(root, "generator", AUTHOR)
    _add(root, "link", rel="self", type="application/atom+xml", href=self_url)
    if feed.link is not None:
        _add(root, "link", rel="alternate", href=feed.link)
    for entry in feed.entries:
        _entry(root, entry)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode")
