"""SSRF through Client ID Metadata Document fetches: only globally routable unicast addresses
are ever fetched, whatever IPv6 spelling hides a private IPv4 address (RFC 6890, RFC 6052,
RFC 3056, RFC 4291 §2.5.5)."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from consent.cimd import address_is_public
from tests.consent.helpers import logged_in, pkce_pair

REFUSED = [
    # IPv4 special-purpose space
    ("127.0.0.1", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local (cloud metadata)"),
    ("100.64.0.1", "shared address space (CGNAT)"),
    ("0.0.0.0", "this network"),
    ("192.0.0.1", "IETF protocol assignments"),
    ("198.18.0.1", "benchmarking"),
    ("192.0.2.1", "documentation"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "broadcast"),
    ("224.0.0.1", "multicast"),
    # IPv6 special-purpose space
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fe80::1", "link-local"),
    ("fe80::1%eth0", "link-local with zone"),
    ("fc00::1", "unique local"),
    ("fd12:3456::1", "unique local"),
    ("2001:db8::1", "documentation"),
    ("ff02::1", "multicast"),
    ("2001::1", "Teredo"),
    ("100::1", "discard-only"),
    # IPv6 forms of private IPv4, judged by the embedded address
    ("::ffff:169.254.169.254", "IPv4-mapped"),
    ("::ffff:127.0.0.1", "IPv4-mapped loopback"),
    ("::169.254.169.254", "IPv4-compatible"),
    ("::10.0.0.1", "IPv4-compatible private"),
    ("64:ff9b::a9fe:a9fe", "NAT64 well-known prefix -> 169.254.169.254"),
    ("64:ff9b::7f00:1", "NAT64 well-known prefix -> 127.0.0.1"),
    ("64:ff9b::a00:1", "NAT64 well-known prefix -> 10.0.0.1"),
    ("64:ff9b:1::a9fe:a9fe", "local-use NAT64 (RFC 8215)"),
    ("64:ff9b:1::808:808", "local-use NAT64, even to a public address"),
    ("2002:a9fe:a9fe::1", "6to4 -> 169.254.169.254"),
    ("2002:c0a8:101::1", "6to4 -> 192.168.1.1"),
    ("2002:7f00:1::", "6to4 -> 127.0.0.1"),
    ("not an address", "garbage"),
]

ALLOWED = [
    ("8.8.8.8", "public IPv4"),
    ("93.184.215.14", "public IPv4"),
    ("2606:4700:4700::1111", "public IPv6"),
    ("::ffff:8.8.8.8", "IPv4-mapped public"),
    ("64:ff9b::808:808", "NAT64 -> 8.8.8.8"),
    ("2002:808:808::1", "6to4 -> 8.8.8.8"),
]


@pytest.mark.parametrize(("address", "case"), REFUSED)
def test_non_global_addresses_are_refused(address, case):
    assert address_is_public(address) is False, case


@pytest.mark.parametrize(("address", "case"), ALLOWED)
def test_globally_routable_addresses_are_allowed(address, case):
    assert address_is_public(address) is True, case


@pytest.mark.parametrize(
    "host", ["[64:ff9b::a9fe:a9fe]", "[2002:a9fe:a9fe::1]", "[::ffff:a9fe:a9fe]", "[::a9fe:a9fe]"]
)
def test_authorize_never_fetches_a_document_from_an_ipv6_form_of_a_private_address(user, host):
    """The issue's report: `https://[64:ff9b::a9fe:a9fe]/...` was fetched while
    `https://169.254.169.254/...` was refused."""
    _, challenge = pkce_pair()
    client_id = f"https://{host}/client.json"
    page = logged_in(user).get(
        "/oauth/authorize?response_type=code&client_id="
        + quote(client_id, safe="")
        + "&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb&code_challenge_method=S256&code_challenge="
        + challenge
    )
    assert page.status_code == 400
    assert "Location" not in page
    assert b"non-public address" in page.content
