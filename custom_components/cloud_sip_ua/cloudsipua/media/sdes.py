"""SDES crypto entries (RFC 4568): parse and generate `inline:` keys, pick and answer offers."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
import re
import secrets

from ..exceptions import CryptoParseError  # noqa: TID252  # the library stays relocatable
from ..models import CryptoEntry  # noqa: TID252  # the library stays relocatable

SUITE_80 = "AES_CM_128_HMAC_SHA1_80"
SUITE_32 = "AES_CM_128_HMAC_SHA1_32"
SUPPORTED_SUITES = (SUITE_80, SUITE_32)
MASTER_KEY_LENGTH = 16
MASTER_SALT_LENGTH = 14
_KEY_SALT_LENGTH = MASTER_KEY_LENGTH + MASTER_SALT_LENGTH
_LIFETIME = re.compile(r"^(?:2\^(\d{1,2})|(\d{1,20}))$")
_MKI = re.compile(r"^(\d{1,10}):(\d{1,3})$")
# Session parameters that do not change how packets are protected (RFC 4568 section 6.3).
_HARMLESS_SESSION_PARAMS = ("WSH=", "KDR=0")


@dataclass(frozen=True, slots=True)
class SrtpKeyParams:
    """The decoded key parameters of a crypto entry."""

    suite: str
    master_key: bytes
    master_salt: bytes
    lifetime: int | None
    mki: tuple[int, int] | None  # (value, length in bytes)

    @property
    def key_and_salt(self) -> bytes:
        """Return key || salt, the form libsrtp takes."""
        return self.master_key + self.master_salt


def parse_crypto(entry: CryptoEntry) -> SrtpKeyParams:
    """Decode a supported entry; raise CryptoParseError for anything we cannot use safely."""
    suite = entry.suite.strip().upper()
    if suite not in SUPPORTED_SUITES:
        raise CryptoParseError(f"unsupported SRTP suite {entry.suite!r}")
    fields = entry.config.strip().split()
    if not fields:
        raise CryptoParseError("empty key parameters")
    for param in fields[1:]:
        if not param.upper().startswith(_HARMLESS_SESSION_PARAMS):
            raise CryptoParseError(
                f"unsupported session parameter {param.split('=')[0]!r}"
            )
    # Several keys may be listed (separated by ';', each with an MKI); we use the first.
    key_param = fields[0].split(";")[0]
    method, _, info = key_param.partition(":")
    if method.lower() != "inline" or not info:
        raise CryptoParseError("key method is not inline")
    parts = info.split("|")
    if len(parts) > 3:
        raise CryptoParseError("too many key info parts")
    try:
        material = base64.b64decode(
            parts[0] + "=" * (-len(parts[0]) % 4), validate=True
        )
    except (binascii.Error, ValueError) as err:
        raise CryptoParseError("key is not valid base64") from err
    if len(material) != _KEY_SALT_LENGTH:
        raise CryptoParseError(f"key and salt must be {_KEY_SALT_LENGTH} bytes")
    lifetime = None
    mki = None
    for part in parts[1:]:
        if match := _MKI.match(part):
            mki = (int(match.group(1)), int(match.group(2)))
        elif match := _LIFETIME.match(part):
            lifetime = (
                1 << int(match.group(1)) if match.group(1) else int(match.group(2))
            )
        else:
            raise CryptoParseError("invalid lifetime or MKI")
    return SrtpKeyParams(
        suite, material[:MASTER_KEY_LENGTH], material[MASTER_KEY_LENGTH:], lifetime, mki
    )


def is_supported(entry: CryptoEntry) -> bool:
    """Tell whether we can use an entry: a known suite, an inline key, and no MKI."""
    try:
        params = parse_crypto(entry)
    except CryptoParseError:
        return False
    # pylibsrtp has no MKI support: an MKI in every packet would fail authentication.
    return params.mki is None


def generate_crypto(tag: int = 1, suite: str = SUITE_80) -> CryptoEntry:
    """Return a fresh entry with a random 16-byte key and 14-byte salt."""
    if suite not in SUPPORTED_SUITES:
        raise CryptoParseError(f"unsupported SRTP suite {suite!r}")
    material = secrets.token_bytes(_KEY_SALT_LENGTH)
    return CryptoEntry(
        suite, tag, "inline:" + base64.b64encode(material).decode("ascii")
    )


def select_crypto(offered: Sequence[CryptoEntry]) -> CryptoEntry | None:
    """Return the first offered entry we support, in the offerer's order of preference."""
    return next((entry for entry in offered if is_supported(entry)), None)


def answer_crypto(
    offered: Sequence[CryptoEntry],
) -> tuple[CryptoEntry, CryptoEntry] | None:
    """Pick an offered entry and return (their entry, our new entry with the same tag and suite)."""
    remote = select_crypto(offered)
    if remote is None:
        return None
    return remote, generate_crypto(remote.tag, parse_crypto(remote).suite)
