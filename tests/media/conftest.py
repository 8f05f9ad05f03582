"""Fixtures for the media stack tests: port ranges, session factories and signal helpers."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import random
from typing import Any

import numpy as np
import pytest

from custom_components.cloud_sip_ua.cloudsipua.media import MediaSession
from custom_components.cloud_sip_ua.cloudsipua.media.clock import (
    FRAME_SECONDS,
    ManualClock,
    sleep,
)
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


async def settle() -> None:
    """Let the loop deliver the datagrams already sent over loopback (no wall time passes)."""
    for _ in range(4):
        await asyncio.sleep(0)


async def run_for(clock: ManualClock, seconds: float) -> None:
    """Move virtual time forward in 20 ms steps, delivering datagrams after each step."""
    for _ in range(round(seconds / FRAME_SECONDS)):
        clock.advance(FRAME_SECONDS)
        await settle()


async def run_until(
    clock: ManualClock, condition: Callable[[], bool], limit: float = 10.0
) -> None:
    """Move virtual time in 20 ms steps until `condition` holds (fail after `limit` seconds)."""
    for _ in range(round(limit / FRAME_SECONDS)):
        if condition():
            return
        clock.advance(FRAME_SECONDS)
        await settle()
    assert condition(), f"not within {limit} s of virtual time"


@pytest.fixture
def clock() -> ManualClock:
    """Return a virtual clock that moves only when a test advances it."""
    return ManualClock()


async def wait(clock: ManualClock, seconds: float) -> None:
    """Wait `seconds` of virtual time (the `running_clock` fixture moves it)."""
    await sleep(clock, seconds)


@pytest.fixture
async def running_clock(clock: ManualClock) -> AsyncIterator[ManualClock]:
    """Return a virtual clock that runs 20 ms per few loop iterations, as fast as the loop goes.

    Tests that await media (a subscription's frames, a DTMF send) then need no wall time: the
    sessions' timers fire in order, and datagrams are delivered between the steps.
    """

    async def drive() -> None:
        while True:
            clock.advance(FRAME_SECONDS)
            await settle()

    task = asyncio.create_task(drive())
    yield clock
    task.cancel()


@pytest.fixture
async def make_virtual_session(
    make_session: SessionFactory, running_clock: ManualClock
) -> SessionFactory:
    """Create started sessions on the running virtual clock."""

    async def factory(**kwargs: Any) -> MediaSession:
        kwargs.setdefault("clock", running_clock)
        return await make_session(**kwargs)

    return factory


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
