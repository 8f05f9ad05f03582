"""Constant tables of GSM 06.10 (section 5.4 of the standard, as libgsm names them)."""

from __future__ import annotations

from typing import Final

FRAME_SAMPLES: Final = 160
# 264 bits: the 4-bit signature, 36 bits of LARs, 4 subframes of 56 bits.
FRAME_SIZE: Final = 33
SIGNATURE: Final = 0xD

# Table 4.1: per-LAR quantizer (A, B, MAC, MIC) for the encoder ...
LAR_A: Final = (20480, 20480, 20480, 20480, 13964, 15360, 8534, 9036)
LAR_B: Final = (0, 0, 2048, -2560, 94, -1792, -341, -1144)
LAR_MAC: Final = (31, 31, 15, 15, 7, 7, 3, 3)
LAR_MIC: Final = (-32, -32, -16, -16, -8, -8, -4, -4)
# ... and INVA = 32768 * 8 / A for the decoder's inverse.
LAR_INVA: Final = (13107, 13107, 13107, 13107, 19223, 17476, 31454, 29708)
LAR_BITS: Final = (6, 6, 5, 5, 4, 4, 3, 3)

# Table 4.3: LTP gain decision levels (DLB) and quantized gains (QLB).
DLB: Final = (6554, 16384, 26214, 32767)
QLB: Final = (3277, 11469, 21299, 32767)

# Table 4.4: weighting filter impulse response H[0..10].
H: Final = (-134, -374, 0, 2054, 5741, 8192, 5741, 2054, 0, -374, -134)

# Table 4.5: inverse mantissas (NRFAC) and normalized mantissas (FAC) of the RPE quantizer.
NRFAC: Final = (29128, 26215, 23832, 21846, 20165, 18725, 17476, 16384)
FAC: Final = (18431, 20479, 22527, 24575, 26623, 28671, 30719, 32767)

# Samples of the four short-term interpolation segments of a frame (section 4.2.9).
SEGMENTS: Final = (13, 14, 13, 120)
