"""SRTP/SRTCP protection (RFC 3711) with pylibsrtp, keyed from SDES crypto entries."""

from __future__ import annotations

from collections.abc import Callable

import pylibsrtp

from ..exceptions import SrtpAuthError, SrtpError, SrtpReplayError  # noqa: TID252  # the library stays relocatable
from ..models import CryptoEntry  # noqa: TID252  # the library stays relocatable
from .sdes import SUITE_32, parse_crypto
from .stats import MediaStats

_PROFILES = {
    SUITE_32: pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_32,
}
_DEFAULT_PROFILE = pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80
_REPLAY_ERRORS = frozenset(
    {"replay check failed (bad index)", "replay check failed (index too old)"}
)


def _session(entry: CryptoEntry, ssrc_type: int) -> pylibsrtp.Session:
    """Create a libsrtp session for one direction."""
    params = parse_crypto(entry)
    if params.mki is not None:
        raise SrtpError("crypto entries with an MKI are not supported")
    policy = pylibsrtp.Policy(
        key=params.key_and_salt,
        ssrc_type=ssrc_type,
        srtp_profile=_PROFILES.get(params.suite, _DEFAULT_PROFILE),
    )
    try:
        return pylibsrtp.Session(policy=policy)
    except (
        pylibsrtp.Error
    ) as err:  # pragma: no cover  # libsrtp rejects only impossible policies
        raise SrtpError(f"cannot create SRTP session: {err}") from err


def _raise_for(err: pylibsrtp.Error) -> SrtpError:
    """Map a libsrtp error to ours."""
    if str(err) in _REPLAY_ERRORS:
        return SrtpReplayError(str(err))
    return SrtpAuthError(str(err))


class SrtpContext:
    """Protects what we send with our key and unprotects what we receive with theirs."""

    __slots__ = ("_rx", "_tx")

    def __init__(self, *, local: CryptoEntry, remote: CryptoEntry) -> None:
        """Key both directions; raises CryptoParseError for unusable entries."""
        self._tx = _session(local, pylibsrtp.Policy.SSRC_ANY_OUTBOUND)
        self._rx = _session(remote, pylibsrtp.Policy.SSRC_ANY_INBOUND)

    def protect(self, packet: bytes) -> bytes:
        """Encrypt and authenticate an outgoing RTP packet."""
        return self._tx.protect(packet)

    def protect_rtcp(self, packet: bytes) -> bytes:
        """Encrypt and authenticate an outgoing RTCP packet."""
        return self._tx.protect_rtcp(packet)

    def unprotect(self, packet: bytes) -> bytes:
        """Verify and decrypt an incoming SRTP packet; SrtpAuthError or SrtpReplayError if bad."""
        try:
            return self._rx.unprotect(packet)
        except pylibsrtp.Error as err:
            raise _raise_for(err) from None
        except ValueError as err:  # longer than libsrtp's buffer
            raise SrtpAuthError(str(err)) from None

    def unprotect_rtcp(self, packet: bytes) -> bytes:
        """Verify and decrypt an incoming SRTCP packet."""
        try:
            return self._rx.unprotect_rtcp(packet)
        except pylibsrtp.Error as err:
            raise _raise_for(err) from None
        except ValueError as err:
            raise SrtpAuthError(str(err)) from None


def unprotect_counted(
    unprotect: Callable[[bytes], bytes], data: bytes, stats: MediaStats
) -> bytes | None:
    """Return the unprotected packet, or None after counting a replay or a failed check."""
    try:
        return unprotect(data)
    except SrtpReplayError:
        stats.srtp_replays += 1
    except SrtpError:
        stats.srtp_auth_failures += 1
    return None
