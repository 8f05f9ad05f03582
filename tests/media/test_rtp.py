"""Tests of RTP packet parsing and building."""

import struct

import pytest

from custom_components.cloud_sip_ua.cloudsipua.exceptions import MalformedPacketError
from custom_components.cloud_sip_ua.cloudsipua.media.rtp import (
    build_rtp,
    is_rtcp_packet,
    parse_rtp,
    seq_delta,
    ts_delta,
)


def test_round_trip_with_marker() -> None:
    """A built packet parses back to the same fields."""
    packet = parse_rtp(build_rtp(8, 65535, 0xFFFFFFFF, 0xDEADBEEF, b"abc", marker=True))
    assert packet.payload_type == 8
    assert packet.marker
    assert packet.sequence == 65535
    assert packet.timestamp == 0xFFFFFFFF
    assert packet.ssrc == 0xDEADBEEF
    assert packet.payload == b"abc"
    assert packet.csrcs == ()


def test_csrc_list_and_padding() -> None:
    """CSRCs are read and padding is stripped."""
    data = build_rtp(0, 1, 2, 3, b"payload", csrcs=(10, 20), padding=4)
    packet = parse_rtp(data)
    assert packet.csrcs == (10, 20)
    assert packet.payload == b"payload"
    assert not packet.marker


def test_header_extension_is_skipped() -> None:
    """A header extension never drops the packet; the payload after it is returned."""
    base = bytearray(build_rtp(0, 1, 2, 3, b""))
    base[0] |= 0x10
    extension = struct.pack("!HH", 0xBEDE, 2) + bytes(8)
    packet = parse_rtp(bytes(base) + extension + b"voice")
    assert packet.payload == b"voice"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x80\x00", "short"),
        (bytes([0x40]) + bytes(11), "version 1"),
        (bytes([0x8F]) + bytes(11), "CSRC past end"),
        (bytes([0x90]) + bytes(11), "extension header past end"),
        (
            bytes([0x90]) + bytes(11) + struct.pack("!HH", 0, 5),
            "extension body past end",
        ),
        (bytes([0xA0]) + bytes(11) + b"\x00", "zero padding"),
        (bytes([0xA0]) + bytes(11) + b"\x09", "padding past header"),
    ],
)
def test_malformed(data: bytes, reason: str) -> None:
    """Invalid packets raise MalformedPacketError."""
    with pytest.raises(MalformedPacketError):
        parse_rtp(data)


@pytest.mark.parametrize(
    ("newer", "older", "expected"),
    [(0, 65535, 1), (65535, 0, -1), (10, 5, 5), (5, 10, -5), (32768, 0, -32768)],
)
def test_seq_delta_wraps(newer: int, older: int, expected: int) -> None:
    """Sequence distance is signed across the 16-bit wrap."""
    assert seq_delta(newer, older) == expected


def test_ts_delta_wraps() -> None:
    """Timestamp distance is signed across the 32-bit wrap."""
    assert ts_delta(100, 0xFFFFFF00) == 356
    assert ts_delta(0xFFFFFF00, 100) == -356


def test_is_rtcp_packet() -> None:
    """RTCP payload types 200-204 are recognised."""
    assert is_rtcp_packet(bytes([0x80, 200]) + bytes(6))
    assert not is_rtcp_packet(build_rtp(0, 1, 2, 3, b""))
    assert not is_rtcp_packet(b"\x80\xc8")
