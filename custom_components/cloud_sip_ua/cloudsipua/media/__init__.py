"""RTP media stack: G.711, RFC 4733 DTMF, SDES-SRTP, jitter buffer and symmetric latching."""

from .dtmf import DtmfEvent
from .errors import (
    CodecUnavailableError,
    CryptoParseError,
    MalformedPacketError,
    MediaError,
    NoFreePortError,
    SrtpAuthError,
    SrtpError,
    SrtpReplayError,
    SubscriptionClosedError,
)
from .sdes import SUPPORTED_SUITES, answer_crypto, generate_crypto, select_crypto
from .session import AudioSubscription, MediaSession
from .stats import MediaStats

__all__ = [
    "SUPPORTED_SUITES",
    "AudioSubscription",
    "CodecUnavailableError",
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
