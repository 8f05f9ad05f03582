"""GSM 06.10 full-rate speech codec in Python and numpy, bit-exact with libgsm."""

from __future__ import annotations

from .decoder import GsmDecoder
from .encoder import GsmEncoder
from .tables import FRAME_SAMPLES, FRAME_SIZE, SIGNATURE

__all__ = ["FRAME_SAMPLES", "FRAME_SIZE", "SIGNATURE", "GsmDecoder", "GsmEncoder"]
