"""Regular pulse excitation: weighting, grid selection and APCM (de)quantization (4.2.13-4.2.18)."""

from __future__ import annotations

import numpy as np

from .arith import Samples, clip, saturate
from .tables import FAC, NRFAC, H

_H = np.array(H, dtype=np.int64)


def select_grid(e: Samples) -> tuple[int, list[int]]:
    """Return Mc and the 13 samples xM of the weighted residual on the grid of most energy."""
    padded = np.zeros(50, dtype=np.int64)
    padded[5:45] = e
    x = clip((np.correlate(padded, _H, "valid") + 4096) >> 13)
    y = (x >> 2) ** 2
    energies = y[:39].reshape(13, 3).sum(axis=0).tolist()
    energies.append(energies[0] - int(y[0]) + int(y[39]))
    mc = 0
    best = energies[0]
    for grid in (1, 2, 3):
        if energies[grid] > best:  # the first of equal maxima wins
            mc = grid
            best = energies[grid]
    return mc, x[mc : mc + 37 : 3].tolist()


def exp_mant(xmaxc: int) -> tuple[int, int]:
    """Return the exponent and mantissa of a coded block maximum (4.2.15)."""
    exp = (xmaxc >> 3) - 1 if xmaxc > 15 else 0
    mant = xmaxc - (exp << 3)
    if mant == 0:
        return -4, 7
    while mant <= 7:
        mant = mant << 1 | 1
        exp -= 1
    return exp, mant - 8


def quantize(xm: list[int]) -> tuple[int, list[int]]:
    """Return xmaxc and the 3-bit codes xMc of the 13 RPE samples (4.2.15)."""
    xmax = min(max(abs(value) for value in xm), 32767)
    exp = min(6, max(0, xmax.bit_length() - 9))
    xmaxc = (xmax >> (exp + 5)) + (exp << 3)
    exp, mant = exp_mant(xmaxc)
    shift = 6 - exp
    factor = NRFAC[mant]
    return xmaxc, [(((value << shift) * factor) >> 27) + 4 for value in xm]


def dequantize(xmaxc: int, xmc: list[int]) -> list[int]:
    """Return the 13 reconstructed RPE samples xMp of coded ones (4.2.16)."""
    exp, mant = exp_mant(xmaxc)
    factor = FAC[mant]
    shift = 6 - exp
    rounding = 1 << (shift - 1) if shift > 0 else 0
    return [
        saturate(((factor * (((code << 1) - 7) << 12) + 16384) >> 15) + rounding)
        >> shift
        for code in xmc
    ]
