"""Decoding and interpolation of the coded log-area ratios into reflection coefficients."""

from __future__ import annotations

from .arith import saturate
from .tables import LAR_B, LAR_INVA, LAR_MIC


def decode_lar(larc: list[int]) -> list[int]:
    """Return LARpp[1..8] for the coded LARc[1..8] (section 4.2.8)."""
    larpp = []
    for coded, mic, b, inva in zip(larc, LAR_MIC, LAR_B, LAR_INVA, strict=True):
        temp = saturate(((coded + mic) << 10) - (b << 1))
        temp = (inva * temp + 16384) >> 15
        larpp.append(saturate(temp + temp))
    return larpp


def _to_rp(larp: int) -> int:
    """Turn one interpolated LAR into a reflection coefficient (section 4.2.10)."""
    temp = min(-larp if larp < 0 else larp, 32767)
    if temp < 11059:
        temp <<= 1
    elif temp < 20070:
        temp += 11059
    else:
        # libgsm's GSM_ADD; valid LARc keep |LARpp| <= 26214, so it never actually clamps.
        temp = min((temp >> 2) + 26112, 32767)
    return -temp if larp < 0 else temp


def reflection_sets(previous: list[int], current: list[int]) -> list[list[int]]:
    """Return the reflection coefficients of the four segments of SEGMENTS (section 4.2.9)."""
    first = []
    second = []
    third = []
    for old, new in zip(previous, current, strict=True):
        first.append(_to_rp(saturate(saturate((old >> 2) + (new >> 2)) + (old >> 1))))
        second.append(_to_rp(saturate((old >> 1) + (new >> 1))))
        third.append(_to_rp(saturate(saturate((old >> 2) + (new >> 2)) + (new >> 1))))
    return [first, second, third, [_to_rp(new) for new in current]]
