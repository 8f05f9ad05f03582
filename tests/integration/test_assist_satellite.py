"""The call's Assist satellite: its entity, and Home Assistant's satellite actions on a call."""

from __future__ import annotations

from pathlib import Path
from unittest.mock import patch

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator
from syrupy.assertion import SnapshotAssertion

from custom_components.cloud_sip_ua.assist_satellite import TTS_STREAM_PREFIX
from custom_components.cloud_sip_ua.intercom.audio import wav_pcm
from emulator import Emulator
from homeassistant.const import ATTR_ENTITY_ID, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from tests.audio_check import tone_pcm, tone_report, wav_bytes
from tests.waiting import wait_until

from .assist_call import answered, intercom_of, satellite_of, with_assist
from .assist_providers import HEARD_TEXT, Doorkeeper, RecordingEars
from .helpers import (
    action,
    entity_id,
    snapshot_platform_alone,
    wait_connected,
    wait_heard,
)
from .tts_provider import TTS_TONE_HZ


@pytest.fixture
def mock_config_entry(mock_config_entry: MockConfigEntry) -> MockConfigEntry:
    """Return the test entry with Assist on calls, without which there is no satellite."""
    return with_assist(mock_config_entry)


async def test_all_entities(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Every Assist satellite, as registered and as its first state."""
    await snapshot_platform_alone(
        hass, mock_config_entry, Platform.ASSIST_SATELLITE, entity_registry, snapshot
    )


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
    call = await answered(hass, init_integration, emulator)
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
    await wait_heard(call, 0.2)
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
    await answered(hass, init_integration, emulator, silence=1.0)
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
    await answered(hass, init_integration, emulator, silence=4.0)
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
    await wait_until(lambda: bool(keeper.heard), timeout=15)
    await wait_until(lambda: not satellite.assist_active, timeout=10)
    await action(hass, "hang_up")


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
    await wait_until(lambda: not intercom_of(init_integration).assist_active)
    await action(hass, "hang_up")


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
    call = await answered(hass, init_integration, emulator)
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
    await wait_heard(call, 0.2)
    frequency, _snr = tone_report(call.remote_party.recorded_pcm()[before:], 8000)
    assert abs(frequency - 600.0) <= 10, frequency
    satellite = satellite_of(hass)
    with pytest.raises(HomeAssistantError):
        await satellite.async_decode(TTS_STREAM_PREFIX + "unknown")
    assert wav_pcm(b"not a wav") is None
    assert wav_pcm(wav_bytes(b"\0\0" * 100, 22050)) is None
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
