"""html_monitor's outbound guard: every hop of a check is resolved and checked, in memory."""

from __future__ import annotations

import httpx
import pytest

from timer_service.testing import JobHarness

PUBLIC = "93.184.216.34"
NAMES = {
    "public.test": [PUBLIC],
    "metadata.test": ["169.254.169.254"],
    "intranet.test": ["10.1.2.3"],
    "mixed.test": [PUBLIC, "192.168.0.10"],
    "cgnat.test": ["100.64.0.1"],
}


def resolve(host: str, port: int) -> list[str]:
    if host in NAMES:
        return NAMES[host]
    return [host]  # an address literal


class Network:
    """The only server on this fake network is the public one; it redirects on request."""

    def __init__(self) -> None:
        self.hosts: list[str] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.hosts.append(request.url.host)
        if request.url.path.startswith("/to/"):
            return httpx.Response(302, headers={"Location": "http://" + request.url.path[4:]})
        return httpx.Response(200, html="<p>public page</p>")


@pytest.fixture
def network() -> Network:
    return Network()


def harness(network: Network) -> JobHarness:
    client = httpx.Client(transport=httpx.MockTransport(network.handler))
    return JobHarness(allow_private_targets=False, resolver=resolve, http_client=client)


@pytest.mark.parametrize(
    ("url", "refused"),
    [
        ("http://127.0.0.1/", "127.0.0.1"),
        ("http://[::1]:8080/", "::1"),
        ("http://[::ffff:127.0.0.1]/", "::ffff:7f00:1"),
        ("http://10.0.0.8/", "10.0.0.8"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("http://metadata.test/latest/", "169.254.169.254"),
        ("http://intranet.test/", "10.1.2.3"),
        ("http://mixed.test/", "192.168.0.10"),
        ("http://cgnat.test/", "100.64.0.1"),
        ("http://public.test/to/127.0.0.1/admin", "127.0.0.1"),
        ("http://public.test/to/metadata.test/latest", "169.254.169.254"),
        ("http://public.test/to/public.test/to/intranet.test/", "10.1.2.3"),
    ],
)
def test_check_refuses_private_targets_directly_by_name_and_through_redirects(
    network: Network, url: str, refused: str
) -> None:
    checks = harness(network)
    checks.put("watch", jobType="html_monitor", job={"url": url})
    run = checks.fire("watch")
    assert run is not None
    assert (run.outcome, run.summary) == ("error", f"address {refused} is not a public address")
    assert set(network.hosts) <= {PUBLIC}  # nothing was sent anywhere else


def test_public_page_is_fetched_through_the_checked_address(network: Network) -> None:
    checks = harness(network)
    checks.put("watch", jobType="html_monitor", job={"url": "http://public.test/to/public.test/"})
    run = checks.fire("watch")
    assert run is not None and run.outcome == "ok", run
    assert network.hosts == [PUBLIC, PUBLIC]


def test_too_many_redirects_fail_the_check(network: Network) -> None:
    checks = harness(network)
    url = "http://public.test" + "/to/public.test" * 7 + "/"
    checks.put("loop", jobType="html_monitor", job={"url": url})
    run = checks.fire("loop")
    assert run is not None
    assert (run.outcome, run.summary) == ("error", "more than 5 redirects")


def test_a_page_over_max_bytes_fails_the_check(network: Network) -> None:
    big = httpx.Client(
        transport=httpx.MockTransport(lambda r: httpx.Response(200, content=b"x" * 5000))
    )
    checks = JobHarness(allow_private_targets=False, resolver=resolve, http_client=big)
    checks.put("big", jobType="html_monitor", job={"url": "http://public.test/", "maxBytes": 4096})
    run = checks.fire("big")
    assert run is not None
    assert run.summary == "the response is over 4096 bytes (decoded)"


def test_credentials_do_not_follow_a_redirect_to_another_origin() -> None:
    # Found by an outside review: a webhook's Authorization went on to the host redirected to.
    seen: list[tuple[str, dict[str, str]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.headers["host"], dict(request.headers)))
        if request.url.path == "/start":
            return httpx.Response(307, headers={"Location": "https://elsewhere.test/landed"})
        if request.url.path == "/same":
            return httpx.Response(307, headers={"Location": "/start"})
        return httpx.Response(200)

    names = {"hooks.test": [PUBLIC], "elsewhere.test": [PUBLIC]}
    from timer_service.egress import Egress

    egress = Egress(
        resolver=lambda host, port: names[host],
        client=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    secret = {"Authorization": "Bearer s3cret", "Cookie": "session=1", "X-Custom": "kept"}
    egress.request("POST", "https://hooks.test/same", headers=secret, content=b"{}")
    hosts = [host for host, _ in seen]
    assert hosts == ["hooks.test", "hooks.test", "elsewhere.test"]
    assert seen[1][1]["authorization"] == "Bearer s3cret"  # the same origin keeps it
    assert "authorization" not in seen[2][1] and "cookie" not in seen[2][1]
    assert seen[2][1]["x-custom"] == "kept"
