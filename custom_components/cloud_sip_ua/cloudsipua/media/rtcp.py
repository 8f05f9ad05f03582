"""RTCP (RFC 3550 section 6): sender and receiver reports, SDES CNAME and BYE, built and parsed."""

from __future__ import annotations

from dataclasses import dataclass
import struct
import time

from ..exceptions import MalformedPacketError  # noqa: TID252  # the library stays relocatable

RTCP_SR = 200
RTCP_RR = 201
RTCP_SDES = 202
RTCP_BYE = 203
_SDES_CNAME = 1
_HEADER = struct.Struct("!BBH")
_SSRC = struct.Struct("!I")
_SENDER_INFO = struct.Struct("!IIIII")
_REPORT_BLOCK = struct.Struct("!IIIIII")
_NTP_EPOCH_OFFSET = 2_208_988_800  # seconds from 1900-01-01 to 1970-01-01
_MAX_REPORT_BLOCKS = 31


@dataclass(frozen=True, slots=True)
class ReportBlock:
    """Reception report about one source (RFC 3550 section 6.4.1)."""

    ssrc: int
    fraction_lost: int  # lost fraction since the last report, in 1/256
    cumulative_lost: int  # signed 24-bit
    highest_sequence: int  # extended highest sequence number received
    jitter: int  # interarrival jitter in timestamp units
    last_sr: int  # middle 32 bits of the last SR's NTP timestamp, 0 if none
    delay_since_last_sr: int  # in 1/65536 seconds


@dataclass(frozen=True, slots=True)
class SenderInfo:
    """Sender information of an SR."""

    ntp_timestamp: int  # 64-bit NTP format
    rtp_timestamp: int
    packet_count: int
    octet_count: int


@dataclass(frozen=True, slots=True)
class RtcpReport:
    """One SR (with sender info) or RR from a compound packet."""

    ssrc: int
    sender_info: SenderInfo | None
    blocks: tuple[ReportBlock, ...]


@dataclass(frozen=True, slots=True)
class RtcpCompound:
    """The reports and BYE sources found in a compound RTCP packet."""

    reports: tuple[RtcpReport, ...]
    bye_ssrcs: tuple[int, ...]


def ntp_now() -> int:
    """Return the wall clock as a 64-bit NTP timestamp."""
    return ntp_from_unix(time.time())


def ntp_from_unix(seconds: float) -> int:
    """Convert Unix time to a 64-bit NTP timestamp."""
    return int((seconds + _NTP_EPOCH_OFFSET) * (1 << 32)) & 0xFFFFFFFFFFFFFFFF


def ntp_middle(ntp: int) -> int:
    """Return the middle 32 bits of an NTP timestamp (the LSR form)."""
    return (ntp >> 16) & 0xFFFFFFFF


def round_trip_seconds(block: ReportBlock, arrival_ntp: int) -> float | None:
    """Return the round-trip time a report block implies (RFC 3550 section 6.4.1), if any."""
    if not block.last_sr:
        return None
    rtt = (
        ntp_middle(arrival_ntp) - block.last_sr - block.delay_since_last_sr
    ) & 0xFFFFFFFF
    if rtt >= 1 << 31:  # clock skew or a bogus block
        return None
    return rtt / 65536


def _header(count: int, packet_type: int, body_length: int) -> bytes:
    """Return a common header for a body of `body_length` bytes (a multiple of 4)."""
    return _HEADER.pack(0x80 | count, packet_type, (body_length + 4) // 4 - 1)


def _pack_block(block: ReportBlock) -> bytes:
    """Pack one report block."""
    return _REPORT_BLOCK.pack(
        block.ssrc,
        ((block.fraction_lost & 0xFF) << 24) | (block.cumulative_lost & 0xFFFFFF),
        block.highest_sequence & 0xFFFFFFFF,
        block.jitter & 0xFFFFFFFF,
        block.last_sr & 0xFFFFFFFF,
        block.delay_since_last_sr & 0xFFFFFFFF,
    )


def build_rtcp(
    ssrc: int,
    cname: str,
    *,
    sender_info: SenderInfo | None = None,
    blocks: tuple[ReportBlock, ...] = (),
    bye: bool = False,
) -> bytes:
    """Build a compound packet: SR (with sender info) or RR, SDES CNAME, and BYE if asked."""
    blocks = blocks[:_MAX_REPORT_BLOCKS]
    body = _SSRC.pack(ssrc)
    if sender_info is not None:
        body += _SENDER_INFO.pack(
            (sender_info.ntp_timestamp >> 32) & 0xFFFFFFFF,
            sender_info.ntp_timestamp & 0xFFFFFFFF,
            sender_info.rtp_timestamp & 0xFFFFFFFF,
            sender_info.packet_count & 0xFFFFFFFF,
            sender_info.octet_count & 0xFFFFFFFF,
        )
    body += b"".join(_pack_block(block) for block in blocks)
    packet = _header(len(blocks), RTCP_SR if sender_info else RTCP_RR, len(body)) + body
    name = cname.encode()[:255]
    chunk = _SSRC.pack(ssrc) + bytes((_SDES_CNAME, len(name))) + name + b"\x00"
    chunk += bytes(-len(chunk) % 4)
    packet += _header(1, RTCP_SDES, len(chunk)) + chunk
    if bye:
        packet += _header(1, RTCP_BYE, 4) + _SSRC.pack(ssrc)
    return packet


def _parse_blocks(
    data: bytes, offset: int, count: int, end: int
) -> tuple[ReportBlock, ...]:
    """Parse `count` report blocks starting at `offset`."""
    if offset + count * _REPORT_BLOCK.size > end:
        raise MalformedPacketError("report blocks run past the RTCP packet")
    blocks = []
    for index in range(count):
        ssrc, lost, highest, jitter, lsr, dlsr = _REPORT_BLOCK.unpack_from(
            data, offset + index * _REPORT_BLOCK.size
        )
        cumulative = lost & 0xFFFFFF
        if cumulative & 0x800000:
            cumulative -= 0x1000000
        blocks.append(
            ReportBlock(ssrc, lost >> 24, cumulative, highest, jitter, lsr, dlsr)
        )
    return tuple(blocks)


def parse_rtcp(data: bytes) -> RtcpCompound:
    """Parse a compound RTCP packet; SDES, APP and feedback packets are skipped."""
    reports: list[RtcpReport] = []
    bye: list[int] = []
    offset = 0
    size = len(data)
    if size < 8:
        raise MalformedPacketError("shorter than an RTCP header")
    while offset < size:
        if offset + 4 > size:
            raise MalformedPacketError("truncated RTCP header")
        first, packet_type, length = _HEADER.unpack_from(data, offset)
        if first >> 6 != 2:
            raise MalformedPacketError("not RTCP version 2")
        end = offset + 4 * (length + 1)
        if end > size:
            raise MalformedPacketError("RTCP packet runs past the datagram")
        count = first & 0x1F
        if packet_type in (RTCP_SR, RTCP_RR):
            if offset + 8 > end:
                raise MalformedPacketError("RTCP report without SSRC")
            (ssrc,) = _SSRC.unpack_from(data, offset + 4)
            body = offset + 8
            info = None
            if packet_type == RTCP_SR:
                if body + _SENDER_INFO.size > end:
                    raise MalformedPacketError("SR without sender info")
                msw, lsw, rtp_ts, packets, octets = _SENDER_INFO.unpack_from(data, body)
                info = SenderInfo((msw << 32) | lsw, rtp_ts, packets, octets)
                body += _SENDER_INFO.size
            reports.append(
                RtcpReport(ssrc, info, _parse_blocks(data, body, count, end))
            )
        elif packet_type == RTCP_BYE:
            if offset + 4 + 4 * count > end:
                raise MalformedPacketError("BYE source list runs past the packet")
            bye.extend(struct.unpack_from(f"!{count}I", data, offset + 4))
        offset = end
    return RtcpCompound(tuple(reports), tuple(bye))
