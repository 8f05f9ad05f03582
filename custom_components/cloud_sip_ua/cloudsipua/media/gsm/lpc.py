"""LPC analysis of the encoder: autocorrelation, Schur recursion, coded log-area ratios."""

from __future__ import annotations

import numpy as np

from .arith import Samples, div, norm, saturate
from .tables import LAR_A, LAR_B, LAR_MAC, LAR_MIC


def autocorrelation(s: Samples) -> tuple[list[int], Samples]:
    """Return L_ACF[0..8] and the signal as libgsm leaves it (scaled down and up again, 4.2.4)."""
    smax = min(int(np.abs(s).max()), 32767)
    scalauto = smax.bit_length() - 11  # 4 - norm(smax << 16)
    if scalauto > 0:
        s = (s * (16384 >> (scalauto - 1)) + 16384) >> 15
    padded = np.zeros(168, dtype=np.int64)
    padded[8:] = s
    # correlate()[j] pairs s with itself delayed by 8 - j samples: all nine lags in one call.
    acf = np.correlate(padded, s, "valid")[::-1] << 1
    if scalauto > 0:
        # libgsm rescales in 16 bits: a rounded-up 32767 comes back as -32768.
        s = (s << scalauto).astype(np.int16).astype(np.int64)
    return acf.tolist(), s


def reflection_coefficients(acf: list[int]) -> list[int]:
    """Return r[1..8] by the Schur recursion in 16-bit arithmetic (4.2.5)."""
    if acf[0] == 0:
        return [0] * 8
    shift = norm(acf[0])
    p = [(value << shift) >> 16 for value in acf]
    k = p[:]
    r: list[int] = []
    for n in range(1, 9):
        temp = min(abs(p[1]), 32767)
        if p[0] < temp:
            return r + [0] * (9 - n)
        rn = div(temp, p[0])
        if p[1] > 0:
            rn = -rn
        r.append(rn)
        if n == 8:
            break
        p[0] = saturate(p[0] + ((p[1] * rn + 16384) >> 15))
        for m in range(1, 9 - n):
            p[m] = saturate(p[m + 1] + ((k[m] * rn + 16384) >> 15))
            k[m] = saturate(k[m] + ((p[m + 1] * rn + 16384) >> 15))
    return r


def code_lar(r: list[int]) -> list[int]:
    """Return LARc[1..8]: log-area ratios (4.2.6) quantized and coded (4.2.7)."""
    larc = []
    for value, a, b, mac, mic in zip(r, LAR_A, LAR_B, LAR_MAC, LAR_MIC, strict=True):
        temp = -value if value < 0 else value
        if temp < 22118:
            temp >>= 1
        elif temp < 31130:
            temp -= 11059
        else:
            temp = (temp - 26112) << 2
        lar = -temp if value < 0 else temp
        temp = saturate(saturate(((a * lar) >> 15) + b) + 256) >> 9
        larc.append(mac - mic if temp > mac else (0 if temp < mic else temp - mic))
    return larc
