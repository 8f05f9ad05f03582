"""RTP media stack: G.711, GSM 06.10, RFC 4733 DTMF, SDES-SRTP, jitter buffer, symmetric latching."""

from ..exceptions import (  # noqa: TID252  # the library stays relocatable
    CryptoParseError,
    MalformedPacketError,
    MediaError,
    NoFreePortError,
    SrtpAuthError,
    SrtpError,
    SrtpReplayError,
    SubscriptionClosedError,
)
from .dtmf import DtmfEvent
from .sdes import SUPPORTED_SUITES, answer_crypto, generate_crypto, select_crypto
from .session import AudioSubscription, MediaSession
from .stats import MediaStats

__all__ = [
    "SUPPORTED_SUITES",
    "AudioSubscription",
    "CryptoParseError",
    "DtmfEvent",
    "MalformedPacketError",
    "MediaError",
    "MediaSession",
    "MediaStats",
    "NoFreePortError",
    "SrtpAuthError",
    "SrtpError",
    "SrtpReplayError",
    "SubscriptionClosedError",
    "answer_crypto",
    "generate_crypto",
    "select_crypto",
]
