"""RTP packets (RFC 3550): parse and build, plus sequence and timestamp wrap-around helpers."""

from __future__ import annotations

import struct
from typing import NamedTuple

from ..exceptions import MalformedPacketError  # noqa: TID252  # the library stays relocatable

RTP_VERSION = 2
RTP_HEADER_SIZE = 12
# The fixed header: first octet, marker and payload type, sequence, timestamp, SSRC.
RTP_HEADER = struct.Struct("!BBHII")
# The first octet of the usual packet: version 2, no padding, no extension, no CSRC.
PLAIN_FIRST_OCTET = 0x80
_EXTENSION_HEADER = struct.Struct("!HH")
_SEQ_MOD = 1 << 16
_TS_MOD = 1 << 32


class RtpPacket(NamedTuple):
    """One parsed RTP packet; the payload excludes header, CSRCs, extension and padding."""

    payload_type: int
    marker: bool
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes
    csrcs: tuple[int, ...] = ()


def parse_rtp(data: bytes) -> RtpPacket:
    """Parse an RTP packet; header extensions are skipped, never a reason to reject."""
    size = len(data)
    if size < RTP_HEADER_SIZE:
        raise MalformedPacketError("shorter than an RTP header")
    first, second, sequence, timestamp, ssrc = RTP_HEADER.unpack_from(data)
    if first >> 6 != RTP_VERSION:
        raise MalformedPacketError("not RTP version 2")
    offset = RTP_HEADER_SIZE
    csrc_count = first & 0x0F
    csrcs: tuple[int, ...] = ()
    if csrc_count:
        offset += 4 * csrc_count
        if offset > size:
            raise MalformedPacketError("CSRC list runs past the packet")
        csrcs = struct.unpack_from(f"!{csrc_count}I", data, RTP_HEADER_SIZE)
    if first & 0x10:
        if offset + 4 > size:
            raise MalformedPacketError("header extension runs past the packet")
        _profile, words = _EXTENSION_HEADER.unpack_from(data, offset)
        offset += 4 + 4 * words
        if offset > size:
            raise MalformedPacketError("header extension runs past the packet")
    end = size
    if first & 0x20:
        padding = data[-1]
        # The count includes itself, so zero is invalid (RFC 3550 section 5.1).
        if padding == 0 or offset + padding > size:
            raise MalformedPacketError("invalid padding count")
        end -= padding
    return RtpPacket(
        second & 0x7F,
        bool(second & 0x80),
        sequence,
        timestamp,
        ssrc,
        data[offset:end],
        csrcs,
    )


def build_rtp(
    payload_type: int,
    sequence: int,
    timestamp: int,
    ssrc: int,
    payload: bytes,
    *,
    marker: bool = False,
    csrcs: tuple[int, ...] = (),
    padding: int = 0,
) -> bytes:
    """Build an RTP packet (no header extension); `padding` octets are appended if > 0."""
    first = 0x80 | len(csrcs)
    if padding:
        first |= 0x20
    header = RTP_HEADER.pack(
        first,
        (0x80 if marker else 0) | (payload_type & 0x7F),
        sequence & 0xFFFF,
        timestamp & 0xFFFFFFFF,
        ssrc,
    )
    if csrcs:
        header += struct.pack(f"!{len(csrcs)}I", *csrcs)
    if padding:
        return header + payload + bytes(padding - 1) + bytes((padding,))
    return header + payload


def seq_delta(newer: int, older: int) -> int:
    """Return the signed distance between two 16-bit sequence numbers across wrap-around."""
    delta = (newer - older) % _SEQ_MOD
    return delta - _SEQ_MOD if delta >= _SEQ_MOD // 2 else delta


def ts_delta(newer: int, older: int) -> int:
    """Return the signed distance between two 32-bit RTP timestamps across wrap-around."""
    delta = (newer - older) % _TS_MOD
    return delta - _TS_MOD if delta >= _TS_MOD // 2 else delta


def is_rtcp_packet(data: bytes) -> bool:
    """Tell whether a datagram looks like RTCP (payload types 200-204, as in RFC 5761 muxing)."""
    return len(data) >= 8 and data[0] >> 6 == RTP_VERSION and 200 <= data[1] <= 204
