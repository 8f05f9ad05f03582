"""Assist on a call: a spoken visitor, test STT / agent / TTS, announcements, questions, barge-in.

The visitor's voice is tests/integration/fixtures/parcel.wav ("Parcel for you", 8 kHz), made once
with `espeak-ng -v en-us -s 150` and converted by ffmpeg: real speech, so the real VAD triggers.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from unittest.mock import patch

import numpy as np
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    mock_restore_cache,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.cloud_sip_ua.assist_satellite import (
    TTS_STREAM_PREFIX,
    CallAssistSatellite,
)
from custom_components.cloud_sip_ua.intercom.assist_session import (
    CallAssistant,
    TurnResult,
)
from custom_components.cloud_sip_ua.intercom.audio import wav_pcm
from custom_components.cloud_sip_ua.intercom.controller import IntercomController
from emulator import Emulator
from emulator.audio import read_wav
from homeassistant.components.assist_satellite.const import DATA_COMPONENT as SATELLITES
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant, State
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from tests.audio_check import tone_pcm, tone_report, wav_bytes

from .assist_providers import (
    HEARD_TEXT,
    PIPELINE_NAME,
    Doorkeeper,
    RecordingEars,
    async_setup_doorstep_pipeline,
)
from .helpers import action, entity_id, wait_connected, wait_for
from .tts_provider import TTS_TONE_HZ

SPEECH_PCM, _RATE = read_wav(Path(__file__).parent / "fixtures" / "parcel.wav")


def visitor(silence_seconds: float) -> bytes:
    """Return the visitor's loop: the sentence, then a pause of this length."""
    return wav_bytes(SPEECH_PCM + bytes(int(8000 * silence_seconds) * 2), 8000)


def best_match(heard: bytes, template: bytes) -> float:
    """Return how well the speech in `heard` (16 kHz) matches its best-aligned place in `template`."""
    a = np.frombuffer(heard, dtype="<i2").astype(np.float64)
    a = (a[0 : a.size - 1 : 2] + a[1::2]) / 2  # 16 kHz to 8 kHz
    loud = np.flatnonzero(np.abs(a) > 500)
    if loud.size == 0:
        return 0.0
    b = np.frombuffer(template, dtype="<i2").astype(np.float64)
    needle = a[loud[0] : loud[-1] + 1][: b.size]
    haystack = np.concatenate([np.zeros(needle.size), b, np.zeros(needle.size)])
    size = haystack.size + needle.size
    corr = np.fft.irfft(
        np.fft.rfft(haystack, size) * np.conj(np.fft.rfft(needle, size)), size
    )
    lag = int(np.argmax(corr[: haystack.size - needle.size + 1]))
    return float(np.corrcoef(haystack[lag : lag + needle.size], needle)[0, 1])


def intercom_of(entry: MockConfigEntry) -> IntercomController:
    """Return the entry's intercom controller, which keeps the Assist sessions."""
    intercom: IntercomController = entry.runtime_data.intercom
    return intercom


def satellite_of(hass: HomeAssistant) -> CallAssistSatellite:
    """Return the satellite entity object."""
    satellite = hass.data[SATELLITES].get_entity(
        entity_id(hass, "assist_satellite", "assist")
    )
    assert isinstance(satellite, CallAssistSatellite)
    return satellite


async def assist_action(hass: HomeAssistant, service: str, **data: Any) -> Any:
    """Call start_assist or stop_assist on the satellite; return its response."""
    satellite_id = entity_id(hass, "assist_satellite", "assist")
    response = await hass.services.async_call(
        "cloud_sip_ua",
        service,
        {ATTR_ENTITY_ID: satellite_id, **data},
        blocking=True,
        return_response=True,
    )
    return response[satellite_id]


@pytest.fixture
async def doorstep(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> tuple[RecordingEars, Doorkeeper]:
    """Return the test STT and agent, in the preferred pipeline of the loaded entry."""
    return await async_setup_doorstep_pipeline(hass)


async def _answered(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    emulator: Emulator,
    silence: float = 4.0,
) -> object:
    """Ring with the speaking visitor and answer."""
    call = await emulator.ring(wav=visitor(silence))
    await action(hass, "answer")
    await wait_connected(entry, emulator, call.call_id)
    return call


async def test_assist_answers_the_visitor(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    doorstep: tuple[RecordingEars, Doorkeeper],
) -> None:
    """start_assist: the visitor's words reach STT, the agent replies, the caller hears TTS."""
    ears, keeper = doorstep
    satellite_id = entity_id(hass, "assist_satellite", "assist")
    pipeline_select = entity_id(hass, "select", "pipeline")
    await hass.services.async_call(
        "select",
        "select_option",
        {ATTR_ENTITY_ID: pipeline_select, "option": PIPELINE_NAME},
        blocking=True,
    )
    call = await _answered(hass, init_integration, emulator)
    response = await assist_action(hass, "start_assist")
    assert (
        response["call_id"]
        == init_integration.runtime_data.manager.current_call.call_id
    )
    assert hass.states.get(satellite_id).attributes["call_id"] == response["call_id"]
    before = len(call.remote_party.recorded_pcm())

    await wait_for(lambda: bool(keeper.heard), timeout=15)
    assert keeper.heard[0] == HEARD_TEXT
    assert best_match(ears.streams[0], SPEECH_PCM) > 0.6
    await wait_for(lambda: hass.states.get(satellite_id).state == "idle", timeout=8)
    await asyncio.sleep(0.2)
    reply = call.remote_party.recorded_pcm()[before:]
    loud = np.flatnonzero(np.abs(np.frombuffer(reply, dtype="<i2")) > 2000)
    assert loud.size, "the caller heard nothing"
    start = int(loud[0]) * 2
    frequency, snr = tone_report(reply[start : start + 8000 * 2], 8000)
    assert abs(frequency - TTS_TONE_HZ) <= 10, frequency
    assert snr >= 15, snr

    assert await assist_action(hass, "stop_assist") == response
    await wait_for(lambda: hass.states.get(satellite_id).attributes["call_id"] is None)
    await action(hass, "hang_up")


async def test_switch_lets_assist_answer_calls(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    doorstep: tuple[RecordingEars, Doorkeeper],
) -> None:
    """With the switch on, a ringing call is answered and Assist talks; hang-up ends it."""
    _ears, keeper = doorstep
    switch = entity_id(hass, "switch", "assist_answers")
    satellite = intercom_of(init_integration)
    assert hass.states.get(switch).state == STATE_OFF
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: switch}, blocking=True
    )
    assert hass.states.get(switch).state == STATE_ON

    call = await emulator.ring(wav=visitor(4.0))
    await emulator.wait_for_state(call.call_id, "connected")
    await wait_for(lambda: satellite.assist_active)
    await wait_for(lambda: bool(keeper.heard), timeout=15)
    await emulator.remote_hangup(call.call_id)
    await wait_for(lambda: not satellite.assist_active)

    # Turned on during a call, Assist starts on it; turned off, it stops.
    await hass.services.async_call(
        "switch", "turn_off", {ATTR_ENTITY_ID: switch}, blocking=True
    )
    await _answered(hass, init_integration, emulator)
    assert not satellite.assist_active
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: switch}, blocking=True
    )
    assert satellite.assist_active
    await hass.services.async_call(
        "switch", "turn_off", {ATTR_ENTITY_ID: switch}, blocking=True
    )
    await wait_for(lambda: not satellite.assist_active)
    await action(hass, "hang_up")


async def test_announce_into_the_call(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    doorstep: tuple[RecordingEars, Doorkeeper],
) -> None:
    """assist_satellite.announce speaks into the connected call; without one it fails."""
    satellite_id = entity_id(hass, "assist_satellite", "assist")
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            "assist_satellite",
            "announce",
            {ATTR_ENTITY_ID: satellite_id, "message": "Hello", "preannounce": False},
            blocking=True,
        )
    call = await _answered(hass, init_integration, emulator)
    before = len(call.remote_party.recorded_pcm())
    await hass.services.async_call(
        "assist_satellite",
        "announce",
        {
            ATTR_ENTITY_ID: satellite_id,
            "message": "Someone is at the door",
            "preannounce": False,
        },
        blocking=True,
    )
    await asyncio.sleep(0.2)
    heard = call.remote_party.recorded_pcm()[before:]
    frequency, snr = tone_report(heard, 8000)
    assert abs(frequency - TTS_TONE_HZ) <= 10, frequency
    assert snr >= 10, snr
    await action(hass, "hang_up")


async def test_ask_question_hears_the_answer(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    doorstep: tuple[RecordingEars, Doorkeeper],
) -> None:
    """ask_question plays the question, then returns what the visitor said."""
    satellite_id = entity_id(hass, "assist_satellite", "assist")
    await _answered(hass, init_integration, emulator, silence=1.0)
    response = await hass.services.async_call(
        "assist_satellite",
        "ask_question",
        {
            ATTR_ENTITY_ID: satellite_id,
            "question": "Who is it?",
            "preannounce": False,
            "answers": [{"id": "parcel", "sentences": ["parcel for you"]}],
        },
        blocking=True,
        return_response=True,
    )
    assert response == {"id": "parcel", "sentence": HEARD_TEXT, "slots": {}}
    await action(hass, "hang_up")


async def test_start_conversation_then_the_visitor_talks(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    doorstep: tuple[RecordingEars, Doorkeeper],
) -> None:
    """start_conversation opens, the visitor answers, the agent replies, the session ends."""
    _ears, keeper = doorstep
    satellite_id = entity_id(hass, "assist_satellite", "assist")
    satellite = intercom_of(init_integration)
    await _answered(hass, init_integration, emulator, silence=4.0)
    await hass.services.async_call(
        "assist_satellite",
        "start_conversation",
        {
            ATTR_ENTITY_ID: satellite_id,
            "start_message": "Who is it?",
            "preannounce": False,
        },
        blocking=True,
    )
    await wait_for(lambda: bool(keeper.heard), timeout=15)
    await wait_for(lambda: not satellite.assist_active, timeout=10)
    await action(hass, "hang_up")


async def test_barge_in_stops_the_reply(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    doorstep: tuple[RecordingEars, Doorkeeper],
) -> None:
    """A visitor who talks over the reply cuts it short, and is listened to at once."""
    _ears, keeper = doorstep
    satellite = intercom_of(init_integration)
    await _answered(hass, init_integration, emulator, silence=0.9)
    await assist_action(hass, "start_assist")
    assistant = satellite.assistant
    assert isinstance(assistant, CallAssistant)
    await wait_for(lambda: assistant.barge_ins >= 1, timeout=20)
    await wait_for(lambda: len(keeper.heard) >= 2, timeout=15)
    await action(hass, "hang_up")
    await wait_for(lambda: not satellite.assist_active)


async def test_assist_actions_need_a_call(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    doorstep: tuple[RecordingEars, Doorkeeper],
) -> None:
    """start_assist without a connected call fails; stop_assist without a session is harmless."""
    with pytest.raises(ServiceValidationError):
        await assist_action(hass, "start_assist")
    assert await assist_action(hass, "stop_assist") == {"call_id": None}
    satellite = satellite_of(hass)
    with pytest.raises(HomeAssistantError):
        await satellite.async_set_configuration(satellite.async_get_configuration())


async def test_unanswered_question_times_out(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    doorstep: tuple[RecordingEars, Doorkeeper],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nobody speaks after the question: it fails as unanswered and Assist stops."""
    monkeypatch.setattr(
        "custom_components.cloud_sip_ua.intercom.assist_session.ANSWER_TIMEOUT", 0.5
    )
    satellite_id = entity_id(hass, "assist_satellite", "assist")
    call = await emulator.ring(tone_hz=300.0)
    await action(hass, "answer")
    await wait_connected(init_integration, emulator, call.call_id)
    await call.remote_party.stop_playback()
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            "assist_satellite",
            "ask_question",
            {ATTR_ENTITY_ID: satellite_id, "question": "Hello?", "preannounce": False},
            blocking=True,
            return_response=True,
        )
    await wait_for(lambda: not intercom_of(init_integration).assist_active)
    await action(hass, "hang_up")


async def test_turn_timeout_and_session_end(monkeypatch: pytest.MonkeyPatch) -> None:
    """A turn that hangs is abandoned; the session ends with the call's audio."""
    monkeypatch.setattr(
        "custom_components.cloud_sip_ua.intercom.assist_session.TURN_TIMEOUT", 0.05
    )

    class Host:
        replies = 0

        async def async_run_turn(self, audio: object) -> TurnResult:
            await asyncio.sleep(1)
            return TurnResult()

        async def async_decode(self, media_id: str) -> bytes:
            return b""

        def reply_finished(self) -> None:
            self.replies += 1

        def no_answer(self) -> None:
            pass

    class Media:
        def subscribe(self, rate: int) -> object:
            from custom_components.cloud_sip_ua.cloudsipua.media.subscription import (
                AudioSubscription,
            )

            sub = AudioSubscription(rate)
            sub.end()
            return sub

    assistant = CallAssistant(Host(), Media(), continuous=True)  # type: ignore[arg-type]
    assistant._speech_pending = True  # noqa: SLF001 - skip waiting for speech
    result = await assistant._turn()  # noqa: SLF001
    assert result == TurnResult()
    await asyncio.wait_for(assistant.run(), 2)


async def test_session_edges(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    doorstep: tuple[RecordingEars, Doorkeeper],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Starting twice keeps one session; a silent STT is an error turn; unload ends the session."""
    ears, _keeper = doorstep
    ears.text = (
        ""  # nothing recognised: the pipeline reports an error, Assist listens on
    )
    satellite = intercom_of(init_integration)
    await _answered(hass, init_integration, emulator)
    await assist_action(hass, "start_assist")
    first = satellite.assistant
    await assist_action(hass, "start_assist")
    assert satellite.assistant is first
    await wait_for(lambda: bool(ears.streams), timeout=15)
    await satellite.async_answer("no-such-call")  # the auto-answer path
    assert "Assist could not answer" in caplog.text
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    assert not satellite.assist_active


async def test_announce_with_chime_and_media(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    doorstep: tuple[RecordingEars, Doorkeeper],
    tmp_path: Path,
) -> None:
    """The chime plays before the message; a media id plays as it is."""
    satellite_id = entity_id(hass, "assist_satellite", "assist")
    hass.config.media_dirs["local"] = str(tmp_path)
    (tmp_path / "ding.wav").write_bytes(wav_bytes(tone_pcm(600.0, 0.8, 16000), 16000))
    call = await _answered(hass, init_integration, emulator)
    await hass.services.async_call(
        "assist_satellite",
        "announce",
        {ATTR_ENTITY_ID: satellite_id, "message": "Ding dong"},
        blocking=True,
    )
    before = len(call.remote_party.recorded_pcm())
    await hass.services.async_call(
        "assist_satellite",
        "announce",
        {
            ATTR_ENTITY_ID: satellite_id,
            "media_id": "media-source://media_source/local/ding.wav",
            "preannounce": False,
        },
        blocking=True,
    )
    await asyncio.sleep(0.2)
    frequency, _snr = tone_report(call.remote_party.recorded_pcm()[before:], 8000)
    assert abs(frequency - 600.0) <= 10, frequency
    satellite = satellite_of(hass)
    with pytest.raises(HomeAssistantError):
        await satellite.async_decode(TTS_STREAM_PREFIX + "unknown")
    assert wav_pcm(b"not a wav") is None
    assert wav_pcm(wav_bytes(b"\0\0" * 100, 22050)) is None
    await action(hass, "hang_up")


async def test_assist_unavailable_and_switch_restore(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, emulator: Emulator
) -> None:
    """The switch comes back as it was and answers; without a satellite Assist stays off."""
    mock_restore_cache(
        hass,
        [
            State(
                "switch.customer_assist_answers_calls",
                STATE_ON,
            )
        ],
    )
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    intercom = intercom_of(mock_config_entry)
    assert intercom.assist_answers
    assert hass.states.get("switch.customer_assist_answers_calls").state == STATE_ON

    # Without a satellite to speak through, the switch still answers; Assist cannot start.
    intercom.async_attach_assist(satellite_of(hass))()
    call = await emulator.ring()
    await wait_connected(mock_config_entry, emulator, call.call_id)
    current = mock_config_entry.runtime_data.manager.current_call
    assert intercom.async_start_assist() == current.call_id
    assert not intercom.assist_active
    await action(hass, "hang_up")


async def test_voice_wizard_connection_test_without_a_call_fails_cleanly(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The voice wizard's test announcement with no call times out; nothing is left unhandled."""
    client = await hass_ws_client(hass)
    with patch(
        "homeassistant.components.assist_satellite.websocket_api.CONNECTION_TEST_TIMEOUT",
        0.2,
    ):
        await client.send_json_auto_id(
            {
                "type": "assist_satellite/test_connection",
                "entity_id": entity_id(hass, "assist_satellite", "assist"),
            }
        )
        response = await client.receive_json()
    await hass.async_block_till_done()
    assert response["result"] == {"status": "timeout"}
    assert "Task exception" not in caplog.text
    assert "There is no active call" not in caplog.text
