"""The SSRF guard: only http(s) to public addresses, whatever the name resolves to."""

from __future__ import annotations

import pytest

from timer_service.egress import BlockedTargetError, check_address, resolve_target


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # instance metadata
        "100.64.0.1",  # CGNAT
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fd00::1",
        "fe80::1",
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::ffff:169.254.169.254",
        "2002:7f00:1::1",  # 6to4 around 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 around 169.254.169.254
        # found by an outside review; Python 3.11's ipaddress calls these global
        "::127.0.0.1",  # IPv4-compatible (RFC 4291 2.5.5.1)
        "::7f00:1",
        "::a9fe:a9fe",
        "64:ff9b:1::7f00:1",  # local-use NAT64 (RFC 8215)
        "fec0::1",  # site-local (RFC 3879)
    ],
)
def test_non_global_addresses_are_blocked(address: str) -> None:
    with pytest.raises(BlockedTargetError):
        check_address(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700::6810:84e5"])
def test_global_addresses_pass(address: str) -> None:
    check_address(address)


def test_name_with_one_private_address_among_public_ones_is_blocked() -> None:
    def resolver(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "10.0.0.5"]

    with pytest.raises(BlockedTargetError):
        resolve_target("https://hooks.example.com/x", resolver=resolver)


def test_public_name_resolves_with_its_port() -> None:
    def resolver(host: str, port: int) -> list[str]:
        assert (host, port) == ("hooks.example.com", 8443)
        return ["93.184.215.14"]

    assert resolve_target("https://hooks.example.com:8443/x", resolver=resolver) == (
        "hooks.example.com",
        8443,
        ["93.184.215.14"],
    )


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "gopher://x"])
def test_other_schemes_are_blocked(url: str) -> None:
    with pytest.raises(BlockedTargetError):
        resolve_target(url, resolver=lambda host, port: ["93.184.215.14"])


def test_private_targets_pass_when_allowed() -> None:
    host, _, addresses = resolve_target(
        "http://localhost:8080/x", allow_private=True, resolver=lambda h, p: ["127.0.0.1"]
    )
    assert (host, addresses) == ("localhost", ["127.0.0.1"])
