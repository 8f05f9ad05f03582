"""Errors raised by the media stack."""

from ..exceptions import CloudSipUaError  # noqa: TID252  # the library stays relocatable


class MediaError(CloudSipUaError):
    """Base of every media stack error."""


class NoFreePortError(MediaError):
    """No even RTP port (with RTCP on port + 1) is free in the configured range."""


class MalformedPacketError(MediaError):
    """A datagram is not a valid RTP or RTCP packet."""


class SubscriptionClosedError(MediaError):
    """The audio subscription was closed and holds no more frames."""


class SrtpError(MediaError):
    """SRTP setup or processing failed."""


class SrtpAuthError(SrtpError):
    """An SRTP/SRTCP packet failed authentication (or could not be decrypted)."""


class SrtpReplayError(SrtpError):
    """An SRTP/SRTCP packet was a replay or too old for the replay window."""


class CryptoParseError(SrtpError):
    """An SDES crypto entry is malformed or uses an unsupported suite or parameter."""
