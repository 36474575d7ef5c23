"""The console's files as the local stack and `timer-service console` serve them."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from importlib import resources
from posixpath import dirname, normpath

import pytest

from timer_service_console import CONSOLE_POLICY, NO_FRAMING, asset

STATIC = resources.files("timer_service_console").joinpath("static")


def _static_files() -> list[str]:
    """Every file under static/, as a path relative to it."""
    found: list[str] = []
    pending = [("", STATIC)]
    while pending:
        prefix, folder = pending.pop()
        for entry in folder.iterdir():
            if entry.is_dir():
                pending.append((f"{prefix}{entry.name}/", entry))
            else:
                found.append(prefix + entry.name)
    return sorted(found)


def test_the_console_is_served_with_its_types_and_a_strict_policy() -> None:
    page = asset("/console/")
    assert page is not None and page.status == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert b'<script src="app.js" type="module">' in page.body
    script = asset("/console/app.js")
    assert script is not None and script.headers["Content-Type"].startswith("text/javascript")
    edit = asset("/console/views/edit.js")
    assert edit is not None and edit.headers["Content-Type"].startswith("text/javascript")
    assert b"/schedules/preview" in edit.body
    style = asset("/console/style.css")
    assert style is not None and style.headers["Content-Type"].startswith("text/css")


def test_the_bare_path_redirects_so_relative_links_resolve() -> None:
    moved = asset("/console")
    assert moved is not None and (moved.status, moved.headers["Location"]) == (301, "/console/")


@pytest.mark.parametrize(
    "path",
    [
        "/console/missing.js",
        "/console/../__init__.py",
        "/console/.hidden",
        "/console/a/b",
        # nested paths: only files under static/, by plain segments
        "/console/views/../../__init__.py",
        "/console/views/../app.js",
        "/console/views/./timers.js",
        "/console/views/%2e%2e/%2e%2e/__init__.py",
        "/console/..%2f__init__.py",
        "/console/views//timers.js",
        "/console/views/",
        "/console/views",
        "/console/views/.timers.js",
        "/console/views\\..\\..\\__init__.py",
        "/console/views/timers.js/",
        "/console/static/app.js",
        "/console/views/timers.js\x00.css",
        "/console//etc/passwd",
    ],
)
def test_anything_else_under_the_console_is_a_404_and_nothing_outside_it_is_served(
    path: str,
) -> None:
    found = asset(path)
    assert found is not None and found.status == 404
    assert found.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("path", ["/", "/periodic", "/consoles", "/docs"])
def test_paths_of_the_api_are_left_to_the_api(path: str) -> None:
    assert asset(path) is None


def test_every_module_is_served_as_javascript_and_every_import_resolves_to_one() -> None:
    # GIVEN the console's modules, found by walking static/ (not by a list of names)
    modules = [name for name in _static_files() if name.endswith(".js")]
    assert {"app.js", "views/timers.js", "views/edit.js"} <= set(modules)
    imports = re.compile(rb"""^\s*import\s[^;]*?from\s+["']([^"']+)["']""", re.M | re.S)
    for name in modules:
        served = asset(f"/console/{name}")
        # THEN each is JavaScript (browsers refuse a module of another type: HTML 8.1.3.4)
        assert served is not None and served.status == 200, name
        assert served.headers["Content-Type"] == "text/javascript; charset=utf-8", name
        lines = [line for line in served.body.splitlines() if len(line) > 0]
        assert len(lines) <= 250, f"{name}: {len(lines)} lines"
        # AND every relative import names a module served beside it
        for specifier in imports.findall(served.body):
            target = normpath(f"{dirname(name)}/{specifier.decode()}".lstrip("/"))
            assert specifier.startswith((b"./", b"../")), (name, specifier)
            found = asset(f"/console/{target}")
            assert found is not None and found.status == 200, (name, specifier)


class _Inline(HTMLParser):
    """What of a page a CSP without 'unsafe-inline' would block: inline scripts and styles."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        self.found += [f"{tag} {name}" for name in names if name.startswith("on")]
        if "style" in names or tag == "style":
            self.found.append(f"{tag} style")
        self._in_script = tag == "script"
        if tag == "script" and "src" not in names:
            self.found.append("inline script")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.found.append("script text")


def test_the_console_policy_allows_only_its_own_files_and_forbids_framing() -> None:
    # CSP 3: without 'unsafe-inline' in script-src, inline scripts and on* attributes are blocked
    directives = {
        part.split()[0]: part.split()[1:] for part in CONSOLE_POLICY.split(";") if part.strip()
    }
    assert directives["script-src"] == ["'self'"]
    assert directives["default-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"] and directives["base-uri"] == ["'none'"]
    assert not any("unsafe" in value for values in directives.values() for value in values)
    assert "frame-ancestors 'none'" in NO_FRAMING["Content-Security-Policy"]
    # the same policy on every file of the console, and a page it does not break
    for name in _static_files():
        served = asset(f"/console/{name}")
        assert served is not None and served.status == 200, name
        assert served.headers["Content-Security-Policy"] == CONSOLE_POLICY, name
        assert served.headers["X-Frame-Options"] == "DENY", name
    page = asset("/console/")
    assert page is not None
    parser = _Inline()
    parser.feed(page.body.decode())
    assert parser.found == []
