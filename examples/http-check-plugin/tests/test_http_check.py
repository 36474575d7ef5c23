"""The example plugin, tested as docs/job-types.md recommends: JobHarness + a local server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from timer_service_http_check import job_type

from timer_service.errors import InvalidRequestError
from timer_service.testing import JobHarness


class Site:
    """A local server answering every GET with ``status``."""

    def __init__(self) -> None:
        self.status = 200
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(site.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/health"


@pytest.fixture
def site() -> Iterator[Site]:
    server = Site()
    yield server
    server.server.shutdown()


def test_http_check_records_ok_then_the_status_change(site: Site) -> None:
    harness = JobHarness([job_type])
    harness.put("uptime", jobType="http_check", job={"url": site.url})
    first = harness.fire("uptime")
    assert first is not None and first.outcome == "ok"
    assert first.details["status"] == 200
    site.status = 503
    broken = harness.fire("uptime")
    assert broken is not None and broken.outcome == "error"
    assert broken.summary == "HTTP 503, expected 200"
    site.status = 200
    back = harness.fire("uptime")
    assert back is not None and back.outcome == "changed"


def test_http_check_config_is_validated_like_a_put() -> None:
    harness = JobHarness([job_type])
    with pytest.raises(InvalidRequestError) as raised:
        harness.put("bad", jobType="http_check", job={"url": "http://x.test/", "expectStatus": 9})
    assert raised.value.field == "job.expectStatus"


def test_http_check_default_history_keeps_only_changes_and_errors(site: Site) -> None:
    harness = JobHarness([job_type])
    harness.put("quiet", jobType="http_check", job={"url": site.url}, history=None)
    assert harness.fire("quiet") is None  # ok: not kept, no write
    site.status = 500
    failed = harness.fire("quiet")
    assert failed is not None and failed.outcome == "error"
