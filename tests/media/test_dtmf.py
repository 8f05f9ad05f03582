"""Tests of RFC 4733 telephone-event sending and receiving."""

import struct

import pytest

from custom_components.cloud_sip_ua.cloudsipua.exceptions import MalformedPacketError
from custom_components.cloud_sip_ua.cloudsipua.media.dtmf import (
    DtmfEvent,
    DtmfReceiver,
    event_packets,
    validate_digits,
)


def fields(payload: bytes) -> tuple[int, bool, int]:
    """Return (event, end flag, duration) of a payload."""
    event, flags, duration = struct.unpack("!BBH", payload)
    return event, bool(flags & 0x80), duration


def test_event_packets_structure() -> None:
    """Marker on the first packet, growing durations, three identical end packets."""
    packets = event_packets("#", 100)
    assert [packet.marker for packet in packets] == [True] + [False] * 6
    assert [fields(p.payload) for p in packets[:4]] == [
        (11, False, d) for d in (160, 320, 480, 640)
    ]
    assert [fields(p.payload) for p in packets[4:]] == [(11, True, 800)] * 3
    assert all(packet.end for packet in packets[4:])


def test_short_event_marks_first_end_packet() -> None:
    """An event of one packet's length is only end packets, the first marked."""
    packets = event_packets("a", 20)
    assert [(p.marker, p.end) for p in packets] == [
        (True, True),
        (False, True),
        (False, True),
    ]
    assert fields(packets[0].payload) == (12, True, 160)


def test_duration_is_capped_and_must_be_positive() -> None:
    """Durations beyond 16 bits are capped; zero is rejected."""
    assert fields(event_packets("1", 10_000)[-1].payload)[2] == 0xFFFF
    with pytest.raises(ValueError):
        event_packets("1", 0)


def test_validate_digits() -> None:
    """0-9 * # A-D are accepted (any case), everything else rejected."""
    assert validate_digits("12*#abcd") == "12*#ABCD"
    with pytest.raises(ValueError):
        validate_digits("12E")


def payload(event: int, end: bool, duration: int) -> bytes:
    """Build a telephone-event payload."""
    return struct.pack("!BBH", event, (0x80 if end else 0) | 10, duration)


def test_receiver_reports_once_despite_end_retransmissions() -> None:
    """Updates and three end packets give exactly one event with its duration."""
    rx = DtmfReceiver()
    events: list[DtmfEvent] = []
    for duration in (160, 320, 480):
        events += rx.feed(1000, payload(5, False, duration), 0.0)
    assert rx.has_pending
    for _ in range(3):
        events += rx.feed(1000, payload(5, True, 800), 0.0)
    events += rx.feed(1000, payload(5, False, 480), 0.0)  # a late update after the end
    assert events == [DtmfEvent("5", 100)]
    assert not rx.has_pending


def test_receiver_lost_end_packets() -> None:
    """A new event flushes the previous one; a lone event expires after a quiet second."""
    rx = DtmfReceiver()
    assert rx.feed(0, payload(1, False, 320), 0.0) == []
    assert (
        rx.feed(0, payload(1, False, 160), 0.0) == []
    )  # reordered update keeps the longest
    assert rx.feed(2000, payload(2, False, 160), 0.1) == [DtmfEvent("1", 40)]
    assert rx.expire(0.5) == []
    assert rx.expire(1.2) == [DtmfEvent("2", 20)]
    assert rx.expire(5.0) == []


def test_receiver_ignores_non_digit_events_and_rejects_short() -> None:
    """Events above 15 are not digits; payloads under 4 bytes are malformed."""
    rx = DtmfReceiver()
    assert rx.feed(0, payload(16, True, 160), 0.0) == []
    with pytest.raises(MalformedPacketError):
        rx.feed(0, b"\x01", 0.0)


def test_receiver_remembers_a_bounded_history() -> None:
    """Old event timestamps are forgotten after sixteen more events."""
    rx = DtmfReceiver()
    for index in range(20):
        assert len(rx.feed(index * 1000, payload(0, True, 160), 0.0)) == 1
    assert len(rx.feed(0, payload(0, True, 160), 0.0)) == 1
