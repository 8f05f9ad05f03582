"""Audio checks for tests: the loudest frequency of a recording and its signal-to-noise ratio."""

from __future__ import annotations

import numpy as np

from emulator.audio import to_wav


def tone_report(pcm: bytes, sample_rate: int = 8000) -> tuple[float, float]:
    """Return (peak frequency in Hz, SNR in dB of the peak's +-3 bins against everything else)."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    if samples.size < 256:
        return 0.0, float("-inf")
    window = np.hanning(samples.size)
    power = np.abs(np.fft.rfft((samples - samples.mean()) * window)) ** 2
    power[:3] = 0.0  # DC and the window's skirt around it
    peak = int(np.argmax(power))
    band = power[max(peak - 3, 0) : peak + 4].sum()
    rest = power.sum() - band
    frequency = peak * sample_rate / samples.size
    snr = 10 * np.log10(band / rest) if rest > 0 else float("inf")
    return frequency, float(snr)


def tone_pcm(
    frequency: float, seconds: float, sample_rate: int = 8000, level: float = 0.5
) -> bytes:
    """Return a sine tone as 16-bit little-endian PCM."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return (np.sin(2 * np.pi * frequency * t) * level * 32767).astype("<i2").tobytes()


def wav_bytes(pcm: bytes, sample_rate: int) -> bytes:
    """Wrap PCM in a WAV container (the emulator's writer, so there is one)."""
    return to_wav(pcm, sample_rate)
