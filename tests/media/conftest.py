"""Fixtures for the media stack tests: port ranges, session factories and signal helpers."""

from collections.abc import AsyncIterator, Awaitable, Callable
import random
from typing import Any

import numpy as np
import pytest

from custom_components.cloud_sip_ua.cloudsipua.media import MediaSession
from custom_components.cloud_sip_ua.cloudsipua.models import Codec

type SessionFactory = Callable[..., Awaitable[MediaSession]]


def tone_pcm(freq: float, rate: int, seconds: float, amplitude: float = 8000) -> bytes:
    """Return a sine tone as 16-bit little-endian PCM."""
    t = np.arange(int(rate * seconds)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype("<i2").tobytes()


def tone_snr(pcm: bytes, rate: int, freq: float, tolerance: float = 10) -> float:
    """Return the SNR (dB) of a tone at `freq` +- `tolerance` Hz, measured with an FFT."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples)))) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / rate)
    band = np.abs(freqs - freq) <= tolerance
    signal = spectrum[band].sum()
    return float(10 * np.log10(signal / max(spectrum.sum() - signal, 1e-12)))


@pytest.fixture
def port_range() -> tuple[int, int]:
    """Return a random 400-port range, so parallel test runs rarely share ports."""
    base = random.randrange(30000, 59000, 2)
    return base, base + 400


@pytest.fixture
async def make_session(port_range: tuple[int, int]) -> AsyncIterator[SessionFactory]:
    """Create started sessions on 127.0.0.1 and close them all afterwards."""
    sessions: list[MediaSession] = []

    async def factory(**kwargs: Any) -> MediaSession:
        kwargs.setdefault("codec", Codec.PCMA)
        kwargs.setdefault("bind_host", "127.0.0.1")
        kwargs.setdefault("port_range", port_range)
        session = MediaSession(**kwargs)
        sessions.append(session)
        await session.start()
        return session

    yield factory
    for session in sessions:
        await session.close()
