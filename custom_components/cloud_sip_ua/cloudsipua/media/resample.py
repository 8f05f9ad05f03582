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
# Filter positions (input samples when upsampling, output samples when downsampling) per row of
# the precomputed block matrix: a 20 ms frame is a few rows, one BLAS call, and the zeros the
# matrix multiplies cost less than the calls a finer split would make. Many phases make wide
# rows already, so they take shorter blocks (fewer zeros).
BLOCK = 16
BLOCK_MANY_PHASES = 8
# Weights are multiples of 2**-20: every product of one with a 16-bit sample, and every sum of
# a few hundred, is exact in float64, so the output does not depend on how BLAS orders the sums
# (chunked and one-shot results are equal bit for bit). The rounding is 120 dB down.
WEIGHT_STEP = 2.0**-20

type FloatArray = npt.NDArray[np.float64]
type PcmArray = npt.NDArray[np.int16]

# Clipping against whole arrays is several times faster than against broadcast scalars.
_BOUNDS = 4096
_LOWS = np.full(_BOUNDS, -32768.0)
_HIGHS = np.full(_BOUNDS, 32767.0)
_LOW = np.array(-32768.0)
_HIGH = np.array(32767.0)


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
    taps: FloatArray = 2 * cutoff * np.sinc(2 * cutoff * n) * np.kaiser(length, beta)
    taps /= taps.sum()
    return taps


@cache
def _phase_kernel(up: int, down: int) -> FloatArray:
    """Return the (span, outputs per window) kernel; column p weights a window for phase p.

    Upsampling, the window of inputs k - span + 1 .. k gives outputs k*up .. k*up + up - 1;
    downsampling, each window gives one output (reversed taps, zero weight for the oldest).
    """
    factor = max(up, down)
    taps = _lowpass(factor)
    taps = np.concatenate([taps, np.zeros(-len(taps) % factor)])
    if up > 1:
        kernel = taps.reshape(len(taps) // up, up)[::-1] * up
    else:
        kernel = taps[::-1].reshape(len(taps), 1)
    kernel = np.ascontiguousarray(np.round(kernel / WEIGHT_STEP) * WEIGHT_STEP)
    kernel.flags.writeable = False
    return kernel


@cache
def _block_matrix(up: int, down: int) -> FloatArray:
    """Return the matrix taking the window of a block of consecutive positions to their outputs.

    Row r, column b*outs + p holds kernel[r - b*down, p]: the kernel moved one step per
    position (block Toeplitz), so a run of positions is one matrix product.
    """
    kernel = _phase_kernel(up, down)
    span, outs = kernel.shape
    block = BLOCK_MANY_PHASES if up > 2 else BLOCK
    matrix = np.zeros(((block - 1) * down + span, block * outs))
    for b in range(block):
        matrix[b * down : b * down + span, b * outs : (b + 1) * outs] = kernel
    matrix.flags.writeable = False
    return matrix


# The rate changes of calls: 8 kHz codecs to and from 16 kHz (Assist, the card, listeners) and
# 48 kHz (media), and 16 kHz to and from 48 kHz.
COMMON_RATES = ((8000, 16000), (8000, 48000), (16000, 48000))


def prepare_filters(rates: tuple[tuple[int, int], ...] = COMMON_RATES) -> None:
    """Design the filters of these rate changes, both ways, ahead of the first call.

    Designing one takes a few ms of CPU; done here (in an executor at setup) instead of on the
    event loop when a call first needs it.
    """
    for low, high in rates:
        for in_rate, out_rate in ((low, high), (high, low)):
            _block_matrix(*_ratio(in_rate, out_rate))


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


def _bounds(count: int) -> tuple[FloatArray, FloatArray]:
    """Return the (low, high) clip bounds for `count` samples."""
    if count <= _BOUNDS:
        return _LOWS[:count], _HIGHS[:count]
    return _LOW, _HIGH


class _Plan:
    """Views into the work buffer and outputs for one chunk length and starting phase."""

    __slots__ = (
        "blocks",
        "count",
        "head",
        "high",
        "low",
        "moved",
        "next_phase",
        "output",
        "output_blocks",
        "pcm",
        "rest",
        "rest_matrix",
        "rest_output",
        "rest_windows",
        "start",
        "tail",
        "windows",
    )

    def __init__(
        self,
        work: FloatArray,
        *,
        count: int,
        start: int,
        positions: int,
        matrix: FloatArray,
        kernel_shape: tuple[int, int],
        step: int,
    ) -> None:
        """Lay out `positions` windows of `work` from `start`, `step` samples apart."""
        span, outs = kernel_shape
        block = matrix.shape[1] // outs
        self.count = count
        self.start = start
        self.next_phase = start + positions * step - count if step > 1 else 0
        self.blocks, self.rest = divmod(positions, block)
        history = len(work) - count
        # Views for the steady state: new samples go to the tail, the newest history moves
        # to the head afterwards; the output is converted into a reused int16 buffer.
        self.tail = work[history:]
        self.head = work[:history]
        self.moved = work[count:]
        self.output: FloatArray = np.empty(positions * outs)
        self.pcm: PcmArray = np.empty(positions * outs, dtype="<i2")
        self.low, self.high = _bounds(len(self.output))
        # Overlapping windows, one row per block of positions: a strided view, no copy.
        stride = work.strides[0]
        self.windows: FloatArray = np.lib.stride_tricks.as_strided(
            work[start:],
            shape=(self.blocks, (block - 1) * step + span),
            strides=(block * step * stride, stride),
            writeable=False,
        )
        done = self.blocks * block
        self.output_blocks = self.output[: done * outs].reshape(
            self.blocks, block * outs
        )
        rest_width = (self.rest - 1) * step + span if self.rest else 0
        self.rest_windows = work[start + done * step :][:rest_width]
        self.rest_matrix: FloatArray = matrix[:rest_width, : self.rest * outs]
        self.rest_output = self.output[done * outs :]


class Resampler:
    """Streaming resampler: `process` chunks, then `flush`; by default delay-compensated.

    A chunk costs one product with a precomputed block-Toeplitz polyphase matrix; the work
    buffer, its strided views and the output are reused while the chunk size stays the same
    (20 ms frames), so a frame is a handful of numpy calls and one allocation, its bytes.
    """

    __slots__ = (
        "_compensate",
        "_delay",
        "_down",
        "_history",
        "_in_count",
        "_kernel_shape",
        "_matrix",
        "_out_count",
        "_phase",
        "_plan",
        "_skip",
        "_up",
        "_work",
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
        self._delay = (len(_lowpass(factor)) - 1) // 2 if factor > 1 else 0
        kernel = _phase_kernel(self._up, self._down) if factor > 1 else np.ones((1, 1))
        span, outs = kernel.shape
        self._kernel_shape = (span, outs)
        self._matrix = _block_matrix(self._up, self._down) if factor > 1 else kernel
        self._history = span - 1
        self._work: FloatArray = np.zeros(self._history)
        self._plan: _Plan | None = None
        self._reset()

    def _reset(self) -> None:
        """Forget all state."""
        self._work[: self._history] = 0
        self._in_count = 0
        self._out_count = 0
        # Up: drop the first `delay` outputs. Down: first output is centred on input 0.
        self._skip = self._delay if self._up > 1 and self._compensate else 0
        self._phase = self._delay if self._down > 1 and self._compensate else 0

    @property
    def delay_samples(self) -> int:
        """Return the lookahead held back until flush, in input samples."""
        return math.ceil(self._delay / self._up)

    def _filter(self, plan: _Plan, samples: PcmArray | FloatArray) -> None:
        """Append `samples` to the history and fill `plan.output`."""
        plan.tail[...] = samples
        np.dot(plan.windows, self._matrix, out=plan.output_blocks)
        if plan.rest:
            np.dot(plan.rest_windows, plan.rest_matrix, out=plan.rest_output)
        plan.head[...] = plan.moved
        self._phase = plan.next_phase

    def _run(self, samples: PcmArray | FloatArray) -> FloatArray:
        """Filter any chunk, making a new plan if needed; return its float outputs."""
        count = len(samples)
        history = self._history
        start = self._phase
        positions = len(range(start, count, self._down))
        if not positions:
            # Too few samples for a (decimated) output: they only join the history.
            self._phase -= count
            if count:
                self._work[:history] = np.concatenate(
                    [self._work[count:history], samples]
                )
            return np.zeros(0)
        plan = self._plan
        if plan is None or plan.count != count or plan.start != start:
            if len(self._work) != history + count:
                work = np.zeros(history + count)
                work[:history] = self._work[:history]
                self._work = work
            plan = self._plan = _Plan(
                self._work,
                count=count,
                start=start,
                positions=positions,
                matrix=self._matrix,
                kernel_shape=self._kernel_shape,
                step=self._down,
            )
        self._filter(plan, samples)
        out = plan.output
        if self._skip:
            skipped = min(self._skip, len(out))
            out = out[skipped:]
            self._skip -= skipped
        return out

    def process(self, pcm: bytes) -> bytes:
        """Resample a chunk of 16-bit PCM; output lags by `delay_samples` until flush."""
        if self.in_rate == self.out_rate:
            return pcm
        samples = np.frombuffer(pcm, dtype="<i2", count=len(pcm) // 2)
        count = len(samples)
        self._in_count += count
        plan = self._plan
        if (
            plan is None
            or plan.count != count
            or plan.start != self._phase
            or self._skip
        ):
            out = self._run(samples)
            self._out_count += len(out)
            return _to_pcm(out)
        # The steady state of a stream: same frame size, same phase, everything reused.
        self._filter(plan, samples)
        out = plan.output
        self._out_count += len(out)
        np.rint(out, out=out)
        np.minimum(out, plan.high, out=out)
        np.maximum(out, plan.low, out=out)
        pcm16 = plan.pcm
        pcm16[...] = out
        return pcm16.tobytes()

    def flush(self) -> bytes:
        """Return the held-back tail (input padded with silence) and reset the state."""
        if self.in_rate == self.out_rate or self._in_count == 0:
            self._reset()
            return b""
        total = -(-self._in_count * self._up // self._down)
        out = self._run(np.zeros(self.delay_samples + self._down))
        pcm = _to_pcm(out[: max(0, total - self._out_count)])
        self._reset()
        return pcm


def _to_pcm(samples: FloatArray) -> bytes:
    """Round and clip float samples (in place: they are scratch) to 16-bit little-endian PCM."""
    low, high = _bounds(len(samples))
    np.rint(samples, out=samples)
    np.minimum(samples, high, out=samples)
    np.maximum(samples, low, out=samples)
    return samples.astype("<i2").tobytes()


def resample(pcm: bytes, in_rate: int, out_rate: int) -> bytes:
    """Resample a whole 16-bit PCM buffer; output length is input length times the ratio."""
    resampler = Resampler(in_rate, out_rate)
    return resampler.process(pcm) + resampler.flush()
