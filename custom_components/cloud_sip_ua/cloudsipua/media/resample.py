"""Polyphase FIR resampling of 16-bit mono PCM between rates in an integer ratio (8k, 16k, 48k)."""

from __future__ import annotations

from functools import cache
import math

import numpy as np
import numpy.typing as npt

# Kaiser-window low-pass: pass band to 0.43 and stop band from 0.54 of the lower rate, so aliases
# fold only above 0.46 of the lower rate (3.7 kHz at 8 kHz: outside the telephone band).
PASS_EDGE = 0.43
STOP_EDGE = 0.54
STOP_BAND_ATTENUATION_DB = 80.0

type FloatArray = npt.NDArray[np.float32]


@cache
def _lowpass(factor: int) -> FloatArray:
    """Design the anti-alias/anti-image filter for a 1:`factor` rate change (odd length)."""
    transition = (STOP_EDGE - PASS_EDGE) / factor  # in cycles per high-rate sample
    attenuation = STOP_BAND_ATTENUATION_DB
    beta = 0.1102 * (attenuation - 8.7)
    length = math.ceil((attenuation - 8) / (2.285 * 2 * math.pi * transition)) + 1
    length += 1 - length % 2  # odd, so the group delay is a whole number of samples
    cutoff = (PASS_EDGE + STOP_EDGE) / 2 / factor  # relative to the high rate
    n = np.arange(length) - (length - 1) / 2
    taps = 2 * cutoff * np.sinc(2 * cutoff * n) * np.kaiser(length, beta)
    taps /= taps.sum()
    return taps.astype(np.float32)


def _ratio(in_rate: int, out_rate: int) -> tuple[int, int]:
    """Return (up, down) factors; one of them is 1."""
    if in_rate <= 0 or out_rate <= 0:
        raise ValueError("sample rates must be positive")
    if out_rate % in_rate == 0:
        return out_rate // in_rate, 1
    if in_rate % out_rate == 0:
        return 1, in_rate // out_rate
    raise ValueError(
        f"cannot resample {in_rate} Hz to {out_rate} Hz: not an integer ratio"
    )


def _to_float(pcm: bytes) -> FloatArray:
    """Convert 16-bit little-endian PCM to float32 samples."""
    return np.frombuffer(pcm, dtype="<i2", count=len(pcm) // 2).astype(np.float32)


def _to_pcm(samples: FloatArray) -> bytes:
    """Round and clip float samples back to 16-bit little-endian PCM."""
    return np.clip(np.rint(samples), -32768, 32767).astype("<i2").tobytes()


class Resampler:
    """Streaming resampler: `process` chunks, then `flush`; by default delay-compensated."""

    __slots__ = (
        "_delay",
        "_down",
        "_folded",
        "_history",
        "_compensate",
        "_in_count",
        "_kernel",
        "_out_count",
        "_phase",
        "_skip",
        "_span",
        "_up",
        "in_rate",
        "out_rate",
    )

    def __init__(
        self, in_rate: int, out_rate: int, *, compensate_delay: bool = True
    ) -> None:
        """Prepare the filter for `in_rate` -> `out_rate` (Hz, integer ratio).

        Without delay compensation every chunk of n samples yields exactly n * ratio samples
        (fixed-size frames for a live stream) at the cost of the filter's group delay.
        """
        self._compensate = compensate_delay
        self.in_rate = in_rate
        self.out_rate = out_rate
        self._up, self._down = _ratio(in_rate, out_rate)
        factor = max(self._up, self._down)
        taps = _lowpass(factor) if factor > 1 else np.ones(1, dtype=np.float32)
        self._delay = (len(taps) - 1) // 2  # in high-rate samples
        if self._up > 1:
            # Pad to whole phases; kernel[i, p] weights input (k - span + 1 + i) for output k*up+p.
            taps = np.concatenate(
                [taps, np.zeros(-len(taps) % self._up, dtype=np.float32)]
            )
            span = len(taps) // self._up
            self._kernel = (taps.reshape(span, self._up)[::-1] * self._up).copy()
            self._folded = self._kernel  # unused when upsampling
        else:
            # Pad at the front of the reversed kernel (zero weight for the oldest samples).
            taps = np.concatenate(
                [taps, np.zeros(-len(taps) % self._down, dtype=np.float32)]
            )
            span = len(taps)
            self._kernel = taps[::-1].copy().reshape(span, 1)
            self._folded = self._kernel.reshape(span // self._down, self._down)
        self._span = span
        self._reset()

    def _reset(self) -> None:
        """Forget all state."""
        self._history = np.zeros(self._span - 1, dtype=np.float32)
        self._in_count = 0
        self._out_count = 0
        # Up: drop the first `delay` outputs. Down: first output is centred on input 0.
        self._skip = self._delay if self._up > 1 and self._compensate else 0
        self._phase = self._delay if self._down > 1 and self._compensate else 0

    @property
    def delay_samples(self) -> int:
        """Return the lookahead held back until flush, in input samples."""
        return math.ceil(self._delay / self._up)

    def _run(self, samples: FloatArray) -> FloatArray:
        """Filter a block of float samples, updating history and phase."""
        buffer = np.concatenate([self._history, samples])
        self._history = buffer[len(buffer) - self._span + 1 :]
        count = len(samples)
        if self._up > 1:
            if self._up > 2:
                # Many phases: every input window times all phase kernels in one matrix
                # product (BLAS), about 2x faster than a correlation per phase (8k -> 48k).
                windows = np.lib.stride_tricks.sliding_window_view(buffer, self._span)
                out: FloatArray = windows[:count] @ self._kernel
            else:
                # Two phases: two C correlation loops beat the matrix product on 20 ms frames.
                out = np.empty((count, self._up), dtype=np.float32)
                for phase in range(self._up):
                    out[:, phase] = np.correlate(
                        buffer, self._kernel[:, phase], "valid"
                    )
            flat = out.reshape(-1)
            if self._skip:
                skipped = min(self._skip, len(flat))
                flat = flat[skipped:]
                self._skip -= skipped
            return flat
        if self._down == 1:
            return samples
        down = self._down
        produced = len(range(self._phase, count, down))
        if not produced:
            self._phase -= count
            return np.zeros(0, dtype=np.float32)
        # Fold the input into rows of `down` samples so every output is a row window dotted
        # with the kernel folded the same way (einsum walks the strided view without copying).
        rows = (len(buffer) - self._phase) // down
        folded = buffer[self._phase : self._phase + rows * down].reshape(rows, down)
        windows = np.lib.stride_tricks.sliding_window_view(
            folded, self._span // down, axis=0
        )
        decimated: FloatArray = np.einsum("tms,sm->t", windows[:produced], self._folded)
        self._phase = self._phase + produced * down - count
        return decimated

    def process(self, pcm: bytes) -> bytes:
        """Resample a chunk of 16-bit PCM; output lags by `delay_samples` until flush."""
        if self.in_rate == self.out_rate:
            return pcm
        samples = _to_float(pcm)
        self._in_count += len(samples)
        out = self._run(samples)
        self._out_count += len(out)
        return _to_pcm(out)

    def flush(self) -> bytes:
        """Return the held-back tail (input padded with silence) and reset the state."""
        if self.in_rate == self.out_rate or self._in_count == 0:
            self._reset()
            return b""
        total = -(-self._in_count * self._up // self._down)
        out = self._run(np.zeros(self.delay_samples + self._down, dtype=np.float32))
        out = out[: max(0, total - self._out_count)]
        self._reset()
        return _to_pcm(out)


def resample(pcm: bytes, in_rate: int, out_rate: int) -> bytes:
    """Resample a whole 16-bit PCM buffer; output length is input length times the ratio."""
    resampler = Resampler(in_rate, out_rate)
    return resampler.process(pcm) + resampler.flush()
