"""Answering the door from Assist satellites: ring, question, relay both ways, commands, reject.

The far end is the emulator's caller: tone bursts stand for utterances (the relay needs no
transcription, so the clip on the satellite must carry the caller's tone), and the reply is said
with the test voice, a 1 kHz tone the caller must hear. The satellite is a test entity that
fetches what it plays over HTTP and answers from a script.
"""

from __future__ import annotations

import asyncio
import io
from typing import Any
from unittest.mock import Mock, patch
import wave

import aiohttp
import numpy as np
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser

from custom_components.cloud_sip_ua.cloudsipua.exceptions import CallError
from custom_components.cloud_sip_ua.const import (
    CONF_DOOR_CODE,
    CONF_DOOR_SATELLITES,
    CONF_DOOR_TTS,
    CONF_MEDIA_ADDRESS,
    CONF_RTP_PORT_MAX,
    CONF_RTP_PORT_MIN,
    DOMAIN,
)
from custom_components.cloud_sip_ua.intercom import satellite_relay as relay
from custom_components.cloud_sip_ua.intercom.clips import clip_store, clip_url
from custom_components.cloud_sip_ua.intercom.controller import IntercomController
from custom_components.cloud_sip_ua.intercom.satellite_relay import (
    TURN_TONE_HZ,
    DoorSettings,
    SatelliteDoor,
    usable_satellites,
)
from emulator import Emulator
from homeassistant.auth.permissions import PolicyPermissions
from homeassistant.auth.permissions.models import PermissionLookup
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import (
    HomeAssistantError,
    ServiceValidationError,
    Unauthorized,
)
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.network import NoURLAvailableError
from tests.audio_check import tone_pcm, tone_report, wav_bytes
from tests.library.conftest import KeyPair
from tests.waiting import wait_until

from .assist_providers import async_setup_doorstep_pipeline
from .conftest import TENANT, entry_data
from .helpers import action
from .satellite import AnnounceOnlySatellite, ScriptedSatellite, async_setup_satellites
from .tts_provider import TTS_ENTITY_ID, TTS_TONE_HZ

RELAY = "custom_components.cloud_sip_ua.intercom.satellite_relay"
CLIPS = "custom_components.cloud_sip_ua.intercom.clips"
CALLER_TONE_HZ = 440.0
SAT_A = "assist_satellite.test_satellite_a"
SAT_B = "assist_satellite.test_satellite_b"
BURST_SECONDS = 0.8


def caller_voice(burst: float = BURST_SECONDS, pause: float = 2.5) -> bytes:
    """Return the caller's loop: a tone burst (an utterance), then a pause."""
    return wav_bytes(
        tone_pcm(CALLER_TONE_HZ, burst) + bytes(int(8000 * pause) * 2), 8000
    )


def clip_pcm(body: bytes) -> tuple[bytes, int]:
    """Return the samples and rate of a fetched WAV clip."""
    with wave.open(io.BytesIO(body), "rb") as wav:
        assert wav.getnchannels() == 1
        assert wav.getsampwidth() == 2
        return wav.readframes(wav.getnframes()), wav.getframerate()


def band_energy(pcm: bytes, hz: float, rate: int = 8000) -> float:
    """Return the fraction of the recording's energy within 50 Hz of `hz`."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    power = np.abs(np.fft.rfft(samples * np.hanning(samples.size))) ** 2
    freqs = np.fft.rfftfreq(samples.size, 1 / rate)
    return float(power[np.abs(freqs - hz) < 50].sum() / power.sum())


@pytest.fixture
def door_options() -> dict[str, Any]:
    """Return the door options of the test entry (a test overrides this to change them)."""
    return {
        CONF_DOOR_SATELLITES: [SAT_A],
        CONF_DOOR_CODE: "1#",
        CONF_DOOR_TTS: TTS_ENTITY_ID,
    }


@pytest.fixture
def mock_config_entry(
    api_keys: KeyPair,
    callback_keys: KeyPair,
    emulator: Emulator,
    door_options: dict[str, Any],
) -> MockConfigEntry:
    """Return the emulator's tenant with satellites answering the door (no Assist on calls)."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=TENANT,
        unique_id=TENANT,
        data=entry_data(api_keys, callback_keys, emulator.base_url),
        options={
            CONF_MEDIA_ADDRESS: "127.0.0.1",
            CONF_RTP_PORT_MIN: 41000,
            CONF_RTP_PORT_MAX: 41999,
            **door_options,
        },
    )


@pytest.fixture
async def satellites(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> tuple[ScriptedSatellite, ScriptedSatellite]:
    """Add two scripted satellites, with the tone voice in the preferred pipeline."""
    a = ScriptedSatellite("a")
    b = ScriptedSatellite("b")
    await async_setup_satellites(hass, a, b)
    await async_setup_doorstep_pipeline(hass)
    assert (a.entity_id, b.entity_id) == (SAT_A, SAT_B)
    return a, b


def intercom_of(entry: MockConfigEntry) -> IntercomController:
    """Return the entry's intercom controller."""
    intercom: IntercomController = entry.runtime_data.intercom
    return intercom


async def door_of(entry: MockConfigEntry) -> SatelliteDoor:
    """Wait for the satellite flow of the current call and return it."""
    intercom = intercom_of(entry)
    manager = entry.runtime_data.manager
    await wait_until(
        lambda: (
            manager.current_call is not None
            and intercom.door_of(manager.current_call.call_id) is not None
        )
    )
    door = intercom.door_of(manager.current_call.call_id)
    assert door is not None
    return door


async def test_ring_answer_relay_open_and_hang_up(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    satellites: tuple[ScriptedSatellite, ScriptedSatellite],
) -> None:
    """Ring → question → "answer" → the caller's tone on the satellite → reply heard → DTMF → hang up."""
    sat, other = satellites
    sat.replies.extend(
        ["answer", "Please leave it at the door", "open the door", "hang up"]
    )
    call = await emulator.ring(wav=caller_voice())
    door = await door_of(init_integration)

    await emulator.wait_for_state(call.call_id, "ended", timeout=30)
    await wait_until(lambda: not intercom_of(init_integration).door_calls)

    # The ring: a chime, then the question in the satellite's voice.
    ring = sat.played[0]
    assert ring.kind == "question"
    assert ring.preannounce
    assert ring.message == "Someone is at the door: 1234567"
    assert ring.status == 200
    assert not other.played  # not in the options

    # Three turns of the caller, each played on the satellite as the caller's own audio.
    clips = [p for p in sat.played[1:] if p.kind == "question"]
    assert len(clips) == 3
    for clip in clips:
        assert "/api/cloud_sip_ua/clip/" in clip.media_id
        assert "authSig=" in clip.media_id
        assert clip.status == 200
        assert not clip.preannounce
        pcm, rate = clip_pcm(clip.body)
        assert rate == 16000
        frequency, snr = tone_report(pcm, rate)
        assert abs(frequency - CALLER_TONE_HZ) < 10, frequency
        assert snr > 15, snr
        # At most the burst, the pre-roll and a short tail: never the pause. (A turn can
        # begin in the middle of a burst, so a clip may hold only its end.)
        assert 0.2 <= len(pcm) / 2 / rate <= BURST_SECONDS + 0.5
    assert door.satellite == SAT_A
    assert len(door.timings.utterance_ends) == 3

    # What the caller heard: the reply in the test voice, and the turn tones.
    heard = call.remote_party.recorded_pcm()
    frequency, _snr = tone_report(heard)
    assert abs(frequency - TTS_TONE_HZ) < 10, frequency
    assert band_energy(heard, TTS_TONE_HZ) > 0.5
    assert band_energy(heard, TURN_TONE_HZ) > 0.01
    # "open the door" reached the door as DTMF, "hang up" ended the call.
    assert call.remote_party.dtmf_received == ["1", "#"]
    assert init_integration.runtime_data.manager.current_call is None


async def test_reject(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    satellites: tuple[ScriptedSatellite, ScriptedSatellite],
) -> None:
    """'reject' on the ring question ends the ringing call; nothing is relayed."""
    sat, _other = satellites
    sat.replies.append("reject")
    call = await emulator.ring(wav=caller_voice())
    await emulator.wait_for_state(call.call_id, "ended", timeout=10)
    await wait_until(lambda: not intercom_of(init_integration).door_calls)
    assert [p.kind for p in sat.played] == ["question"]
    assert call.remote_party.recorded_pcm() == b""


@pytest.mark.parametrize("door_options", [{}])
async def test_action_on_two_satellites(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    satellites: tuple[ScriptedSatellite, ScriptedSatellite],
) -> None:
    """The action asks both satellites; the one that says "answer" gets the relay."""
    a, b = satellites
    a.hold.clear()  # a never answers
    b.replies.extend(["answer", "hang up"])
    call = await emulator.ring(wav=caller_voice())
    await wait_until(
        lambda: init_integration.runtime_data.manager.current_call is not None
    )
    assert not intercom_of(init_integration).door_calls  # no satellites in the options
    response = await hass.services.async_call(
        DOMAIN,
        "intercom_on_satellite",
        {ATTR_ENTITY_ID: [SAT_A, SAT_B]},
        blocking=True,
        return_response=True,
    )
    ha_call_id = init_integration.runtime_data.manager.current_call.call_id
    assert response == {"call_id": ha_call_id}
    await emulator.wait_for_state(call.call_id, "ended", timeout=30)
    await wait_until(lambda: not intercom_of(init_integration).door_calls)
    assert [p.kind for p in a.played] == ["question"]
    assert [p.kind for p in b.played] == ["question", "question"]
    assert a.state == "idle"
    a.hold.set()
    await asyncio.sleep(0)


@pytest.mark.parametrize("door_options", [{CONF_DOOR_SATELLITES: [SAT_A]}])
async def test_open_the_door_on_ring_without_a_code_then_silence(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    satellites: tuple[ScriptedSatellite, ScriptedSatellite],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """'open the door' answers (no code set: nothing sent); silence on both sides ends the call."""
    sat, _other = satellites
    sat.replies.append("open the door")  # then nobody answers any more
    with (
        patch(f"{RELAY}.CALLER_TURN_SECONDS", 0.3),
        patch(f"{RELAY}.MAX_SILENT_ROUNDS", 2),
    ):
        call = await emulator.ring(wav=wav_bytes(bytes(1600), 8000))
        await emulator.wait_for_state(call.call_id, "ended", timeout=20)
    await wait_until(lambda: not intercom_of(init_integration).door_calls)
    assert "No door code set" in caplog.text
    assert call.remote_party.dtmf_received == []
    # The ring question, then the chime as the "question" of each silent round.
    assert [p.kind for p in sat.played] == ["question", "question", "question"]
    assert sat.played[1].status == 200


@pytest.mark.parametrize("reply", ["what?", None])
async def test_nobody_answers_the_ring(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    satellites: tuple[ScriptedSatellite, ScriptedSatellite],
    reply: str | None,
) -> None:
    """No answer, or one the satellite does not know: the call goes on ringing."""
    sat, _other = satellites
    sat.replies.append(reply)
    await emulator.ring(wav=caller_voice())
    await wait_until(lambda: bool(sat.played))
    await wait_until(lambda: not intercom_of(init_integration).door_calls)
    call = init_integration.runtime_data.manager.current_call
    assert call is not None
    assert call.state == "ringing"


@pytest.mark.parametrize("door_options", [{CONF_DOOR_SATELLITES: [SAT_A]}])
async def test_no_voice_for_replies(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    satellites: tuple[ScriptedSatellite, ScriptedSatellite],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No voice set and no default voice: the reply is not said, the relay goes on."""
    sat, _other = satellites
    sat.replies.extend(["answer", "hello", "hang up"])
    with patch(f"{RELAY}.tts.async_default_engine", return_value=None):
        call = await emulator.ring(wav=caller_voice(pause=1.0))
        await emulator.wait_for_state(call.call_id, "ended", timeout=30)
    assert "No text-to-speech" in caplog.text
    assert [p.kind for p in sat.played] == ["question"] * 3


async def test_tts_failures(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    satellites: tuple[ScriptedSatellite, ScriptedSatellite],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A voice that fails, then one that gives no WAV: logged, the relay goes on."""
    sat, _other = satellites
    sat.replies.extend(["answer", "one", "two", "hang up"])
    real = relay.async_synthesize
    calls = 0

    async def flaky(hass: HomeAssistant, engine: str, text: str) -> bytes:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise HomeAssistantError("voice broken")
        assert (await real(hass, engine, text)).startswith(b"RIFF")
        return b"ID3 not a wav"

    with patch(f"{RELAY}.async_synthesize", side_effect=flaky):
        call = await emulator.ring(wav=caller_voice(pause=1.0))
        await emulator.wait_for_state(call.call_id, "ended", timeout=30)
    assert calls == 2
    assert "Could not say the reply" in caplog.text
    assert "did not give 16-bit mono WAV" in caplog.text


async def test_action_errors_and_connected_call(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    satellites: tuple[ScriptedSatellite, ScriptedSatellite],
    hass_admin_user: MockUser,
) -> None:
    """No call, no usable satellite, a user without control; on a connected call: the relay."""
    sat, other = satellites

    async def intercom(targets: list[str], **kwargs: Any) -> Any:
        return await hass.services.async_call(
            DOMAIN,
            "intercom_on_satellite",
            {ATTR_ENTITY_ID: targets},
            blocking=True,
            return_response=True,
            **kwargs,
        )

    with pytest.raises(ServiceValidationError) as err:
        await intercom([SAT_B])
    assert err.value.translation_key == "no_active_call"
    await async_setup_satellites(hass, AnnounceOnlySatellite("c"))
    sat.replies.append("maybe")
    call = await emulator.ring(wav=caller_voice())
    await wait_until(lambda: bool(sat.played))
    other.replies.extend(["hang up"])
    with pytest.raises(ServiceValidationError) as err:
        await intercom(["assist_satellite.test_satellite_c", "media_player.x"])
    assert err.value.translation_key == "no_satellite"
    hass_admin_user.groups = []
    hass_admin_user.permissions = PolicyPermissions(
        {"entities": {"entity_ids": {"button.customer_answer": True}}},
        PermissionLookup(er.async_get(hass), dr.async_get(hass)),
    )
    with pytest.raises(Unauthorized):
        await intercom([SAT_B], context=Context(user_id=hass_admin_user.id))

    await action(hass, "answer")
    await emulator.wait_for_state(call.call_id, "connected")
    await wait_until(
        lambda: init_integration.runtime_data.manager.current_call.state == "connected"
    )
    await intercom([SAT_B])
    await intercom([SAT_B])  # a second start replaces the first
    await emulator.wait_for_state(call.call_id, "ended", timeout=20)
    assert [p.kind for p in other.played] == ["question"]


async def test_ring_with_a_missing_satellite(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The options name a satellite that does not exist: logged, the call rings on."""
    await emulator.ring(wav=caller_voice())
    await wait_until(lambda: "Satellites cannot take call" in caplog.text)
    assert not intercom_of(init_integration).door_calls


async def test_clip_view(
    hass: HomeAssistant, init_integration: MockConfigEntry, ha_base_url: str
) -> None:
    """Signed clips are served until they expire; unsigned requests are refused."""
    clip_id = clip_store(hass).add(b"RIFF")
    url = clip_url(hass, clip_id)
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as response:
            assert response.status == 200
            assert response.content_type == "audio/wav"
            assert await response.read() == b"RIFF"
        async with session.get(url.split("?")[0]) as response:
            assert response.status == 401
        missing = clip_url(hass, "0" * 32)
        async with session.get(missing) as response:
            assert response.status == 404
    with (
        patch(
            "custom_components.cloud_sip_ua.http.signed_url.get_url",
            side_effect=NoURLAvailableError,
        ),
        pytest.raises(HomeAssistantError),
    ):
        clip_url(hass, clip_id)


async def test_options_flow_door_fields(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    satellites: tuple[ScriptedSatellite, ScriptedSatellite],
) -> None:
    """The door options are offered, the code is checked, and the entry reloads with them."""
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    options = {
        key: value
        for key, value in init_integration.options.items()
        if key not in (CONF_DOOR_SATELLITES, CONF_DOOR_CODE, CONF_DOOR_TTS)
    } | {
        "codec": "PCMA",
        "dtmf_payload_type": 101,
        "srtp_policy": "offer",
        "ring_timeout": 60,
        "second_call": "busy",
        CONF_DOOR_SATELLITES: [SAT_A, SAT_B],
        CONF_DOOR_TTS: TTS_ENTITY_ID,
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], options | {CONF_DOOR_CODE: "open sesame"}
    )
    assert result["errors"] == {CONF_DOOR_CODE: "invalid_door_code"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], options | {CONF_DOOR_CODE: "12#"}
    )
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()
    settings = init_integration.runtime_data.intercom.door_settings
    assert settings.satellites == (SAT_A, SAT_B)
    assert settings.door_code == "12#"


async def test_answer_dtmf_and_hang_up_fail(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    satellites: tuple[ScriptedSatellite, ScriptedSatellite],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The service refuses the answer: logged, nothing relayed; DTMF and hang-up errors too."""
    sat, _other = satellites
    manager = init_integration.runtime_data.manager
    sat.replies.append("answer")
    with patch.object(manager, "answer", side_effect=CallError("not_ringing", "no")):
        await emulator.ring(wav=caller_voice())
        await wait_until(lambda: "Could not answer call" in caplog.text)
    await wait_until(lambda: not intercom_of(init_integration).door_calls)
    sat.replies.extend(["open the door", "hang up"])
    with (
        patch.object(manager, "send_dtmf", side_effect=CallError("not_connected", "")),
        patch.object(manager, "hang_up", side_effect=CallError("already_ending", "")),
    ):
        await hass.services.async_call(
            DOMAIN,
            "intercom_on_satellite",
            {ATTR_ENTITY_ID: SAT_A},
            blocking=True,
        )
        await wait_until(lambda: not intercom_of(init_integration).door_calls, 20)
    assert "Could not open the door" in caplog.text


async def test_without_satellites(hass: HomeAssistant) -> None:
    """Without the assist_satellite component, no satellite is usable and nothing runs."""
    assert usable_satellites(hass, [SAT_A]) == []
    door = SatelliteDoor(hass, Mock(), "call", [SAT_A], DoorSettings())
    await door.run()
    assert door.satellite is None
