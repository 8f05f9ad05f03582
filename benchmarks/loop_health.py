"""Loop health: how long any path of the integration keeps Home Assistant's event loop from running.

Run: `.venv/bin/python -m pytest benchmarks/loop_health.py -q -s -p no:cacheprovider`
(`LOOP_HEALTH_DEBUG=1` also turns on asyncio's debug mode and lists its slow callbacks, > 5 ms;
debug mode slows everything, so the figures without it are the ones to quote.)

Real Home Assistant (the test harness, asyncio debug mode off as in production) with the
integration runs the config flow, an unload and a setup, a reload, an options change that turns
every feature on, and a whole call: the emulator rings (a speaking visitor), a test Assist
satellite answers the door and relays, the call is recorded, a speaker listens to the WAV
stream, Assist runs on the call, the card's WebSocket audio streams and talks back, TTS plays
into the call through the media player, DTMF goes out and the call is hung up. The emulator runs
in its own process, so its work does not land on Home Assistant's loop (the harness's own
clients, the scripted satellite and the test voice still do, and are reported as theirs). A 1 ms
ticker measures the loop's lateness; the loop's stack is sampled during each stall
(benchmarks/loop_monitor.py) and the report blames each stall on the code that caused it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
import logging
import os
from pathlib import Path
import re
import subprocess
import sys
from typing import Any

import aiohttp
import pytest
from pytest_homeassistant_custom_component.typing import (
    MockHAClientWebSocket,
    WebSocketGenerator,
)

from benchmarks.loop_monitor import LoopMonitor, report
from custom_components.cloud_sip_ua.config_flow import _OPTION_DEFAULTS
from custom_components.cloud_sip_ua.const import (
    CONF_API_BASE_URL,
    CONF_ASSIST,
    CONF_CALLBACK_PUBLIC_KEY,
    CONF_DOMAIN,
    CONF_DOOR_CODE,
    CONF_DOOR_SATELLITES,
    CONF_DOOR_TTS,
    CONF_LISTEN_FORMAT,
    CONF_MEDIA_ADDRESS,
    CONF_PRIVATE_KEY,
    CONF_RECORD_ALL_CALLS,
    CONF_RTP_PORT_MAX,
    CONF_RTP_PORT_MIN,
    CONF_WEBHOOK_ID,
    DOMAIN,
    SECTION_ADVANCED,
)
from emulator.audio import read_wav
from homeassistant import config_entries
from homeassistant.components import tts
from homeassistant.components.media_player.const import (
    ATTR_MEDIA_CONTENT_ID,
    ATTR_MEDIA_CONTENT_TYPE,
    DOMAIN as MP_DOMAIN,
    SERVICE_PLAY_MEDIA,
)
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from tests.audio_check import tone_pcm, wav_bytes
from tests.integration.assist_providers import async_setup_doorstep_pipeline
from tests.integration.conftest import TENANT
from tests.integration.helpers import action, entity_id
from tests.integration.satellite import ScriptedSatellite, async_setup_satellites
from tests.integration.speaker import SPEAKER_ENTITY_ID, async_setup_speaker
from tests.integration.tts_provider import TTS_ENTITY_ID
from tests.library.conftest import KeyPair

REPO = Path(__file__).resolve().parent.parent
DEBUG = os.environ.get("LOOP_HEALTH_DEBUG") == "1"
SATELLITE = "assist_satellite.test_satellite_a"
SPEECH = REPO / "tests" / "integration" / "fixtures" / "parcel.wav"
# How long every stream runs at once in the middle of the call.
STREAMS_SECONDS = 8.0
FRAME_BYTES = 320  # 20 ms of 8 kHz 16-bit PCM


async def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait until a condition holds."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


def _state(hass: HomeAssistant, entity: str) -> str:
    """Return an entity's state."""
    state = hass.states.get(entity)
    assert state is not None
    return state.state


@pytest.fixture(autouse=True)
async def enable_event_loop_debug() -> None:
    """Run the loop as production does: without asyncio's debug mode (the harness turns it on)."""
    loop = asyncio.get_running_loop()
    loop.set_debug(DEBUG)
    loop.slow_callback_duration = 0.005


class EmulatorProcess:
    """The emulator in its own process, driven over its control API."""

    def __init__(self, process: subprocess.Popen[str], base_url: str) -> None:
        """Take the running process and its URL."""
        self.process = process
        self.base_url = base_url
        self.session: aiohttp.ClientSession | None = None

    async def _json(self, method: str, path: str, **body: Any) -> Any:
        """Send a control request and return its JSON answer."""
        if self.session is None:
            self.session = aiohttp.ClientSession()
        async with self.session.request(
            method, f"{self.base_url}/control{path}", json=body or None
        ) as response:
            assert response.status < 300, await response.text()
            return await response.json()

    async def ring(self, **body: Any) -> dict[str, Any]:
        """Start an incoming call."""
        call: dict[str, Any] = await self._json("POST", "/ring", **body)
        return call

    async def call(self, call_id: str) -> dict[str, Any]:
        """Return the call as the emulator sees it."""
        call: dict[str, Any] = await self._json("GET", f"/calls/{call_id}")
        return call

    async def wait_for_state(
        self, call_id: str, state: str, timeout: float = 15.0
    ) -> dict[str, Any]:
        """Poll until the call reaches `state`."""
        async with asyncio.timeout(timeout):
            while (call := await self.call(call_id))["state"] != state:
                await asyncio.sleep(0.05)
        return call

    async def close(self) -> None:
        """Close the control session."""
        if self.session is not None:
            await self.session.close()


@pytest.fixture
async def emulator_process(
    tmp_path: Path, api_keys: KeyPair, callback_keys: KeyPair
) -> AsyncIterator[EmulatorProcess]:
    """Start `python -m emulator` on a free loopback port with the test keys."""
    api_public = tmp_path / "api_public.pem"
    api_public.write_bytes(api_keys.public_pem)
    signing = tmp_path / "callback_signing.pem"
    signing.write_bytes(callback_keys.private_pem)
    with (tmp_path / "emulator.log").open("w") as log:
        process = subprocess.Popen(  # noqa: ASYNC220 - before the measurement starts
            [
                sys.executable,
                "-m",
                "emulator",
                "--port",
                "0",
                "--domain",
                TENANT,
                "--api-public-key",
                str(api_public),
                "--callback-signing-key",
                str(signing),
                "--state-dir",
                str(tmp_path / "emulator"),
                "--ring-timeout",
                "30",
                "--log-level",
                "WARNING",
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    assert process.stdout is not None
    base_url = ""
    for line in process.stdout:
        if found := re.search(r"API base URL: (\S+)", line):
            base_url = found.group(1)
            break
    assert base_url, "the emulator did not start"
    emulator = EmulatorProcess(process, base_url)
    yield emulator
    await emulator.close()
    process.terminate()
    process.wait(10)
    process.stdout.close()


@pytest.fixture
def media_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """Point the local media folder (where recordings go) at the test's folder."""
    folder = tmp_path / "media"
    hass.config.media_dirs["local"] = str(folder)
    return folder


@pytest.fixture
def monitor(hass: HomeAssistant) -> Iterator[LoopMonitor]:
    """Watch Home Assistant's loop for the whole test."""
    watch = LoopMonitor(hass.loop)
    handler = watch.capture_slow_callbacks() if DEBUG else None
    watch.start()
    yield watch
    watch.stop()
    if handler is not None:
        logging.getLogger("asyncio").removeHandler(handler)


async def _create_entry(
    hass: HomeAssistant,
    emulator: EmulatorProcess,
    api_keys: KeyPair,
    callback_keys: KeyPair,
) -> ConfigEntry:
    """Go through the config flow with a private key; return the loaded entry."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "private_key"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_DOMAIN: TENANT,
            CONF_PRIVATE_KEY: api_keys.private_pem.decode(),
            CONF_CALLBACK_PUBLIC_KEY: callback_keys.public_pem.decode(),
            SECTION_ADVANCED: {CONF_API_BASE_URL: emulator.base_url},
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()
    entry: ConfigEntry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    return entry


async def _options_all_on(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Turn every feature on through the options flow (it reloads the entry)."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            **_OPTION_DEFAULTS,
            CONF_MEDIA_ADDRESS: "127.0.0.1",
            CONF_RTP_PORT_MIN: 41000,
            CONF_RTP_PORT_MAX: 41999,
            CONF_RECORD_ALL_CALLS: True,
            CONF_LISTEN_FORMAT: "wav",
            CONF_ASSIST: True,
            CONF_DOOR_SATELLITES: [SATELLITE],
            CONF_DOOR_CODE: "1#",
            CONF_DOOR_TTS: TTS_ENTITY_ID,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def _card_audio(
    client: MockHAClientWebSocket, entry: ConfigEntry, frames: list[int]
) -> tuple[int, asyncio.Task[None]]:
    """Subscribe to the call's audio as the card does; count its frames in `frames[0]`.

    Return the binary handler id (for talking) and the task that reads until the end event.
    """
    await client.send_json_auto_id(
        {"type": f"{DOMAIN}/audio/subscribe", "entry_id": entry.entry_id}
    )
    result = await client.receive_json()
    assert result["success"], result
    start = await client.receive_json()
    assert start["event"]["type"] == "start"

    async def receive() -> None:
        while (await client.receive_json())["event"]["type"] != "end":
            frames[0] += 1

    handler: int = start["event"]["binary_handler_id"]
    return handler, asyncio.get_running_loop().create_task(receive())


async def _talk(client: MockHAClientWebSocket, handler: int, seconds: float) -> None:
    """Send microphone frames as the browser does: one binary message per 20 ms."""
    pcm = tone_pcm(1000.0, seconds)
    loop = asyncio.get_running_loop()
    start = loop.time()
    for index in range(0, len(pcm), FRAME_BYTES):
        await client.send_bytes(bytes([handler]) + pcm[index : index + FRAME_BYTES])
        await asyncio.sleep(
            max(0.0, start + (index // FRAME_BYTES + 1) * 0.02 - loop.time())
        )


async def test_loop_health(  # noqa: PLR0917 - fixtures
    hass: HomeAssistant,
    ha_base_url: str,
    api_keys: KeyPair,
    callback_keys: KeyPair,
    emulator_process: EmulatorProcess,
    hass_ws_client: WebSocketGenerator,
    media_dir: Path,
    tmp_path: Path,
    monitor: LoopMonitor,
) -> None:
    """Print the loop's lateness per phase, its top offenders and the integration's worst."""
    emulator = emulator_process
    speech, _rate = read_wav(SPEECH)
    visitor = tmp_path / "visitor.wav"
    visitor.write_bytes(wav_bytes(speech + bytes(8000 * 2 * 3), 8000))

    with monitor.phase("config flow (+ first setup)"):
        entry = await _create_entry(hass, emulator, api_keys, callback_keys)
    with monitor.phase("unload"):
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
    with monitor.phase("setup"):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()

    # The test's satellite, voice, STT, agent and speaker (not measured).
    satellite = ScriptedSatellite("a")
    satellite.replies.extend(["answer", "Please leave it at the door", "open the door"])
    await async_setup_satellites(hass, satellite)
    ears, keeper = await async_setup_doorstep_pipeline(hass)
    speaker = await async_setup_speaker(hass)

    with monitor.phase("reload"):
        assert await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
    with monitor.phase("options: every feature on"):
        await _options_all_on(hass, entry)

    manager = entry.runtime_data.manager
    webhook = f"{ha_base_url}/api/cloud_sip_ua/{entry.data[CONF_WEBHOOK_ID]}"
    client = await hass_ws_client(hass)
    ws_frames = [0]
    with monitor.phase("call: ring, satellite answers"):
        call = await emulator.ring(wav_path=str(visitor), callback_base_url=webhook)
        await emulator.wait_for_state(call["call_id"], "connected")
        await wait_for(
            lambda: (
                manager.current_call is not None
                and manager.current_call.state == "connected"
            ),
            timeout=10,
        )
    # One action per phase, apart: eager tasks would run them all in one go of the loop.
    with monitor.phase("call: start_assist"):
        await hass.services.async_call(
            DOMAIN,
            "start_assist",
            {ATTR_ENTITY_ID: entity_id(hass, "assist_satellite", "assist")},
            blocking=True,
            return_response=True,
        )
    await asyncio.sleep(0.05)
    with monitor.phase("call: start_recording"):
        await action(hass, "start_recording")
    await asyncio.sleep(0.05)
    with monitor.phase("call: listen on a speaker"):
        await action(hass, "listen", media_player_entity_id=SPEAKER_ENTITY_ID)
    await asyncio.sleep(0.05)
    with monitor.phase("call: card audio subscribe"):
        handler, card_stream = await _card_audio(client, entry, ws_frames)
    with monitor.phase("call: streams, relay, Assist"):
        await _talk(client, handler, 2.0)
        await asyncio.sleep(STREAMS_SECONDS - 2.0)
    player = entity_id(hass, "media_player", "call_audio")
    with monitor.phase("call: TTS into the call"):
        await hass.services.async_call(
            MP_DOMAIN,
            SERVICE_PLAY_MEDIA,
            {
                ATTR_ENTITY_ID: player,
                ATTR_MEDIA_CONTENT_ID: tts.generate_media_source_id(
                    hass, "Hello from the benchmark", engine=TTS_ENTITY_ID
                ),
                ATTR_MEDIA_CONTENT_TYPE: "music",
            },
            blocking=True,
        )
        await wait_for(lambda: _state(hass, player) != "playing", timeout=10)
    with monitor.phase("call: DTMF"):
        await action(hass, "send_dtmf", digits="1234#")
    with monitor.phase("call: hang up"):
        await action(hass, "hang_up")
        ended = await emulator.wait_for_state(call["call_id"], "ended")
        await wait_for(speaker.finished.is_set, timeout=5)
        async with asyncio.timeout(5):
            await card_stream
        await wait_for(lambda: not entry.runtime_data.intercom.door_calls)
        await wait_for(lambda: not entry.runtime_data.intercom.assist_active)
        await hass.async_block_till_done()
    monitor.stop()

    recordings = list((media_dir / DOMAIN).glob("*.wav"))
    print(report(monitor))
    print(
        f"exercised: recording {sum(p.stat().st_size for p in recordings)} bytes, "
        f"listen {len(speaker.received)} bytes, card audio {ws_frames[0]} messages, "
        f"satellite played {len(satellite.played)}, Assist turns {len(keeper.heard)} "
        f"(STT streams {len(ears.streams)}), DTMF heard by the far end "
        f"{''.join(ended['dtmf_received'])!r}; debug mode {'on' if DEBUG else 'off'}"
    )
    assert recordings and recordings[0].stat().st_size > 44
    assert len(speaker.received) > 44
    assert ws_frames[0] > 0
    assert "1234#" in "".join(ended["dtmf_received"])
    await hass.config_entries.async_unload(entry.entry_id)
