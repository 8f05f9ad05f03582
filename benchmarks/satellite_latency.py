"""Door on an Assist satellite: utterance end -> clip on the satellite, reply text -> audio in the call.

Run: `.venv/bin/python -m pytest benchmarks/satellite_latency.py -q -s -p no:cacheprovider`
Everything on loopback in one process: the emulator's caller says tone bursts, the scripted
satellite fetches each clip over Home Assistant's HTTP server and answers at once, the test voice
says each reply (a 1 kHz tone) and the emulator's far end hears it.
"""

from __future__ import annotations

import asyncio
import statistics
import time

import numpy as np
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.cloud_sip_ua.intercom.utterance import HANGOVER_SECONDS
from emulator import Emulator
from homeassistant.core import HomeAssistant
from tests.integration.conftest import emulator_options  # noqa: F401  # fixture
from tests.integration.satellite import ScriptedSatellite
from tests.integration.test_satellite_intercom import (  # noqa: F401  # fixtures by name
    caller_voice,
    door_of,
    door_options,
    mock_config_entry,
    satellites,
)
from tests.integration.tts_provider import TTS_TONE_HZ

ROUNDS = 8
CHUNK = 160  # 20 ms at 8 kHz


def _is_reply(chunk: bytes) -> bool:
    """Return whether 20 ms of call audio is mostly the test voice's 1 kHz tone."""
    samples = np.frombuffer(chunk, dtype="<i2").astype(np.float64)
    if np.sqrt(np.mean(samples * samples)) < 1000:
        return False
    power = np.abs(np.fft.rfft(samples)) ** 2
    freqs = np.fft.rfftfreq(samples.size, 1 / 8000)
    return bool(power[np.abs(freqs - TTS_TONE_HZ) < 100].sum() > 0.6 * power.sum())


async def _watch_replies(
    call: object, onsets: list[float], stop: asyncio.Event
) -> None:
    """Note when each reply starts to arrive at the caller (polled every 5 ms)."""
    seen = 0
    in_reply = False
    while not stop.is_set():
        pcm = call.remote_party.recorded_pcm()  # type: ignore[attr-defined]
        while seen + CHUNK * 2 <= len(pcm):
            reply = _is_reply(pcm[seen : seen + CHUNK * 2])
            if reply and not in_reply:
                onsets.append(time.monotonic())
            in_reply = reply
            seen += CHUNK * 2
        await asyncio.sleep(0.005)


def _report(name: str, values: list[float]) -> None:
    """Print median, min and max in milliseconds."""
    ms = [v * 1000 for v in values]
    print(  # noqa: T201
        f"{name}: median {statistics.median(ms):.0f} ms, "
        f"min {min(ms):.0f} ms, max {max(ms):.0f} ms (n={len(ms)})"
    )


async def test_satellite_latency(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    satellites: tuple[ScriptedSatellite, ScriptedSatellite],  # noqa: F811
) -> None:
    """Print the two latencies of the relay over ROUNDS turns."""
    sat, _other = satellites
    sat.replies.extend(["answer", *[f"reply {n}" for n in range(ROUNDS)], "hang up"])
    call = await emulator.ring(wav=caller_voice(burst=0.6, pause=2.0))
    door = await door_of(init_integration)
    onsets: list[float] = []
    stop = asyncio.Event()
    watcher = asyncio.create_task(_watch_replies(call, onsets, stop))
    await emulator.wait_for_state(call.call_id, "ended", timeout=120)
    stop.set()
    await watcher

    clips = [p for p in sat.played[1:] if p.kind == "question"]
    ends = door.timings.utterance_ends
    assert len(clips) == len(ends) == ROUNDS + 1
    # The cut comes HANGOVER_SECONDS after the caller's last sound (frames arrive in real time).
    _report(
        "caller's last sound -> clip fetched by the satellite",
        [
            clip.fetched_at - end + HANGOVER_SECONDS
            for clip, end in zip(clips, ends, strict=True)
        ],
    )
    _report(
        "utterance end -> satellite requests the clip",
        [clip.requested_at - end for clip, end in zip(clips, ends, strict=True)],
    )
    _report(
        "utterance end -> clip fetched by the satellite",
        [clip.fetched_at - end for clip, end in zip(clips, ends, strict=True)],
    )
    replies = sat.replied_at[1 : ROUNDS + 1]
    heard = [min(t for t in onsets if t > reply) - reply for reply in replies]
    _report("reply text -> first reply audio at the caller", heard)
