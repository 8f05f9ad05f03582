"""Assist sessions on a call: a spoken visitor, test STT / agent / TTS, start and stop, barge-in."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.cloud_sip_ua.intercom.assist_session import (
    CallAssistant,
    TurnResult,
)
from emulator import Emulator
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from tests.audio_check import tone_report
from tests.waiting import wait_until

from .assist_call import SPEECH_PCM, answered, intercom_of, satellite_of
from .assist_providers import HEARD_TEXT, PIPELINE_NAME, Doorkeeper, RecordingEars
from .helpers import action, entity_id, wait_heard
from .tts_provider import TTS_TONE_HZ


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
    call = await answered(hass, init_integration, emulator)
    response = await assist_action(hass, "start_assist")
    assert (
        response["call_id"]
        == init_integration.runtime_data.manager.current_call.call_id
    )
    assert hass.states.get(satellite_id).attributes["call_id"] == response["call_id"]
    before = len(call.remote_party.recorded_pcm())

    await wait_until(lambda: bool(keeper.heard), timeout=15)
    assert keeper.heard[0] == HEARD_TEXT
    assert best_match(ears.streams[0], SPEECH_PCM) > 0.6
    await wait_until(lambda: hass.states.get(satellite_id).state == "idle", timeout=8)
    await wait_heard(call, 0.2)  # the reply's tail is on its way to the caller
    reply = call.remote_party.recorded_pcm()[before:]
    loud = np.flatnonzero(np.abs(np.frombuffer(reply, dtype="<i2")) > 2000)
    assert loud.size, "the caller heard nothing"
    start = int(loud[0]) * 2
    frequency, snr = tone_report(reply[start : start + 8000 * 2], 8000)
    assert abs(frequency - TTS_TONE_HZ) <= 10, frequency
    assert snr >= 15, snr

    assert await assist_action(hass, "stop_assist") == response
    await wait_until(
        lambda: hass.states.get(satellite_id).attributes["call_id"] is None
    )
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
    await answered(hass, init_integration, emulator, silence=0.9)
    await assist_action(hass, "start_assist")
    assistant = satellite.assistant
    assert isinstance(assistant, CallAssistant)
    await wait_until(lambda: assistant.barge_ins >= 1, timeout=20)
    await wait_until(lambda: len(keeper.heard) >= 2, timeout=15)
    await action(hass, "hang_up")
    await wait_until(lambda: not satellite.assist_active)


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


async def test_turn_timeout_and_session_end(monkeypatch: pytest.MonkeyPatch) -> None:
    """A turn that hangs is abandoned; the session ends with the call's audio."""
    monkeypatch.setattr(
        "custom_components.cloud_sip_ua.intercom.assist_session.TURN_TIMEOUT", 0.05
    )

    class Host:
        replies = 0

        async def async_run_turn(self, audio: object) -> TurnResult:
            await asyncio.Event().wait()  # never answers
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
    await answered(hass, init_integration, emulator)
    await assist_action(hass, "start_assist")
    first = satellite.assistant
    await assist_action(hass, "start_assist")
    assert satellite.assistant is first
    await wait_until(lambda: bool(ears.streams), timeout=15)
    await satellite.async_answer("no-such-call")  # the auto-answer path
    assert "Assist could not answer" in caplog.text
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    assert not satellite.assist_active
