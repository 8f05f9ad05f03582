"""The browser test's page server, fake microphone, and the delay analysis of what it captured."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
import json
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, web
import numpy as np

from custom_components.cloud_sip_ua.http.card import CARD_URL, FRONTEND_URL
from tests.audio_check import wav_bytes

PAGE_DIR = Path(__file__).parent / "page"
MIC_RATE = 48000
MIC_TONE_HZ = 1000.0
BURST_SECONDS = 0.3  # the fake microphone's tone is on and off in turn: onsets to time
WIRE_RATE = 8000


def microphone_wav() -> bytes:
    """Return the fake microphone's recording: 1 kHz bursts with soft 2 ms edges, then silence."""
    n = int(BURST_SECONDS * MIC_RATE)
    t = np.arange(n) / MIC_RATE
    tone = 0.1 * np.sin(2 * np.pi * MIC_TONE_HZ * t)
    ramp = int(0.002 * MIC_RATE)
    envelope = np.ones(n)
    envelope[:ramp] = np.linspace(0, 1, ramp)
    envelope[-ramp:] = np.linspace(1, 0, ramp)
    period = np.concatenate([tone * envelope, np.zeros(n)])
    return wav_bytes((period * 32767).astype("<i2").tobytes(), MIC_RATE)


@asynccontextmanager
async def page_server(ha_base_url: str, setup: dict[str, Any]) -> AsyncIterator[str]:
    """Serve the test page on loopback; the card's modules are passed through from Home Assistant.

    Same origin for the page and the modules: the entry's relative imports resolve as in a dashboard.
    """
    page = (
        (PAGE_DIR / "index.html")
        .read_text(encoding="utf-8")
        .replace("__SETUP__", json.dumps(setup))
        .replace("__CARD_URL__", CARD_URL)
    )
    harness = (PAGE_DIR / "harness.js").read_bytes()

    async def index(_request: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html")

    async def module(request: web.Request) -> web.Response:
        async with session.get(f"{ha_base_url}{request.path_qs}") as response:
            return web.Response(
                status=response.status,
                body=await response.read(),
                content_type=response.content_type,
            )

    async def helper(_request: web.Request) -> web.Response:
        return web.Response(body=harness, content_type="application/javascript")

    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_get(f"{FRONTEND_URL}/{{name}}", module)
    app.router.add_get("/harness.js", helper)
    runner = web.AppRunner(app, access_log=None)
    async with ClientSession() as session:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # noqa: SLF001
        try:
            yield f"http://127.0.0.1:{port}/"
        finally:
            await runner.cleanup()


def onsets(samples: np.ndarray, level: float, quiet: int) -> list[int]:
    """Return the indices where |x| first exceeds `level` after at least `quiet` samples below it."""
    loud = np.flatnonzero(np.abs(samples) > level)
    found: list[int] = []
    previous = -quiet - 1
    for index in loud:
        if index - previous > quiet:
            found.append(int(index))
        previous = index
    return found


@dataclass(frozen=True)
class DelayReport:
    """Mouth-to-ear delays from the page's microphone to the emulator's recording."""

    delays_ms: list[float]
    ear_onsets: list[int]  # where tone bursts start in the recording (sample index)

    @property
    def median_ms(self) -> float:
        """Return the median delay."""
        return float(np.median(self.delays_ms))


def measure_delays(
    mic_log: Sequence[Sequence[Any]],
    recording: bytes,
    arrivals: Sequence[tuple[float, int]],
) -> DelayReport:
    """Match tone onsets the page captured (while talking) with their arrival in the recording.

    `mic_log` rows are [wall-clock ms of the frame's first sample, talking, samples]; `arrivals`
    are (wall-clock seconds, recording length in bytes) noted as the recording grew.
    """
    page_times: list[float] = []
    page_samples: list[np.ndarray] = []
    for first_at, talking, frame in mic_log:
        if talking:
            page_times.append(first_at)
            page_samples.append(np.asarray(frame, dtype=np.float64))
    if not page_samples:
        return DelayReport([], [])
    page = np.concatenate(page_samples)
    page_level = 0.3 * np.abs(page).max()
    mouth: list[float] = []
    for index in onsets(page, page_level, quiet=int(0.1 * WIRE_RATE)):
        frame, offset = divmod(index, 160)
        if offset == 0 and (
            frame == 0 or page_times[frame] - page_times[frame - 1] > 25
        ):
            continue  # talking started in the middle of a burst: not an onset of the tone
        mouth.append(page_times[frame] + offset / WIRE_RATE * 1000)

    heard = np.frombuffer(recording, dtype="<i2").astype(np.float64)
    ear: list[float] = []
    ear_onsets = onsets(heard, 0.3 * np.abs(heard).max(), quiet=int(0.1 * WIRE_RATE))
    for index in ear_onsets:
        frame_end = (index // 160 + 1) * 320
        arrived = next((when for when, length in arrivals if length >= frame_end), None)
        if arrived is not None:
            ear.append(arrived * 1000 + (index % 160) / WIRE_RATE * 1000)

    delays = []
    for said in mouth:
        later = [when - said for when in ear if 0 <= when - said < BURST_SECONDS * 1000]
        if later:
            delays.append(min(later))
    return DelayReport(delays, ear_onsets)
