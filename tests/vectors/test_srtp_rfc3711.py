"""RFC 3711 appendix B through our SRTP path: key derivation, AES-CM keystream, HMAC tag.

The test keys our SrtpContext with the master key and salt of appendix B.3, protects a packet,
and checks the result byte for byte against the packet built independently from the session
keys the RFC lists (AES-CM from `cryptography`, HMAC-SHA1 from hashlib). B.2 first checks that
independent keystream against the RFC's own vector.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
import pytest

from custom_components.cloud_sip_ua.cloudsipua.media.srtp import SrtpContext
from custom_components.cloud_sip_ua.cloudsipua.models import CryptoEntry

# RFC 3711 B.2: AES-CM keystream.
B2_KEY = bytes.fromhex("2B7E151628AED2A6ABF7158809CF4F3C")
B2_IV = bytes.fromhex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000")
B2_KEYSTREAM = bytes.fromhex(
    "E03EAD0935C95E80E166B16DD92B4EB4"
    "D23513162B02D0F72A43A2FE4A5F97AB"
    "41E95B3BB0A2E8DD477901E4FCA894C0"
)
# RFC 3711 B.3: key derivation from a master key and salt (key derivation rate 0).
B3_MASTER_KEY = bytes.fromhex("E1F97A0D3E018BE0D64FA32C06DE4139")
B3_MASTER_SALT = bytes.fromhex("0EC675AD498AFEEBB6960B3AABE6")
B3_CIPHER_KEY = bytes.fromhex("C61E7A93744F39EE10734AFE3FF7A087")
B3_CIPHER_SALT = bytes.fromhex("30CBBC08863D8C85D49DB34A9AE1")
B3_AUTH_KEY = bytes.fromhex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4")

SUITES = {"AES_CM_128_HMAC_SHA1_80": 10, "AES_CM_128_HMAC_SHA1_32": 4}


def _aes_cm(key: bytes, iv: bytes, length: int) -> bytes:
    """Return `length` bytes of AES counter-mode keystream from a 128-bit IV."""
    encryptor = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
    return encryptor.update(bytes(length))


def test_b2_keystream() -> None:
    """The independent AES-CM gives the RFC's keystream (so it can judge ours)."""
    assert _aes_cm(B2_KEY, B2_IV, len(B2_KEYSTREAM)) == B2_KEYSTREAM


@pytest.mark.parametrize(
    ("label", "expected"), [(0, B3_CIPHER_KEY), (1, B3_AUTH_KEY), (2, B3_CIPHER_SALT)]
)
def test_b3_key_derivation(label: int, expected: bytes) -> None:
    """The RFC's PRF (AES-CM keyed with the master key) gives the listed session keys."""
    key_id = int.from_bytes(B3_MASTER_SALT, "big") ^ (label << 48)
    assert (
        _aes_cm(B3_MASTER_KEY, (key_id << 16).to_bytes(16, "big"), len(expected))
        == expected
    )


def _entry(suite: str) -> CryptoEntry:
    """Return the SDES entry carrying B.3's master key and salt."""
    inline = base64.b64encode(B3_MASTER_KEY + B3_MASTER_SALT).decode()
    return CryptoEntry(suite=suite, tag=1, config=f"inline:{inline}")


@pytest.mark.parametrize("suite", sorted(SUITES))
def test_our_srtp_protects_exactly_as_rfc3711_says(suite: str) -> None:
    """Protect RTP packets with B.3's master key: payload and tag match the RFC's session keys."""
    context = SrtpContext(local=_entry(suite), remote=_entry(suite))
    ssrc = 0xCAFEBABE
    payload = bytes(range(160))
    for seq in (0x1234, 0x1235, 0x1236):
        header = struct.pack("!BBHII", 0x80, 8, seq, 160 * seq, ssrc)
        protected = context.protect(header + payload)
        tag_length = SUITES[suite]
        assert protected[:12] == header
        ciphertext, tag = protected[12:-tag_length], protected[-tag_length:]
        # IV = (salt << 16) XOR (SSRC << 64) XOR (index << 16), index = ROC << 16 | seq, ROC 0.
        iv = (
            (int.from_bytes(B3_CIPHER_SALT, "big") << 16) ^ (ssrc << 64) ^ (seq << 16)
        ).to_bytes(16, "big")
        keystream = _aes_cm(B3_CIPHER_KEY, iv, len(payload))
        assert ciphertext == bytes(
            a ^ b for a, b in zip(payload, keystream, strict=True)
        )
        roc = struct.pack("!I", 0)
        expected_tag = hmac.new(B3_AUTH_KEY, header + ciphertext + roc, hashlib.sha1)
        assert tag == expected_tag.digest()[:tag_length]
        # And our receive side takes the same packet back.
        assert context.unprotect(protected) == header + payload
