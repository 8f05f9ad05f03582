"""Packing of GSM 06.10 parameters into 33-byte frames, most significant bit first (RFC 3551)."""

from __future__ import annotations

from typing import NamedTuple

from .tables import FRAME_SIZE, LAR_BITS, SIGNATURE

# Per subframe: Nc (7 bits), bc (2), Mc (2), xmaxc (6), then 13 RPE pulses xMc (3 bits each).
_SUBFRAME_BITS = 56


class Parameters(NamedTuple):
    """The coded parameters of one frame, named as in the standard (per subframe: lists of 4)."""

    larc: list[int]
    nc: list[int]
    bc: list[int]
    mc: list[int]
    xmaxc: list[int]
    xmc: list[int]  # 4 x 13 RPE pulses


def pack(params: Parameters) -> bytes:
    """Return the 33-byte frame of one set of coded parameters."""
    value = SIGNATURE
    for width, lar in zip(LAR_BITS, params.larc, strict=True):
        value = (value << width) | lar
    for sub in range(4):
        value = (value << 7) | params.nc[sub]
        value = (value << 2) | params.bc[sub]
        value = (value << 2) | params.mc[sub]
        value = (value << 6) | params.xmaxc[sub]
        for pulse in params.xmc[sub * 13 : sub * 13 + 13]:
            value = (value << 3) | pulse
    return value.to_bytes(FRAME_SIZE, "big")


def unpack(frame: bytes) -> Parameters:
    """Return the coded parameters of a 33-byte frame whose signature was checked."""
    value = int.from_bytes(frame, "big")
    shift = FRAME_SIZE * 8 - 4
    larc = []
    for width in LAR_BITS:
        shift -= width
        larc.append((value >> shift) & ((1 << width) - 1))
    nc: list[int] = []
    bc: list[int] = []
    mc: list[int] = []
    xmaxc: list[int] = []
    xmc: list[int] = []
    for _ in range(4):
        shift -= _SUBFRAME_BITS
        sub = value >> shift
        nc.append((sub >> 49) & 0x7F)
        bc.append((sub >> 47) & 0x3)
        mc.append((sub >> 45) & 0x3)
        xmaxc.append((sub >> 39) & 0x3F)
        xmc.extend((sub >> bit) & 0x7 for bit in range(36, -1, -3))
    return Parameters(larc, nc, bc, mc, xmaxc, xmc)
