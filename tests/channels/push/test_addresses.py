"""The address rule of Web Push (service/channels/push/addresses.py), including the IPv6 forms that
Python 3.11's `is_global` wrongly calls global."""

from __future__ import annotations

import ipaddress

import pytest

from service.channels.push import addresses

REFUSED = {
    "IPv4-compatible loopback": "::127.0.0.1",
    "IPv4-compatible private": "::10.0.0.1",
    "IPv4-mapped metadata": "::ffff:169.254.169.254",
    "IPv4-mapped loopback": "::ffff:127.0.0.1",
    "SIIT translated private": "::ffff:0:192.168.1.1",
    "NAT64 metadata": "64:ff9b::a9fe:a9fe",
    "NAT64 loopback": "64:ff9b::7f00:1",
    "NAT64 local-use private": "64:ff9b:1::10.0.0.1",
    "6to4 private": "2002:c0a8:0101::1",
    "6to4 loopback": "2002:7f00:1::1",
    "site-local": "fec0::1",
    "Teredo": "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    "unique local": "fd00::1",
    "link-local": "fe80::1",
    "unspecified": "::",
    "private IPv4": "10.1.2.3",
    "metadata IPv4": "169.254.169.254",
    "CGNAT": "100.64.0.1",
}


@pytest.mark.parametrize("text", REFUSED.values(), ids=REFUSED.keys())
def test_refused(text: str) -> None:
    for allow_loopback in (False, True):
        assert not addresses.allowed_text(text, allow_loopback=allow_loopback)


@pytest.mark.parametrize(
    "text", ["::127.0.0.1", "64:ff9b::a9fe:a9fe", "2002:c0a8:0101::1", "fec0::1"]
)
def test_python_calls_these_global(text: str) -> None:
    # Why the module exists: if this ever fails, Python fixed it (the rule still holds).
    assert ipaddress.ip_address(text).is_global


ALLOWED = {
    "public IPv4": "142.250.74.106",
    "public IPv6": "2a00:1450:4001:80b::200a",
    "NAT64 of a public address": "64:ff9b::8.8.8.8",
    "6to4 of a public address": "2002:0808:0808::1",
}


@pytest.mark.parametrize("text", ALLOWED.values(), ids=ALLOWED.keys())
def test_allowed(text: str) -> None:
    assert addresses.allowed_text(text, allow_loopback=False)


def test_loopback_only_with_the_test_setting() -> None:
    for text in ("127.0.0.1", "127.3.4.5", "::1"):
        assert not addresses.allowed_text(text, allow_loopback=False)
        assert addresses.allowed_text(text, allow_loopback=True)


def test_not_an_address() -> None:
    assert not addresses.allowed_text("example.com", allow_loopback=True)
