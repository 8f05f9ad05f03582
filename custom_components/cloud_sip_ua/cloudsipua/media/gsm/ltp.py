"""Long-term predictor of the encoder: lag and gain search, analysis filter (4.2.11-4.2.12)."""

from __future__ import annotations

import numpy as np

from .arith import Samples, clip, norm
from .tables import DLB, QLB


def ltp_parameters(d: Samples, history: Samples) -> tuple[int, int]:
    """Return (Nc, bc) for the subframe `d` given the 120 reconstructed residuals before it."""
    dmax = min(int(np.abs(d).max()), 32767)
    temp = 15 - dmax.bit_length() if dmax else 0  # norm(dmax << 16)
    scal = 0 if temp > 6 else 6 - temp
    # correlate()[j] pairs d with history[j:j+40], the lag 120 - j: reversed, lags rise from 40.
    correlation = np.correlate(history, d >> scal, "valid")[::-1]
    best = int(correlation.argmax())  # the smallest of equal lags wins, as in libgsm
    l_max = int(correlation[best])
    if l_max > 0:
        nc = 40 + best
    else:
        nc = 40
        l_max = 0
    l_max = (l_max << 1) >> (6 - scal)
    past = history[120 - nc : 160 - nc] >> 3
    l_power = int(past @ past) << 1
    if l_max <= 0:
        return nc, 0
    if l_max >= l_power:
        return nc, 3
    shift = norm(l_power)
    r = (l_max << shift) >> 16
    s = (l_power << shift) >> 16
    for bc in range(3):
        if r <= (s * DLB[bc]) >> 15:
            return nc, bc
    return nc, 3


def ltp_filter(
    d: Samples, history: Samples, nc: int, bc: int
) -> tuple[Samples, Samples]:
    """Return the long-term estimate dpp and residual e of the subframe `d`."""
    dpp = (QLB[bc] * history[120 - nc : 160 - nc] + 16384) >> 15
    return dpp, clip(d - dpp)
