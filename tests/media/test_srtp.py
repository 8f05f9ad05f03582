"""Tests of SRTP protection with pylibsrtp."""

import pytest

from custom_components.cloud_sip_ua.cloudsipua.exceptions import (
    SrtpAuthError,
    SrtpError,
    SrtpReplayError,
)
from custom_components.cloud_sip_ua.cloudsipua.media.rtcp import build_rtcp
from custom_components.cloud_sip_ua.cloudsipua.media.rtp import build_rtp
from custom_components.cloud_sip_ua.cloudsipua.media.sdes import (
    SUITE_32,
    SUITE_80,
    generate_crypto,
)
from custom_components.cloud_sip_ua.cloudsipua.media.srtp import SrtpContext
from custom_components.cloud_sip_ua.cloudsipua.models import CryptoEntry


@pytest.mark.parametrize("suite", [SUITE_80, SUITE_32])
def test_protect_unprotect_tamper_replay(suite: str) -> None:
    """Independently keyed contexts interoperate; tampering and replays are rejected."""
    key_a, key_b = generate_crypto(1, suite), generate_crypto(1, suite)
    alice = SrtpContext(local=key_a, remote=key_b)
    bob = SrtpContext(local=key_b, remote=key_a)
    packet = build_rtp(8, 1, 160, 0x1234, b"\x55" * 160)
    protected = alice.protect(packet)
    assert protected != packet
    assert len(protected) == len(packet) + (10 if suite == SUITE_80 else 4)
    assert bob.unprotect(protected) == packet
    with pytest.raises(SrtpReplayError):
        bob.unprotect(protected)
    tampered = bytearray(alice.protect(build_rtp(8, 2, 320, 0x1234, b"\x55" * 160)))
    tampered[20] ^= 1
    with pytest.raises(SrtpAuthError):
        bob.unprotect(bytes(tampered))
    with pytest.raises(SrtpAuthError):
        bob.unprotect(bytes(2000))
    with pytest.raises(SrtpAuthError):
        alice.unprotect(alice.protect(build_rtp(8, 3, 480, 0x1234, b"")))  # wrong key


def test_rtcp_protection() -> None:
    """SRTCP round trip, replay and tamper detection."""
    key_a, key_b = generate_crypto(), generate_crypto()
    alice = SrtpContext(local=key_a, remote=key_b)
    bob = SrtpContext(local=key_b, remote=key_a)
    report = build_rtcp(0x42, "alice")
    protected = alice.protect_rtcp(report)
    assert bob.unprotect_rtcp(protected) == report
    with pytest.raises(SrtpReplayError):
        bob.unprotect_rtcp(protected)
    with pytest.raises(SrtpAuthError):
        bob.unprotect_rtcp(bytes(2000))
    with pytest.raises(SrtpAuthError):
        bob.unprotect_rtcp(report + bytes(14))


def test_mki_entries_are_refused() -> None:
    """Keys with an MKI cannot be used with pylibsrtp."""
    key = generate_crypto()
    with_mki = CryptoEntry(key.suite, key.tag, key.config + "|1:4")
    with pytest.raises(SrtpError):
        SrtpContext(local=with_mki, remote=key)
