"""The vendor's own sample payloads, verbatim, through real Home Assistant and real HTTP.

The emulator runs in its vendor_samples mode: every callback body is the vendor's sample, with
only the replyId and the media address of the emulated call put in (emulator/vendor_samples).
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.cloud_sip_ua.cloudsipua.calls import CallState, EndReason
from custom_components.cloud_sip_ua.cloudsipua.models import Codec
from custom_components.cloud_sip_ua.const import CONF_SRTP_PLACED_CALLS
from emulator import CallbackRecord, Emulator
from emulator.vendor_samples import sample
from homeassistant.core import HomeAssistant
from tests.audio_check import tone_report
from tests.waiting import wait_until

from .helpers import (
    action,
    collect_call_audio,
    entity_id,
    event_recorder,
    wait_connected,
)


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    """Send the vendor's samples as callbacks."""
    return {"vendor_samples": True}


def _records(emulator: Emulator, call_id: str) -> list[CallbackRecord]:
    """Return the callbacks the emulator sent for one call, in order."""
    return [record for record in emulator.callback_log if record.call_id == call_id]


def _tone(hz: float, seconds: float) -> bytes:
    """Return a 8 kHz 16-bit tone at -6 dBFS."""
    count = int(8000 * seconds)
    return b"".join(
        int(16000 * math.sin(2 * math.pi * hz * n / 8000)).to_bytes(
            2, "little", signed=True
        )
        for n in range(count)
    )


async def test_incoming_call_with_the_samples_connects_and_is_not_killed(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """Finding 1: callAnswered with `"sessionReferenceId": { }` connects the call we answered.

    Its `codec: "GSM"` (what the remote side wants) switches what we send to GSM; the samples'
    callHungup (SIP Call-ID of newRemoteCall's sample) ends it.
    """
    manager = init_integration.runtime_data.manager
    activities = event_recorder(hass, entity_id(hass, "event", "call_activity"))
    call = await emulator.ring(tone_hz=440.0)
    assert (
        _records(emulator, call.call_id)[0].body["sessionId"]
        == sample("newRemoteCall")["sessionId"]
    )
    await action(hass, "answer")
    await wait_connected(init_integration, emulator, call.call_id)
    answered = [r for r in _records(emulator, call.call_id) if r.name == "callAnswered"]
    assert answered[0].body["sessionReferenceId"] == {}
    ours = manager.current_call
    assert ours is not None
    assert ours.state is CallState.CONNECTED
    assert ours.codec is Codec.GSM
    assert ours.receive_codec is Codec.PCMA
    # Nothing was hung up: the emulator's call is up, and audio flows both ways.
    heard = await collect_call_audio(init_integration, 1.0, settle=0.3)
    frequency, snr = tone_report(heard)
    assert abs(frequency - 440.0) <= 10, frequency
    assert snr >= 30, snr
    before = len(call.remote_party.recorded_pcm())
    await manager.media_of().play_audio(_tone(1000.0, 1.5), 8000)
    heard = call.remote_party.recorded_pcm()[before:]
    frequency, snr = tone_report(heard[3200:])
    assert abs(frequency - 1000.0) <= 10, frequency
    assert snr >= 10, snr
    assert emulator.get_call(call.call_id).state == "connected"

    await emulator.remote_hangup(call.call_id)
    await wait_until(lambda: manager.calls == [])
    assert activities[-1]["event_type"] == "hung_up"
    assert activities[-1]["reason"] == "remote_hangup"


async def test_a_reused_sip_call_id_rings_as_a_new_call(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """Finding 4: every sample call has the Call-ID `nfdfsij82893kn`; each one still rings."""
    manager = init_integration.runtime_data.manager
    rings = event_recorder(hass, entity_id(hass, "event", "doorbell"))
    first = await emulator.ring()
    first_id = manager.current_call.call_id
    await action(hass, "answer")
    await wait_connected(init_integration, emulator, first.call_id)
    await action(hass, "hang_up")
    await emulator.wait_for_state(first.call_id, "ended")
    await wait_until(lambda: manager.calls == [])

    second = await emulator.ring()
    await hass.async_block_till_done()
    assert len(rings) == 2
    ours = manager.current_call
    assert ours is not None
    assert ours.call_id != first_id
    assert second.session_reference_id == ours.call_id
    assert ours.state is CallState.RINGING
    # The second call's callAnswered carries the same sample ids as the first's: it still
    # connects the waiting call instead of being taken for the ended one.
    await action(hass, "answer")
    await wait_connected(init_integration, emulator, second.call_id)
    assert ours.state is CallState.CONNECTED
    await action(hass, "hang_up")
    await emulator.wait_for_state(second.call_id, "ended")


async def test_placed_call_answered_with_gsm_and_an_empty_reference(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """Finding 2: the samples' callNotify (reference 20000) and callAnswered (`{}`, GSM) connect.

    No 500, no call left at the cloud: our hang-up reaches the emulator with the replyId.
    """
    manager = init_integration.runtime_data.manager
    call_state = entity_id(hass, "sensor", "call_state")
    emulator.placed_call_policy = "manual"
    response = await action(hass, "place_call", destination="sip:door@example.com")
    await wait_until(lambda: any(c.direction == "outgoing" for c in emulator.calls))
    placed = next(c for c in emulator.calls if c.direction == "outgoing")
    await wait_until(lambda: hass.states.get(call_state).state == "remote_ringing")
    await emulator.remote_answer(placed.call_id)
    await wait_until(lambda: hass.states.get(call_state).state == "connected")
    ours = manager.get_call(response["call_id"])
    assert ours.codec is Codec.GSM
    records = _records(emulator, placed.call_id)
    assert records
    assert all(record.status == 200 for record in records), records

    await action(hass, "hang_up", call_id=ours.call_id)
    await emulator.wait_for_state(placed.call_id, "ended")
    assert manager.calls == []


async def test_placed_call_failed_with_the_sample_ends_at_once(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """Finding 3: callFailed verbatim (`sessionReferenceId: 20000`) ends the placed call."""
    manager = init_integration.runtime_data.manager
    activities = event_recorder(hass, entity_id(hass, "event", "call_activity"))
    emulator.placed_call_policy = "reject"
    emulator.placed_call_delay = 0.05
    await action(hass, "place_call", destination="sip:busy@example.com")
    await wait_until(lambda: manager.calls == [], timeout=3)
    failed = [a for a in activities if a["event_type"] == "failed"]
    assert failed
    assert failed[-1]["sip_status"] == 403
    assert failed[-1]["sip_reason"] == "Busy Here"


async def test_callanswered_that_cannot_be_applied_ends_the_call_cleanly(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Finding 2, the general case: a failure applying callAnswered is no 500.

    The call ends with a `failed` event and is hung up at the cloud with callAnswered's replyId.
    """
    manager = init_integration.runtime_data.manager
    activities = event_recorder(hass, entity_id(hass, "event", "call_activity"))
    emulator.placed_call_policy = "manual"
    response = await action(hass, "place_call", destination="sip:door@example.com")
    ours = manager.get_call(response["call_id"])
    assert ours.media is not None

    def broken(codec: Codec) -> None:
        raise RuntimeError("codec switch failed")

    monkeypatch.setattr(ours.media, "set_codec", broken)
    await wait_until(lambda: any(c.direction == "outgoing" for c in emulator.calls))
    placed = next(c for c in emulator.calls if c.direction == "outgoing")
    await emulator.wait_for_state(placed.call_id, "ringing")
    await emulator.remote_answer(placed.call_id)
    await wait_until(lambda: manager.calls == [])
    await emulator.wait_for_state(placed.call_id, "ended")
    answered = next(
        r for r in _records(emulator, placed.call_id) if r.name == "callAnswered"
    )
    assert answered.status == 200
    assert activities[-1]["event_type"] == "failed"
    assert ours.end_reason is EndReason.ERROR


async def test_placed_calls_offer_no_srtp_the_samples_cannot_confirm(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """Finding 7: by default a placed call offers no SDES (callAnswered's sample has no crypto).

    With the option on, the sample's callAnswered ends the call with a reason, never plain RTP.
    """
    manager = init_integration.runtime_data.manager
    emulator.placed_call_policy = "manual"
    response = await action(hass, "place_call", destination="sip:door@example.com")
    await wait_until(lambda: any(c.direction == "outgoing" for c in emulator.calls))
    placed = next(c for c in emulator.calls if c.direction == "outgoing")
    await emulator.wait_for_state(placed.call_id, "ringing")
    assert placed.offered_crypto == []
    await emulator.remote_reject(placed.call_id, 486, "Busy Here")
    await wait_until(lambda: manager.calls == [])

    hass.config_entries.async_update_entry(
        init_integration,
        options={**init_integration.options, CONF_SRTP_PLACED_CALLS: True},
    )
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    manager = init_integration.runtime_data.manager
    activities = event_recorder(hass, entity_id(hass, "event", "call_activity"))
    response = await action(hass, "place_call", destination="sip:door@example.com")
    ours = manager.get_call(response["call_id"])
    await wait_until(
        lambda: any(
            c.direction == "outgoing" and c.state == "ringing" for c in emulator.calls
        )
    )
    placed = next(
        c for c in emulator.calls if c.direction == "outgoing" and c.state == "ringing"
    )
    assert placed.offered_crypto
    await emulator.remote_answer(placed.call_id)
    await wait_until(lambda: manager.calls == [])
    assert ours.end_reason is EndReason.SRTP_NOT_CONFIRMED
    assert activities[-1]["event_type"] == "failed"
    await emulator.wait_for_state(placed.call_id, "ended")


async def test_credential_check_refuses_home_assistants_own_404(
    hass: HomeAssistant, ha_base_url: str, api_keys: Any
) -> None:
    """Finding 6: Home Assistant's own URL as API base URL is named, not taken for the API."""
    result = await hass.config_entries.flow.async_init(
        "cloud_sip_ua", context={"source": "user"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "private_key"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "domain": "customer47.prod-eu-north-1.iotcomms.io",
            "private_key": api_keys.private_pem.decode(),
            "advanced": {"api_base_url": ha_base_url},
        },
    )
    assert result["type"] == "form"
    assert result["errors"] == {"base": "not_the_api"}
    assert result["description_placeholders"]["reached"].startswith("HTTP 404")
