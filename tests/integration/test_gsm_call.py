"""A placed GSM 06.10 call through Home Assistant and the emulator, audio both ways."""

from __future__ import annotations

from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.cloud_sip_ua.cloudsipua.media.gsm import FRAME_SIZE
from custom_components.cloud_sip_ua.cloudsipua.models import Codec
from emulator import Emulator
from homeassistant.core import HomeAssistant
from tests.audio_check import tone_pcm, tone_report
from tests.waiting import wait_until

from .helpers import action, collect_call_audio, entity_id

RTP_HEADER = 12


async def test_placed_gsm_call_carries_audio_both_ways(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """place_call with codec GSM: both ends send 33-byte GSM frames and hear each other's tone."""
    call_state = entity_id(hass, "sensor", "call_state")
    response = await action(hass, "place_call", destination="+46701234567", codec="GSM")
    await wait_until(lambda: any(c.direction == "outgoing" for c in emulator.calls))
    placed = next(c for c in emulator.calls if c.direction == "outgoing")
    assert placed.codec is Codec.GSM
    await emulator.wait_for_state(placed.call_id, "ringing")
    await emulator.remote_answer(placed.call_id)
    await wait_until(
        lambda: getattr(hass.states.get(call_state), "state", None) == "connected"
    )
    media = init_integration.runtime_data.manager.media_of(response["call_id"])
    assert media.codec is Codec.GSM
    assert placed.remote_party.codec is Codec.GSM

    placed.remote_party.start_playback()
    # The party's first frames may miss Home Assistant's decoder (latching, probation):
    # measure after a second, when GSM's long-term predictor has the stream's own history.
    await collect_call_audio(init_integration, 1.0)
    frequency, snr = tone_report(await collect_call_audio(init_integration, 1.0))
    assert abs(frequency - 440.0) <= 10, frequency
    assert snr >= 20, snr

    party = placed.remote_party
    await wait_until(lambda: party.stats.packets_received > 5)
    start = len(party.recorded_pcm())
    media.enqueue_audio(tone_pcm(500, 3.0), 8000)
    begin, end = start + 9600, start + 25600  # 0.6 s to 1.6 s after the tone was queued
    await wait_until(lambda: len(party.recorded_pcm()) >= end)
    frequency, snr = tone_report(party.recorded_pcm()[begin:end])
    assert abs(frequency - 500.0) <= 10, frequency
    assert snr >= 20, snr

    for stats in (media.stats, party.stats):
        assert stats.packets_received > 20
        assert stats.bytes_received == stats.packets_received * (
            RTP_HEADER + FRAME_SIZE
        )
    await action(hass, "hang_up", call_id=response["call_id"])
    await emulator.wait_for_state(placed.call_id, "ended")
