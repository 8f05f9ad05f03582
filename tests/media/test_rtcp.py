"""Tests of RTCP building and parsing."""

import struct

import pytest

from custom_components.cloud_sip_ua.cloudsipua.exceptions import MalformedPacketError
from custom_components.cloud_sip_ua.cloudsipua.media.rtcp import (
    ReportBlock,
    SenderInfo,
    build_rtcp,
    ntp_from_unix,
    ntp_middle,
    parse_rtcp,
    round_trip_seconds,
)

BLOCK = ReportBlock(0x1234, 25, -3, 70000, 40, 0xABCD0000, 65536)


def test_sender_report_round_trip() -> None:
    """SR with sender info, a block with negative cumulative loss, SDES and BYE."""
    info = SenderInfo(ntp_from_unix(1_700_000_000.5), 160, 10, 1600)
    compound = parse_rtcp(
        build_rtcp(0x99, "me@host", sender_info=info, blocks=(BLOCK,), bye=True)
    )
    (report,) = compound.reports
    assert report.ssrc == 0x99
    assert report.sender_info == info
    assert report.blocks == (BLOCK,)
    assert compound.bye_ssrcs == (0x99,)


def test_receiver_report_without_blocks() -> None:
    """An RR with no report blocks parses to an empty block list."""
    compound = parse_rtcp(build_rtcp(7, "x"))
    assert compound.reports[0].sender_info is None
    assert compound.reports[0].blocks == ()
    assert compound.bye_ssrcs == ()


def test_unknown_packet_types_are_skipped() -> None:
    """APP (204) and feedback packets are skipped."""
    app = struct.pack("!BBHI4s", 0x80, 204, 2, 1, b"name")
    compound = parse_rtcp(app + build_rtcp(7, "x"))
    assert len(compound.reports) == 1


@pytest.mark.parametrize(
    "data",
    [
        b"\x80\xc9\x00",
        bytes([0x40, 201, 0, 1]) + bytes(4),
        bytes([0x80, 201, 0, 9]) + bytes(4),
        bytes([0x80, 201, 0, 0]) + bytes([0x80, 201, 0, 0]),
        bytes([0x80, 200, 0, 1]) + bytes(4),
        bytes([0x81, 201, 0, 1]) + bytes(4),
        bytes([0x82, 203, 0, 1]) + bytes(4),
        build_rtcp(7, "x") + b"\x80\xc9",
    ],
)
def test_malformed(data: bytes) -> None:
    """Truncated or inconsistent packets raise MalformedPacketError."""
    with pytest.raises(MalformedPacketError):
        parse_rtcp(data)


def test_round_trip_time() -> None:
    """RTT = arrival - LSR - DLSR, in seconds; None without an SR or when negative."""
    sent = ntp_from_unix(1000.0)
    block = ReportBlock(
        1, 0, 0, 0, 0, ntp_middle(sent), 32768
    )  # 0.5 s held by the remote
    assert round_trip_seconds(block, ntp_from_unix(1000.75)) == pytest.approx(
        0.25, abs=1e-4
    )
    assert round_trip_seconds(ReportBlock(1, 0, 0, 0, 0, 0, 0), sent) is None
    assert round_trip_seconds(block, ntp_from_unix(1000.1)) is None
