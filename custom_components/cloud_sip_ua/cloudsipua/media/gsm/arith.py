"""The fixed-point primitives of GSM 06.10 that are more than one Python operator."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

type Samples = npt.NDArray[np.int64]

MAX_WORD = 32767
MIN_WORD = -32768


def saturate(value: int) -> int:
    """Clamp to a 16-bit word, like GSM_ADD and GSM_SUB do with their result."""
    if value > MAX_WORD:
        return MAX_WORD
    if value < MIN_WORD:
        return MIN_WORD
    return value


def norm(value: int) -> int:
    """Return the left shift that normalizes a non-zero 32-bit value (gsm_norm)."""
    if value < 0:
        if value <= -1073741824:
            return 0
        value = ~value
    return 31 - value.bit_length()


def div(num: int, denum: int) -> int:
    """Return num / denum in Q15 for 0 <= num <= denum (gsm_div: 15 steps of long division)."""
    if num == 0:
        return 0
    # num == denum sets all 15 quotient bits: 32767, not 32768.
    return min((num << 15) // denum, MAX_WORD)


def clip(values: Samples) -> Samples:
    """Clamp an array to 16-bit words in place (np.clip's Python wrapper costs more than this)."""
    np.maximum(values, MIN_WORD, out=values)
    return np.minimum(values, MAX_WORD, out=values)
