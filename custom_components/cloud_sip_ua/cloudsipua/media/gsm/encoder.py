"""The GSM 06.10 full-rate encoder, bit-exact with libgsm's default options."""

# A conditional expression saturates three times faster than max() in the per-sample loop.
# ruff: noqa: FURB136

from __future__ import annotations

from array import array
import sys

import numpy as np

from .arith import Samples, clip
from .bits import Parameters, pack
from .lar import decode_lar, reflection_sets
from .lpc import autocorrelation, code_lar, reflection_coefficients
from .ltp import ltp_filter, ltp_parameters
from .rpe import dequantize, quantize, select_grid
from .tables import FRAME_SAMPLES, SEGMENTS

_BIG_ENDIAN = sys.byteorder == "big"


class GsmEncoder:
    """Encodes 160-sample frames; keeps the filter state that carries from frame to frame."""

    __slots__ = ("_dp", "_l_z2", "_larpp", "_mp", "_u", "_z1")

    def __init__(self) -> None:
        """Start from the all-zero state of a new libgsm handle."""
        self._z1 = 0
        self._l_z2 = 0
        self._mp = 0
        self._u = [0] * 8
        self._larpp = [0] * 8
        # Reconstructed short-term residual: 120 samples of history, then this frame's 160.
        self._dp: Samples = np.zeros(280, dtype=np.int64)

    def encode(self, pcm: bytes) -> bytes:
        """Encode 160 samples of 16-bit little-endian PCM into one 33-byte frame."""
        samples = array("h", pcm)
        if len(samples) != FRAME_SAMPLES:
            raise ValueError(f"a GSM frame takes {FRAME_SAMPLES} samples")
        if _BIG_ENDIAN:  # pragma: no cover  # our PCM is little-endian
            samples.byteswap()
        acf, s = autocorrelation(np.array(self._preprocess(samples), dtype=np.int64))
        larc = code_lar(reflection_coefficients(acf))
        residual = self._short_term_analysis(larc, s)
        nc = []
        bc = []
        mc = []
        xmaxc = []
        xmc: list[int] = []
        dp = self._dp
        for sub in range(4):
            start = sub * 40
            d = residual[start : start + 40]
            history = dp[start : start + 120]
            lag, gain = ltp_parameters(d, history)
            dpp, e = ltp_filter(d, history, lag, gain)
            grid, xm = select_grid(e)
            maximum, codes = quantize(xm)
            ep = np.zeros(40, dtype=np.int64)
            ep[grid : grid + 37 : 3] = dequantize(maximum, codes)
            dp[start + 120 : start + 160] = clip(ep + dpp)
            nc.append(lag)
            bc.append(gain)
            mc.append(grid)
            xmaxc.append(maximum)
            xmc.extend(codes)
        dp[:120] = dp[160:]
        return pack(Parameters(larc, nc, bc, mc, xmaxc, xmc))

    def _preprocess(self, samples: array[int]) -> list[int]:
        """Downscale, remove the offset and pre-emphasize (4.2.1-4.2.3): one recursion per sample."""
        z1 = self._z1
        l_z2 = self._l_z2
        mp = self._mp
        out: list[int] = []
        append = out.append
        for sample in samples:
            so = (sample >> 3) << 2
            s1 = so - z1
            z1 = so
            msp = l_z2 >> 15
            # |L_z2| stays below 2**30 (the filter's output is bounded by 2 * 16384), so the
            # saturating 32-bit additions of the standard never saturate: plain ints suffice.
            l_z2 = (
                msp * 32735
                + (s1 << 15)
                + (((l_z2 - (msp << 15)) * 32735 + 16384) >> 15)
            )
            msp = (mp * -28180 + 16384) >> 15
            mp = (l_z2 + 16384) >> 15
            value = mp + msp
            append(32767 if value > 32767 else -32768 if value < -32768 else value)
        self._z1 = z1
        self._l_z2 = l_z2
        self._mp = mp
        return out

    def _short_term_analysis(self, larc: list[int], s: Samples) -> Samples:
        """Filter the frame through the interpolated lattice of this and the last frame (4.2.8-4.2.10)."""
        larpp = decode_lar(larc)
        coefficients = np.repeat(
            np.array(reflection_sets(self._larpp, larpp), dtype=np.int64),
            SEGMENTS,
            axis=0,
        ).T.copy()
        self._larpp = larpp
        # The analysis lattice is FIR: stage i needs only stage i-1's outputs and its own
        # backward value of the previous sample, so each stage runs over the whole frame.
        forward = s
        backward = s
        delayed = np.empty(FRAME_SAMPLES, dtype=np.int64)
        product = np.empty(FRAME_SAMPLES, dtype=np.int64)
        u = self._u
        for stage in range(8):
            rp = coefficients[stage]
            delayed[0] = u[stage]
            delayed[1:] = backward[:-1]
            u[stage] = int(backward[-1])
            np.multiply(rp, forward, out=product)
            product += 16384
            product >>= 15
            backward = clip(product + delayed)
            np.multiply(rp, delayed, out=product)
            product += 16384
            product >>= 15
            forward = clip(product + forward)
        return forward
