"""RFC 4733 telephone-events: packet payloads for sending, and a receiver that reports each digit once."""

from __future__ import annotations

from dataclasses import dataclass
import struct

from ..exceptions import MalformedPacketError  # noqa: TID252  # the library stays relocatable

DIGITS = "0123456789*#ABCD"
_EVENT_CODES = {digit: code for code, digit in enumerate(DIGITS)}
_PAYLOAD = struct.Struct("!BBH")
_END = 0x80
_MAX_DURATION = 0xFFFF
END_PACKET_REPEATS = 3
DEFAULT_VOLUME = 10  # -10 dBm0
_RECENT_EVENTS = 16
_EVENT_TIMEOUT_SECONDS = (
    1.0  # an event whose end packets were all lost is reported after this
)


@dataclass(frozen=True, slots=True)
class DtmfEvent:
    """A received DTMF digit and how long it was held."""

    digit: str
    duration_ms: int


@dataclass(frozen=True, slots=True)
class DtmfPacket:
    """One telephone-event payload to send, with its marker bit."""

    payload: bytes
    marker: bool
    end: bool


def validate_digits(digits: str) -> str:
    """Return the digits upper-cased; raise ValueError for anything but 0-9 * # A-D."""
    normalized = digits.upper()
    for digit in normalized:
        if digit not in _EVENT_CODES:
            raise ValueError(f"not a DTMF digit: {digit!r}")
    return normalized


def event_packets(
    digit: str,
    duration_ms: int,
    *,
    clock_rate: int = 8000,
    packet_ms: int = 20,
    volume: int = DEFAULT_VOLUME,
) -> list[DtmfPacket]:
    """Return one event's payloads: marked start, duration updates, then three end packets."""
    code = _EVENT_CODES[validate_digits(digit)]
    per_packet = clock_rate * packet_ms // 1000
    total = min(_MAX_DURATION, clock_rate * duration_ms // 1000)
    if total <= 0:
        raise ValueError("DTMF duration must be positive")
    packets: list[DtmfPacket] = []
    duration = 0
    while True:
        duration = min(total, duration + per_packet)
        if duration >= total:
            break
        packets.append(
            DtmfPacket(
                _PAYLOAD.pack(code, volume, duration), marker=not packets, end=False
            )
        )
    end_payload = _PAYLOAD.pack(code, _END | volume, total)
    packets.extend(
        DtmfPacket(end_payload, marker=not packets and repeat == 0, end=True)
        for repeat in range(END_PACKET_REPEATS)
    )
    return packets


class DtmfReceiver:
    """Turns telephone-event packets into one DtmfEvent per event, however many end packets come."""

    __slots__ = ("_clock_rate", "_current", "_recent")

    def __init__(self, clock_rate: int = 8000) -> None:
        """Start with no event in progress."""
        self._clock_rate = clock_rate
        # (timestamp, code, duration, last update time) of the event in progress.
        self._current: tuple[int, int, int, float] | None = None
        self._recent: list[int] = []  # timestamps of events already reported

    @property
    def has_pending(self) -> bool:
        """Tell whether an event is in progress (its end not seen yet)."""
        return self._current is not None

    def _finish(self, timestamp: int, code: int, duration: int) -> DtmfEvent:
        """Remember an event as reported and build it."""
        self._recent.append(timestamp)
        if len(self._recent) > _RECENT_EVENTS:
            del self._recent[0]
        return DtmfEvent(DIGITS[code], duration * 1000 // self._clock_rate)

    def feed(self, timestamp: int, payload: bytes, now: float) -> list[DtmfEvent]:
        """Account one telephone-event payload; return the events it completes (usually none)."""
        if len(payload) < 4:
            raise MalformedPacketError("telephone-event payload shorter than 4 bytes")
        code, flags, duration = _PAYLOAD.unpack_from(payload)
        if code >= len(DIGITS):
            return []  # other events (flash, tones) are valid but not DTMF digits
        if timestamp in self._recent:
            return []  # a retransmitted end packet, or an update arriving after the end
        events = []
        current = self._current
        if current is not None and current[0] != timestamp:
            # A new event began before the previous one's end packets arrived.
            events.append(self._finish(current[0], current[1], current[2]))
            current = None
        if flags & _END:
            self._current = None
            events.append(self._finish(timestamp, code, duration))
        else:
            longest = max(duration, current[2]) if current is not None else duration
            self._current = (timestamp, code, longest, now)
        return events

    def expire(self, now: float) -> list[DtmfEvent]:
        """Report an event whose end packets never came once it has been quiet for a while."""
        current = self._current
        if current is None or now - current[3] < _EVENT_TIMEOUT_SECONDS:
            return []
        self._current = None
        return [self._finish(current[0], current[1], current[2])]
