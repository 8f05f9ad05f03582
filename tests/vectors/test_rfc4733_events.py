"""RFC 4733 telephone-event payloads, byte for byte, as section 2.3 and its examples lay them out.

Payload: event (8 bits), E (1), R (1), volume (6), duration (16, in timestamp units). Events
0-9 are the digits, 10 is *, 11 is #, 12-15 are A-D (section 3.2). The sender marks the first
packet, keeps one timestamp per event, and repeats the final packet three times (2.5.1.4).
"""

from __future__ import annotations

import pytest

from custom_components.cloud_sip_ua.cloudsipua.media.dtmf import (
    DtmfEvent,
    DtmfReceiver,
    event_packets,
)


def test_digit_1_for_100_ms() -> None:
    """Digit 1, 100 ms at 8 kHz, -10 dBm0: 4 updates of +160, then 3 end packets of 800."""
    packets = event_packets("1", 100)
    assert [p.payload.hex() for p in packets] == [
        "010a00a0",  # event 1, volume 10, duration 160
        "010a0140",  # 320
        "010a01e0",  # 480
        "010a0280",  # 640
        "018a0320",  # E bit, duration 800
        "018a0320",
        "018a0320",
    ]
    assert [p.marker for p in packets] == [
        True,
        False,
        False,
        False,
        False,
        False,
        False,
    ]
    assert [p.end for p in packets] == [False] * 4 + [True] * 3


@pytest.mark.parametrize(
    ("digit", "event"),
    [("0", 0), ("9", 9), ("*", 10), ("#", 11), ("A", 12), ("D", 15)],
)
def test_event_codes(digit: str, event: int) -> None:
    """The event code of each key is the one RFC 4733 section 3.2 assigns."""
    assert event_packets(digit, 40)[0].payload[0] == event


def test_a_short_event_is_one_marked_end_packet_sent_three_times() -> None:
    """An event no longer than one packet is its end packet only, the first one marked."""
    packets = event_packets("#", 20)
    assert [p.payload.hex() for p in packets] == ["0b8a00a0"] * 3
    assert [p.marker for p in packets] == [True, False, False]


def test_receiver_reports_the_rfc_sequence_once() -> None:
    """Updates, then three end packets (one timestamp): one event of 100 ms."""
    receiver = DtmfReceiver()
    payloads = [
        bytes.fromhex(h)
        for h in ("050a00a0", "050a0140", "058a0320", "058a0320", "058a0320")
    ]
    events = [e for p in payloads for e in receiver.feed(1000, p, 0.0)]
    assert events == [DtmfEvent("5", 100)]
    # Flash (event 16) is a valid event but not a DTMF digit.
    assert receiver.feed(2000, bytes.fromhex("108a0320"), 0.0) == []
