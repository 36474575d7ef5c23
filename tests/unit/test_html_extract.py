"""extract_text: the text a change monitor compares, on small pages and on real ones."""

from __future__ import annotations

import re
import sys

import pytest

from callbacks.html_monitor import extract_text
from callbacks.html_monitor.extract import (
    _BREAK,
    IgnorePatternError,
    check_pattern,
    check_selector,
    decode_html,
    extract,
    lines,
)
from tests.pages import DATA

PAGE = """<html><head><title>Shop</title><style>p{color:red}</style></head><body>
<nav>Home | Shop</nav>
<div id="price"><p>Price:   <b>10</b>
   EUR</p><script>track()</script><noscript>enable js</noscript></div>
<div class="ad"><p>Buy now!</p></div>
<p>Updated at 12:00</p>
<svg><text>chart</text></svg><template><p>hidden</p></template><iframe>frame</iframe>
</body></html>"""


def test_extract_text_drops_non_text_elements_and_normalises_whitespace() -> None:
    assert extract_text(PAGE) == "Home | Shop\nPrice: 10 EUR\nBuy now!\nUpdated at 12:00"


def test_extract_text_applies_exclude_then_include() -> None:
    assert extract_text(PAGE, include=["#price", "div"], exclude=[".ad"]) == "Price: 10 EUR"


def test_extract_text_leaves_out_lines_matching_ignore_text() -> None:
    text = extract_text(PAGE, ignore_text=[r"^Updated at \d+:\d+$", "(?i)buy NOW"])
    assert text == "Home | Shop\nPrice: 10 EUR"


def test_extract_text_breaks_lines_at_blocks_but_not_inside_inline_elements() -> None:
    html = "<ul><li>one <a href='#'>link</a> here</li><li>two<br>three</li></ul><p>a<i>b</i>c</p>"
    assert extract_text(html) == "one link here\ntwo\nthree\nabc"


def test_extract_text_reports_nested_matches_once() -> None:
    html = "<div class='x'>outer <div class='x'>inner</div></div>"
    assert extract_text(html, include=[".x"]) == "outer\ninner"


def test_extract_text_takes_bytes_in_the_declared_charset() -> None:
    html = '<meta charset="iso-8859-1"><p>Caf\xe9 cr\xe8me</p>'.encode("latin-1")
    assert extract_text(html) == "Café crème"


def test_decode_html_prefers_a_bom_then_the_header_charset() -> None:
    assert decode_html(b"\xef\xbb\xbf<p>\xc3\xa9</p>") == "<p>é</p>"
    assert decode_html("<p>é</p>".encode("cp1252"), "text/html; charset=windows-1252") == "<p>é</p>"
    assert decode_html(b"<p>\xff</p>", "text/html; charset=nonsense") == "<p>\ufffd</p>"


def test_extract_counts_what_include_matched() -> None:
    assert extract(PAGE, include=["#missing"]).matched == 0
    assert extract(PAGE, include=["#price"]).matched == 1


def test_whitespace_only_and_outside_selector_edits_do_not_change_the_text() -> None:
    page = (DATA / "functools.html").read_text()
    before = extract_text(page, include=["div.body"])
    reflowed = page.replace("<p>", "<p>\n   ").replace("</p>", "  </p>\n\n")
    assert extract_text(reflowed, include=["div.body"]) == before
    footer_edit = page.replace('<div class="footer">', '<div class="footer">Edited footer')
    assert footer_edit != page
    assert extract_text(footer_edit, include=["div.body"]) == before


def test_real_page_text_starts_with_its_heading_and_has_no_script() -> None:
    text = extract_text((DATA / "json.html").read_bytes(), include=["div.body"])
    assert text.startswith("json — JSON encoder and decoder")
    assert "json.dumps" in text
    assert "function(" not in text and "<" not in text.split("\n")[0]


def test_ignore_text_with_catastrophic_backtracking_fails_in_bounded_time() -> None:
    line = "a" * 40 + "!"
    with pytest.raises(IgnorePatternError, match="simplify"):
        extract_text(f"<p>{line}</p>" * 3, ignore_text=[r"^(a|aa)+$"])


@pytest.mark.parametrize("selector", ["div..x", "#", "p >", ""])
def test_check_selector_rejects_what_is_not_css(selector: str) -> None:
    with pytest.raises(ValueError, match="not a CSS selector"):
        check_selector(selector)


def test_check_pattern_rejects_what_does_not_compile() -> None:
    with pytest.raises(ValueError, match="not a regular expression"):
        check_pattern("(unbalanced")
    assert check_pattern(r"^\d+$") == r"^\d+$"


def test_a_line_is_normalised_as_pythons_re_normalises_it_for_every_code_point() -> None:
    # The outside truth is CPython's own `re`: each piece between block breaks becomes what
    # re.sub(r"\s+", " ", piece).strip() makes of it, for every code point (U+00A0, U+2028,
    # U+3000, U+001C-U+001F and U+0085 are white space; U+200B and U+FEFF are not).
    text = "".join(f"a{chr(p)}{chr(p)}b{_BREAK}" for p in range(sys.maxunicode + 1))
    expected = [
        line for piece in text.split(_BREAK) if (line := re.sub(r"\s+", " ", piece).strip())
    ]
    assert lines(text) == expected
    assert lines(f" x {_BREAK}\u00a0{_BREAK}\u2028y\u3000z ") == ["x", "y z"]
