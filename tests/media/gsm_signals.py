"""Test signals for the GSM codec: speech-like, tones, silence, noise and clipping, 8 kHz int16."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

RATE = 8000
type Signal = npt.NDArray[np.float64]


def _resonator(frequency: float, bandwidth: float, taps: int = 256) -> Signal:
    """Return the truncated impulse response of a two-pole formant resonator."""
    radius = np.exp(-np.pi * bandwidth / RATE)
    omega = 2 * np.pi * frequency / RATE
    n = np.arange(taps)
    response: Signal = radius**n * np.sin(omega * (n + 1)) / np.sin(omega)
    return response


def speech_like(rng: np.random.Generator, seconds: float) -> Signal:
    """Return formant-filtered pulse trains with gliding pitch, noise bursts and syllable rhythm."""
    total = int(seconds * RATE)
    out = np.zeros(total + 3000)
    position = 0
    while position < total:
        length = int(rng.integers(400, 1600))  # 50-200 ms "phonemes"
        if rng.random() < 0.8:  # voiced: a glottal pulse train whose pitch glides
            pitch = np.linspace(rng.uniform(70, 320), rng.uniform(70, 320), length)
            phase = np.cumsum(pitch / RATE)
            excitation = np.diff(np.floor(phase), prepend=np.floor(phase[0]))
        else:  # unvoiced: noise
            excitation = rng.normal(0, 0.3, length)
        kernel = np.array([1.0])
        for low, high in ((250, 900), (800, 2400), (2000, 3600)):
            kernel = np.convolve(
                kernel, _resonator(rng.uniform(low, high), rng.uniform(60, 300))
            )
        piece = np.convolve(excitation, kernel)[: length + 1024]
        envelope = np.sin(np.linspace(0, np.pi, length)) ** 2
        piece[:length] *= envelope
        piece[length:] *= 0.0
        level = rng.choice([300.0, 3000.0, 12000.0, 30000.0])
        peak = np.abs(piece).max() or 1.0
        out[position : position + piece.size] += piece / peak * level
        position += length
    return out[:total]


def tones(rng: np.random.Generator, seconds: float) -> Signal:
    """Return sweeps, steady and dual tones from a whisper to beyond full scale (clipped later)."""
    parts = []
    t = np.arange(int(RATE)) / RATE
    for _ in range(int(seconds)):
        kind = rng.integers(0, 3)
        level = rng.choice([20.0, 800.0, 8000.0, 32767.0, 40000.0])
        if kind == 0:
            start, stop = rng.uniform(50, 3900, 2)
            phase = 2 * np.pi * np.cumsum(np.linspace(start, stop, t.size)) / RATE
            parts.append(level * np.sin(phase))
        elif kind == 1:
            parts.append(level * np.sin(2 * np.pi * rng.uniform(50, 3900) * t))
        else:
            low, high = rng.uniform(600, 1000), rng.uniform(1200, 1700)
            parts.append(
                level / 2 * (np.sin(2 * np.pi * low * t) + np.sin(2 * np.pi * high * t))
            )
    return np.concatenate(parts)


def quiet(rng: np.random.Generator, seconds: float) -> Signal:
    """Return digital silence, +-1 dither and constant offsets, a second of each in turn."""
    parts = []
    for second in range(int(seconds)):
        kind = second % 4
        if kind == 0:
            parts.append(np.zeros(RATE))
        elif kind == 1:
            parts.append(rng.integers(-1, 2, RATE).astype(np.float64))
        elif kind == 2:
            parts.append(np.full(RATE, rng.choice([-32768.0, -1000.0, 7.0, 32767.0])))
        else:
            parts.append(np.zeros(RATE) + (rng.random(RATE) < 0.001) * 32767.0)
    return np.concatenate(parts)


def full_scale_noise(rng: np.random.Generator, seconds: float) -> Signal:
    """Return uniform noise over the whole 16-bit range, then loud clipped Gaussian noise."""
    half = int(seconds * RATE) // 2
    return np.concatenate(
        [rng.integers(-32768, 32768, half), rng.normal(0, 20000, half)]
    )


def square_waves(rng: np.random.Generator, seconds: float) -> Signal:
    """Return a step from a held minimum to full scale, then clipping square waves."""
    # After a second at the minimum the offset filter has settled, so the step drives the
    # pre-processed signal to 32760+, where libgsm's autocorrelation scaling wraps in 16 bits.
    parts = [np.full(RATE, -32768.0), np.full(RATE // 2, 32767.0)]
    t = np.arange(RATE // 2) / RATE
    for _ in range(int(seconds * 2) - 3):
        frequency = rng.uniform(40, 3000)
        parts.append(
            np.where(np.sin(2 * np.pi * frequency * t) >= 0, 32767.0, -32768.0)
        )
    return np.concatenate(parts)


def to_pcm(signal: Signal) -> bytes:
    """Clip to 16 bits and return little-endian PCM."""
    return np.clip(np.round(signal), -32768, 32767).astype("<i2").tobytes()


def varied_stream(seed: int = 1406) -> bytes:
    """Return 64 s of mixed material in shuffled 4-second blocks, as one PCM stream."""
    rng = np.random.default_rng(seed)
    makers = [speech_like] * 6 + [tones] * 3 + [quiet] * 2 + [full_scale_noise] * 3
    makers += [square_waves] * 2
    order = rng.permutation(len(makers))
    return b"".join(to_pcm(makers[index](rng, 4.0)) for index in order)


def frames(pcm: bytes, size: int = 320) -> list[bytes]:
    """Split a byte string into equal frames."""
    return [pcm[start : start + size] for start in range(0, len(pcm), size)]


def framewise_tone_snr(pcm: bytes, frequency: float) -> npt.NDArray[np.float64]:
    """Return the SNR (dB) of each 20 ms frame against its own least-squares fit of the tone."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    count = samples.size // 160
    t = np.arange(160) / RATE
    basis = np.stack(
        [
            np.sin(2 * np.pi * frequency * t),
            np.cos(2 * np.pi * frequency * t),
            np.ones(160),
        ],
        axis=1,
    )
    blocks = samples[: count * 160].reshape(count, 160).T
    fit = basis @ np.linalg.lstsq(basis, blocks, rcond=None)[0]
    noise = ((blocks - fit) ** 2).sum(axis=0)
    snr: npt.NDArray[np.float64] = 10 * np.log10(
        (fit**2).sum(axis=0) / np.maximum(noise, 1e-9)
    )
    return snr
