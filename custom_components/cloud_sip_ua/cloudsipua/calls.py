"""Calls as the call manager tracks them, and the events it reports about them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from .models import Codec, CryptoEntry

if TYPE_CHECKING:
    from .media.session import MediaSession
    from .media.stats import MediaStats


class CallState(StrEnum):
    """Where a call is in its life."""

    IDLE = "idle"
    RINGING = "ringing"
    DIALING = "dialing"
    REMOTE_RINGING = "remote_ringing"
    CONNECTED = "connected"
    ENDING = "ending"


class CallDirection(StrEnum):
    """Who started the call."""

    INCOMING = "incoming"
    OUTGOING = "outgoing"


class CallEventType(StrEnum):
    """What the call manager tells its listeners."""

    RING = "ring"
    STATE = "state"
    ANSWERED = "answered"
    HUNG_UP = "hung_up"
    FAILED = "failed"
    REMOTE_RINGING = "remote_ringing"
    DTMF = "dtmf"
    # The cloud never acknowledged our hang-up after every retry: the call may still be up there.
    HANG_UP_FAILED = "hang_up_failed"


class EndReason(StrEnum):
    """Why a call ended."""

    LOCAL_HANGUP = "local_hangup"
    REMOTE_HANGUP = "remote_hangup"
    REJECTED = "rejected"
    BUSY = "busy"
    RING_TIMEOUT = "ring_timeout"
    NO_MEDIA = "no_media"
    FAILED = "failed"
    SRTP_REQUIRED = "srtp_required"
    # We offered SRTP on a placed call and callAnswered did not confirm a key.
    SRTP_NOT_CONFIRMED = "srtp_not_confirmed"
    # Applying a callback to the call failed (for example a codec we cannot use).
    ERROR = "error"
    SHUTDOWN = "shutdown"


@dataclass(slots=True)
class Call:
    """One call: its identity, state and media; `reply_id` is a secret and never shown."""

    call_id: str
    direction: CallDirection
    state: CallState
    codec: Codec
    # What we asked the remote side to send us (answer and place requests); `codec` is what we
    # send, which is what the remote side said it wants to receive.
    receive_codec: Codec | None = None
    remote_party: str | None = None
    destination: str | None = None
    started_at: float = 0.0
    answered_at: float | None = None
    ended_at: float | None = None
    end_reason: EndReason | None = None
    sip_status: int | None = None
    sip_reason: str | None = None
    srtp: bool = False
    remote_rtp: tuple[str, int] | None = None
    telephone_event_payload_type: int | None = None
    reply_id: str | None = field(default=None, repr=False)
    site_base_url: str | None = field(default=None, repr=False)
    platform_call_id: str | None = field(default=None, repr=False)
    offered_crypto: tuple[CryptoEntry, ...] = field(default=(), repr=False)
    local_crypto: CryptoEntry | None = field(default=None, repr=False)
    media: MediaSession | None = field(default=None, repr=False)
    hangup_requested: bool = False
    # answerremotecalljwt was sent: only then may a callAnswered connect an incoming call.
    answer_sent: bool = False

    @property
    def active(self) -> bool:
        """Return True until the call has ended."""
        return self.state is not CallState.IDLE

    def snapshot(self) -> CallSnapshot:
        """Return the call's public facts as they are now, with its media's counters."""
        return CallSnapshot(
            call_id=self.call_id,
            direction=self.direction,
            state=self.state,
            codec=self.codec,
            remote_party=self.remote_party,
            destination=self.destination,
            srtp=self.srtp,
            started_at=self.started_at,
            answered_at=self.answered_at,
            ended_at=self.ended_at,
            end_reason=self.end_reason,
            sip_status=self.sip_status,
            sip_reason=self.sip_reason,
            stats=self.media.stats if self.media is not None else None,
        )

    def as_public_dict(self) -> dict[str, str | int | float | bool | None]:
        """Return the call's non-secret facts, for entity attributes and diagnostics."""
        return self.snapshot().as_public_dict()


@dataclass(frozen=True, slots=True, kw_only=True)
class CallSnapshot:
    """A call's public facts at one moment: no secrets, no media session to act on."""

    call_id: str
    direction: CallDirection
    state: CallState
    codec: Codec
    remote_party: str | None = None
    destination: str | None = None
    srtp: bool = False
    started_at: float = 0.0
    answered_at: float | None = None
    ended_at: float | None = None
    end_reason: EndReason | None = None
    sip_status: int | None = None
    sip_reason: str | None = None
    # The media's RTP counters when the snapshot was taken (a copy), None without media.
    stats: MediaStats | None = None

    def as_public_dict(self) -> dict[str, str | int | float | bool | None]:
        """Return the facts as plain values, for entity attributes and diagnostics."""
        return {
            "call_id": self.call_id,
            "direction": self.direction.value,
            "state": self.state.value,
            "remote_party": self.remote_party,
            "destination": self.destination,
            "codec": self.codec.value,
            "srtp": self.srtp,
            "started_at": self.started_at,
            "answered_at": self.answered_at,
            "ended_at": self.ended_at,
            "end_reason": self.end_reason.value if self.end_reason else None,
            "sip_status": self.sip_status,
            "sip_reason": self.sip_reason,
        }


@dataclass(frozen=True, slots=True)
class CallEvent:
    """Something that happened to a call."""

    type: CallEventType
    call: Call
    digit: str | None = None
    duration_ms: int | None = None
