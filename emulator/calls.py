"""Calls as the emulator tracks them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from enum import StrEnum
import secrets
import time
from typing import TYPE_CHECKING, Any
import uuid

from custom_components.cloud_sip_ua.cloudsipua.models import Codec, CryptoEntry

if TYPE_CHECKING:
    from .remote_party import RemoteParty


class CallState(StrEnum):
    """Where a call is in its life."""

    CALLING = "calling"  # placed call: INVITE sent, no ringing yet
    RINGING = "ringing"
    CONNECTED = "connected"
    ENDED = "ended"
    FAILED = "failed"


class CallDirection(StrEnum):
    """Who started the call, seen from the device behind the service."""

    INCOMING = "incoming"
    OUTGOING = "outgoing"


FINAL_STATES = frozenset({CallState.ENDED, CallState.FAILED})


def new_sip_call_id() -> str:
    """Return a 19-digit numeric Call-ID: beyond 2**53, like the vendor's samples."""
    return str(10**18 + secrets.randbelow(9 * 10**18))


def sip_user(uri: str) -> str:
    """Return the user part of a SIP URI (or the text itself if it has none)."""
    rest = (
        uri.split(":", 1)[1]
        if uri.lower().startswith(("sip:", "sips:", "tel:"))
        else uri
    )
    return rest.split("@", 1)[0].split(";", 1)[0]


@dataclass(slots=True, eq=False)
class EmulatedCall:
    """One call through the emulated service and what happened to it."""

    direction: CallDirection
    state: CallState
    caller: str
    callee: str
    codec: Codec
    remote_party: RemoteParty
    callback_base_url: str
    quirks: bool
    telephone_event_payload_type: int | None = 101
    srtp: bool = False
    session_reference_id: str | None = None
    call_id: str = field(default_factory=new_sip_call_id)
    session_id: str = field(default_factory=lambda: str(uuid.uuid1()))
    trace_id: str = field(default_factory=lambda: str(uuid.uuid1()))
    connection_id: str = field(default_factory=lambda: str(uuid.uuid1()))
    caller_participant_id: str = field(default_factory=lambda: str(uuid.uuid1()))
    callee_participant_id: str = field(default_factory=lambda: str(uuid.uuid1()))
    created_at: float = field(default_factory=time.time)
    answered_at: float | None = None
    ended_at: float | None = None
    end_reason: str | None = None
    sip_status: int | None = None
    sip_reason: str | None = None
    ringback_sent: bool = False
    # The device's media address (receiveIp/receivePort) once it is known.
    device_rtp: tuple[str, int] | None = None
    # Crypto the emulator offered (incoming) or the device offered (placed calls).
    offered_crypto: list[CryptoEntry] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    # Callbacks of one call go out one after another, in order.
    callback_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    @property
    def ended(self) -> bool:
        """Return whether the call is over."""
        return self.state in FINAL_STATES

    def note(self, event: str) -> None:
        """Add a line to the call's timeline."""
        self.events.append(f"{time.time():.3f} {event}")

    def to_json(self) -> dict[str, Any]:
        """Return the call as JSON-ready values for the control API."""
        party = self.remote_party
        return {
            "call_id": self.call_id,
            "direction": str(self.direction),
            "state": str(self.state),
            "caller": self.caller,
            "callee": self.callee,
            "codec": str(self.codec),
            "srtp": self.srtp,
            "session_reference_id": self.session_reference_id,
            "session_id": self.session_id,
            "trace_id": self.trace_id,
            "created_at": self.created_at,
            "answered_at": self.answered_at,
            "ended_at": self.ended_at,
            "end_reason": self.end_reason,
            "sip_status": self.sip_status,
            "sip_reason": self.sip_reason,
            "ringback_sent": self.ringback_sent,
            "device_rtp": list(self.device_rtp) if self.device_rtp else None,
            "remote_rtp": [party.host, party.port],
            "dtmf_received": list(party.dtmf_received),
            "events": list(self.events),
        }
