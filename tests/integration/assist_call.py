"""The speaking visitor, and the Assist objects of a loaded entry, for the Assist tests.

The visitor's voice is tests/integration/fixtures/parcel.wav ("Parcel for you", 8 kHz), made once
with `espeak-ng -v en-us -s 150` and converted by ffmpeg: real speech, so the real VAD triggers.
"""

from __future__ import annotations

from pathlib import Path

from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.cloud_sip_ua.assist_satellite import CallAssistSatellite
from custom_components.cloud_sip_ua.const import CONF_ASSIST
from custom_components.cloud_sip_ua.intercom.controller import IntercomController
from emulator import EmulatedCall, Emulator
from emulator.audio import read_wav
from homeassistant.components.assist_satellite.const import DATA_COMPONENT as SATELLITES
from homeassistant.core import HomeAssistant
from tests.audio_check import wav_bytes

from .helpers import action, entity_id, wait_connected

SPEECH_PCM, _RATE = read_wav(Path(__file__).parent / "fixtures" / "parcel.wav")


def with_assist(entry: MockConfigEntry) -> MockConfigEntry:
    """Return a copy of a not yet added entry with the option "Assist on calls" on."""
    return MockConfigEntry(
        domain=entry.domain,
        title=entry.title,
        unique_id=entry.unique_id,
        data=dict(entry.data),
        options={**entry.options, CONF_ASSIST: True},
    )


def visitor(silence_seconds: float) -> bytes:
    """Return the visitor's loop: the sentence, then a pause of this length."""
    return wav_bytes(SPEECH_PCM + bytes(int(8000 * silence_seconds) * 2), 8000)


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


async def answered(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    emulator: Emulator,
    silence: float = 4.0,
) -> EmulatedCall:
    """Ring with the speaking visitor and answer."""
    call = await emulator.ring(wav=visitor(silence))
    await action(hass, "answer")
    await wait_connected(entry, emulator, call.call_id)
    return call
