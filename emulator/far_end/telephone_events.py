"""RFC 4733 telephone events at the far end: payloads to send, and digits from those received."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
import struct

DIGITS = "0123456789*#ABCD"
_EVENT = struct.Struct("!BBH")
_END = 0x80
_VOLUME = 10
END_REPEATS = 3


@dataclass(frozen=True, slots=True)
class EventPacket:
    """One payload and whether it starts the event (RTP marker bit)."""

    payload: bytes
    marker: bool


def event_packets(
    digit: str, duration_ms: int, clock_rate: int = 8000
) -> list[EventPacket]:
    """Return one digit as updates every 20 ms, then the end packet three times."""
    code = DIGITS.index(digit.upper())
    total = min(0xFFFF, clock_rate * duration_ms // 1000)
    step = clock_rate // 50
    packets = [
        EventPacket(_EVENT.pack(code, _VOLUME, length), marker=index == 0)
        for index, length in enumerate(range(step, total, step))
    ]
    end = _EVENT.pack(code, _END | _VOLUME, total)
    packets += [
        EventPacket(end, marker=not packets and n == 0) for n in range(END_REPEATS)
    ]
    return packets


class DigitDetector:
    """Reports each event once, on its first end packet (events are told apart by timestamp)."""

    def __init__(self) -> None:
        """Remember the last few events reported."""
        self._done: deque[int] = deque(maxlen=16)

    def feed(self, timestamp: int, payload: bytes) -> str | None:
        """Return the digit an end packet completes, else None."""
        if len(payload) < _EVENT.size:
            return None
        code, flags, _ = _EVENT.unpack_from(payload)
        if not flags & _END or code >= len(DIGITS) or timestamp in self._done:
            return None
        self._done.append(timestamp)
        return DIGITS[code]
