"""Whole calls through Home Assistant and the emulator: callbacks over HTTP, audio over RTP."""

from __future__ import annotations

from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.cloud_sip_ua.const import CONF_SRTP_PLACED_CALLS
from emulator import Emulator
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from tests.audio_check import tone_report
from tests.waiting import wait_until

from .helpers import (
    TENANT,
    action,
    collect_call_audio,
    entity_id,
    event_recorder,
    wait_connected,
)
from .tts_provider import TTS_ENTITY_ID, TTS_TONE_HZ, async_setup_tone_tts


async def test_incoming_call_end_to_end(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """Ring, ringback, answer, audio both ways, TTS into the call, DTMF both ways, hang up."""
    await async_setup_tone_tts(hass)
    doorbell = entity_id(hass, "event", "doorbell")
    activity = entity_id(hass, "event", "call_activity")
    call_state = entity_id(hass, "sensor", "call_state")
    in_call = entity_id(hass, "binary_sensor", "in_call")
    answer_button = entity_id(hass, "button", "answer")
    rings = event_recorder(hass, doorbell)
    activities = event_recorder(hass, activity)
    assert hass.states.get(answer_button).state == STATE_UNAVAILABLE

    call = await emulator.ring(caller="1234567", tone_hz=440.0)
    await hass.async_block_till_done()
    assert rings and rings[-1]["event_type"] == "ring"
    assert rings[-1]["caller"] == "1234567"
    assert hass.states.get(call_state).state == "ringing"
    assert hass.states.get(answer_button).state != STATE_UNAVAILABLE
    assert (
        call.session_reference_id
        == init_integration.runtime_data.manager.current_call.call_id
    )

    await action(hass, "send_ringback")
    assert call.ringback_sent

    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: answer_button}, blocking=True
    )
    await wait_connected(init_integration, emulator, call.call_id)
    await wait_until(lambda: hass.states.get(call_state).state == "connected")
    assert hass.states.get(in_call).state == STATE_ON
    assert activities[-1]["event_type"] == "answered"

    # The caller's 440 Hz tone reaches Home Assistant.
    heard = await collect_call_audio(init_integration, 1.0, settle=0.3)
    frequency, snr = tone_report(heard)
    assert abs(frequency - 440.0) <= 10, frequency
    assert snr >= 30, snr

    # tts.speak into the call: the test voice's 1 kHz tone reaches the caller.
    player = entity_id(hass, "media_player", "call_audio")
    before = len(call.remote_party.recorded_pcm())
    await hass.services.async_call(
        "tts",
        "speak",
        {
            ATTR_ENTITY_ID: TTS_ENTITY_ID,
            "media_player_entity_id": player,
            "message": "Who is it?",
        },
        blocking=True,
    )
    await wait_until(lambda: hass.states.get(player).state == "playing")
    await wait_until(lambda: hass.states.get(player).state == "idle", timeout=8)
    spoken = call.remote_party.recorded_pcm()[before:]
    frequency, snr = tone_report(spoken[: 8000 * 2 * 3])
    assert abs(frequency - TTS_TONE_HZ) <= 10, frequency
    assert snr >= 20, snr

    # DTMF both ways.
    await action(hass, "send_dtmf", digits="1#")
    await wait_until(lambda: call.remote_party.dtmf_received == ["1", "#"])
    await emulator.send_dtmf(call.call_id, "5")
    await wait_until(lambda: any(a.get("digit") == "5" for a in activities))

    await action(hass, "hang_up")
    await emulator.wait_for_state(call.call_id, "ended")
    await hass.async_block_till_done()
    assert hass.states.get(call_state).state == "idle"
    assert hass.states.get(in_call).state == STATE_OFF
    assert activities[-1]["event_type"] == "hung_up"
    assert activities[-1]["reason"] == "local_hangup"


async def test_remote_hangup_and_cancel(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """The caller hanging up ends the call, before and after it was answered."""
    call_state = entity_id(hass, "sensor", "call_state")
    activities = event_recorder(hass, entity_id(hass, "event", "call_activity"))

    call = await emulator.ring()
    await action(hass, "answer")
    await wait_connected(init_integration, emulator, call.call_id)
    await wait_until(lambda: hass.states.get(call_state).state == "connected")
    await emulator.remote_hangup(call.call_id)
    await wait_until(lambda: hass.states.get(call_state).state == "idle")
    assert activities[-1]["event_type"] == "hung_up"
    assert activities[-1]["reason"] == "remote_hangup"

    cancelled = await emulator.ring()
    await hass.async_block_till_done()
    assert hass.states.get(call_state).state == "ringing"
    await emulator.remote_hangup(cancelled.call_id)
    await wait_until(lambda: hass.states.get(call_state).state == "idle")


async def test_reject_is_busy(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """Hanging up a ringing call rejects it, and a second call during a call gets busy."""
    call = await emulator.ring()
    await action(hass, "hang_up")
    await emulator.wait_for_state(call.call_id, "ended")
    assert call.sip_status == 486

    first = await emulator.ring()
    await action(hass, "answer")
    await wait_connected(init_integration, emulator, first.call_id)
    second = await emulator.ring(caller="7654321")
    await emulator.wait_for_state(second.call_id, "ended")
    assert second.sip_status == 486
    assert init_integration.runtime_data.manager.current_call.remote_party == "1234567"
    await action(hass, "hang_up")
    await emulator.wait_for_state(first.call_id, "ended")


async def test_outgoing_call_answered_with_srtp(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """A placed call rings remotely, is answered with SRTP, carries audio, and hangs up."""
    hass.config_entries.async_update_entry(
        init_integration,
        options={**init_integration.options, CONF_SRTP_PLACED_CALLS: True},
    )
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert init_integration.runtime_data.manager.settings.srtp_on_placed_calls
    call_state = entity_id(hass, "sensor", "call_state")
    activities = event_recorder(hass, entity_id(hass, "event", "call_activity"))
    response = await action(
        hass, "place_call", destination="+46701234567", caller_id="4600"
    )
    call_id = response["call_id"]
    await wait_until(lambda: any(c.direction == "outgoing" for c in emulator.calls))
    placed = next(c for c in emulator.calls if c.direction == "outgoing")
    assert placed.callee == f"sip:+46701234567@{TENANT}"
    assert placed.caller == "4600"
    await wait_until(lambda: hass.states.get(call_state).state == "remote_ringing")
    assert any(a["event_type"] == "remote_ringing" for a in activities)

    await emulator.remote_answer(placed.call_id)
    await wait_until(lambda: hass.states.get(call_state).state == "connected")
    call = init_integration.runtime_data.manager.get_call(call_id)
    assert call.srtp

    placed.remote_party.start_playback()
    heard = await collect_call_audio(init_integration, 1.0, settle=0.3)
    frequency, snr = tone_report(heard)
    assert abs(frequency - 440.0) <= 10, frequency
    assert snr >= 30, snr

    await action(hass, "hang_up", call_id=call_id)
    await emulator.wait_for_state(placed.call_id, "ended")


async def test_unload_releases_everything(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """Unloading hangs up the call and frees its media; reloading works again."""
    call = await emulator.ring()
    await action(hass, "answer")
    await wait_connected(init_integration, emulator, call.call_id)
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await emulator.wait_for_state(call.call_id, "ended")
    assert init_integration.state is ConfigEntryState.NOT_LOADED
    assert await hass.config_entries.async_setup(init_integration.entry_id)
    assert init_integration.state is ConfigEntryState.LOADED
