"""The remote media address policy: no media reflected into private networks or multicast."""

import pytest

from custom_components.cloud_sip_ua.cloudsipua.media.addresses import (
    BAD_PORT,
    MULTICAST,
    NOT_AN_IP,
    PRIVATE,
    UNSPECIFIED,
    RemoteAddressPolicy,
    normalize_host,
    parse_ip,
    private_remotes_allowed,
)

PUBLIC = RemoteAddressPolicy(allow_private=False)
LAN = RemoteAddressPolicy(allow_private=True)


@pytest.mark.parametrize(
    ("host", "port", "public", "lan"),
    [
        ("203.0.113.5", 40000, PRIVATE, None),  # documentation range: not global
        ("8.8.8.8", 40000, None, None),
        ("2001:4860:4860::8888", 40000, None, None),
        ("10.0.0.7", 40000, PRIVATE, None),
        ("192.168.1.20", 40000, PRIVATE, None),
        ("172.16.0.1", 40000, PRIVATE, None),
        ("127.0.0.1", 40000, PRIVATE, None),
        ("::1", 40000, PRIVATE, None),
        ("169.254.1.1", 40000, PRIVATE, None),
        ("100.64.0.1", 40000, PRIVATE, None),  # carrier-grade NAT
        ("fd00::1", 40000, PRIVATE, None),
        ("fe80::1%eth0", 40000, PRIVATE, None),
        ("::ffff:10.0.0.7", 40000, PRIVATE, None),
        ("::ffff:8.8.8.8", 40000, None, None),
        ("224.0.0.1", 40000, MULTICAST, MULTICAST),
        ("239.255.255.250", 1900, MULTICAST, MULTICAST),
        ("ff02::1", 40000, MULTICAST, MULTICAST),
        ("255.255.255.255", 40000, MULTICAST, MULTICAST),
        ("0.0.0.0", 40000, UNSPECIFIED, UNSPECIFIED),
        ("::", 40000, UNSPECIFIED, UNSPECIFIED),
        ("media.example.com", 40000, NOT_AN_IP, NOT_AN_IP),
        ("", 40000, NOT_AN_IP, NOT_AN_IP),
        ("8.8.8.8", 0, BAD_PORT, BAD_PORT),
        ("8.8.8.8", 65536, BAD_PORT, BAD_PORT),
    ],
)
def test_refusals(host: str, port: int, public: str | None, lan: str | None) -> None:
    """A public session refuses non-public remotes; nobody sends to multicast or non-IPs."""
    assert PUBLIC.refusal(host, port) == public
    assert LAN.refusal(host, port) == lan


@pytest.mark.parametrize(
    ("media_address", "allowed"),
    [
        (None, True),
        ("0.0.0.0", True),
        ("ha.example.com", True),
        ("192.168.1.2", True),
        ("127.0.0.1", True),
        ("8.8.4.4", False),
        ("2001:4860:4860::8844", False),
        ("::ffff:8.8.4.4", False),
    ],
)
def test_default_follows_our_media_address(
    media_address: str | None, allowed: bool
) -> None:
    """Private remotes are fine for a private or unknown media address, not a public one."""
    assert private_remotes_allowed(media_address) is allowed


def test_spellings() -> None:
    """Socket and SDP spellings of one address normalise alike; names stay as they are."""
    assert normalize_host("::ffff:192.0.2.1") == "192.0.2.1"
    assert normalize_host("2001:DB8:0:0::1") == "2001:db8::1"
    assert normalize_host("media.example.com") == "media.example.com"
    assert parse_ip("nonsense") is None
