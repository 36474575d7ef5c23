"""The console's files as the local stack and `timer-service console` serve them."""

from __future__ import annotations

import pytest

from timer_service_console import asset


def test_the_console_is_served_with_its_types_and_a_strict_policy() -> None:
    page = asset("/console/")
    assert page is not None and page.status == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert b'<script src="app.js" type="module">' in page.body
    script = asset("/console/app.js")
    assert script is not None and script.headers["Content-Type"].startswith("text/javascript")
    assert b"/schedules/preview" in script.body
    style = asset("/console/style.css")
    assert style is not None and style.headers["Content-Type"].startswith("text/css")


def test_the_bare_path_redirects_so_relative_links_resolve() -> None:
    moved = asset("/console")
    assert moved is not None and (moved.status, moved.headers["Location"]) == (301, "/console/")


@pytest.mark.parametrize(
    "path", ["/console/missing.js", "/console/../__init__.py", "/console/.hidden", "/console/a/b"]
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
