"""SDES keys (RFC 4568) as the far end makes and reads them: `inline:<base64 key||salt>`."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
import secrets

from custom_components.cloud_sip_ua.cloudsipua.models import CryptoEntry

from .errors import CryptoKeyError

# Suite name -> libsrtp profile name (pylibsrtp.Policy attribute).
SUITES = {
    "AES_CM_128_HMAC_SHA1_80": "SRTP_PROFILE_AES128_CM_SHA1_80",
    "AES_CM_128_HMAC_SHA1_32": "SRTP_PROFILE_AES128_CM_SHA1_32",
}
KEY_AND_SALT = 30


def new_crypto(tag: int = 1, suite: str = "AES_CM_128_HMAC_SHA1_80") -> CryptoEntry:
    """Return a fresh entry with a random master key and salt."""
    inline = base64.b64encode(secrets.token_bytes(KEY_AND_SALT)).decode()
    return CryptoEntry(suite=suite, tag=tag, config=f"inline:{inline}")


def key_and_salt(entry: CryptoEntry) -> bytes:
    """Return the 30-byte master key || salt of an entry (lifetime and MKI ignored)."""
    if entry.suite.upper() not in SUITES:
        raise CryptoKeyError(f"unsupported suite {entry.suite!r}")
    method, _, rest = entry.config.strip().split(" ")[0].partition(":")
    if method.lower() != "inline":
        raise CryptoKeyError("key method is not inline")
    try:
        raw = base64.b64decode(rest.split("|")[0], validate=True)
    except (binascii.Error, ValueError) as err:
        raise CryptoKeyError("key is not base64") from err
    if len(raw) != KEY_AND_SALT:
        raise CryptoKeyError("key and salt must be 30 bytes")
    return raw


def answer(offered: Sequence[CryptoEntry]) -> tuple[CryptoEntry, CryptoEntry] | None:
    """Return (the offer taken, our answer with its tag and suite), or None if none fits."""
    for entry in offered:
        try:
            key_and_salt(entry)
        except CryptoKeyError:
            continue
        return entry, new_crypto(entry.tag, entry.suite.upper())
    return None
