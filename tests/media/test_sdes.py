"""Tests of SDES crypto entries (RFC 4568)."""

import base64

import pytest

from custom_components.cloud_sip_ua.cloudsipua.exceptions import CryptoParseError
from custom_components.cloud_sip_ua.cloudsipua.media.sdes import (
    SUITE_32,
    SUITE_80,
    answer_crypto,
    generate_crypto,
    is_supported,
    parse_crypto,
    select_crypto,
)
from custom_components.cloud_sip_ua.cloudsipua.models import CryptoEntry

KEY = base64.b64encode(bytes(range(30))).decode()


def test_parse_with_lifetime_and_mki() -> None:
    """Key, salt, lifetime (power of two or decimal) and MKI are decoded."""
    params = parse_crypto(CryptoEntry(SUITE_80, 1, f"inline:{KEY}|2^20|1:4"))
    assert params.master_key == bytes(range(16))
    assert params.master_salt == bytes(range(16, 30))
    assert params.key_and_salt == bytes(range(30))
    assert params.lifetime == 1 << 20
    assert params.mki == (1, 4)
    assert (
        parse_crypto(CryptoEntry(SUITE_32.lower(), 1, f"inline:{KEY}|1000")).lifetime
        == 1000
    )


def test_unpadded_base64_and_harmless_session_params() -> None:
    """Missing base64 padding and WSH/KDR=0 session parameters are accepted."""
    entry = CryptoEntry(SUITE_80, 1, f"inline:{KEY.rstrip('=')} WSH=64 KDR=0")
    assert parse_crypto(entry).mki is None
    assert is_supported(entry)


@pytest.mark.parametrize(
    ("suite", "config"),
    [
        ("F8_128_HMAC_SHA1_80", f"inline:{KEY}"),
        (SUITE_80, ""),
        (SUITE_80, f"inline:{KEY} UNENCRYPTED_SRTP"),
        (SUITE_80, f"uri:{KEY}"),
        (SUITE_80, "inline:"),
        (SUITE_80, f"inline:{KEY}|2^20|1:4|x"),
        (SUITE_80, "inline:!!!!"),
        (SUITE_80, "inline:" + base64.b64encode(bytes(20)).decode()),
        (SUITE_80, f"inline:{KEY}|forever"),
    ],
)
def test_invalid_entries(suite: str, config: str) -> None:
    """Unusable entries raise CryptoParseError and are not supported."""
    entry = CryptoEntry(suite, 1, config)
    with pytest.raises(CryptoParseError):
        parse_crypto(entry)
    assert not is_supported(entry)


def test_generate_is_fresh_and_parsable() -> None:
    """Generated entries carry 30 random bytes and the requested tag and suite."""
    first, second = generate_crypto(), generate_crypto(3, SUITE_32)
    assert first.config != second.config
    assert (second.tag, second.suite) == (3, SUITE_32)
    assert len(parse_crypto(first).key_and_salt) == 30
    with pytest.raises(CryptoParseError):
        generate_crypto(1, "NULL")


def test_select_and_answer() -> None:
    """The first supported offer wins (MKI offers are skipped); the answer echoes tag and suite."""
    offers = [
        CryptoEntry("AEAD_AES_256_GCM", 1, f"inline:{KEY}"),
        CryptoEntry(SUITE_80, 2, f"inline:{KEY}|2^31|1:1"),
        CryptoEntry(SUITE_32, 3, f"inline:{KEY}"),
    ]
    assert select_crypto(offers) == offers[2]
    answer = answer_crypto(offers)
    assert answer is not None
    remote, local = answer
    assert remote == offers[2]
    assert (local.tag, local.suite) == (3, SUITE_32)
    assert local.config != remote.config
    assert answer_crypto(offers[:2]) is None
