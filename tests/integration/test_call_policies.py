"""Timeouts, dead media, orphaned calls, second calls and SRTP policy, end to end."""

from __future__ import annotations

from dataclasses import replace

from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.cloud_sip_ua.cloudsipua.calls import CallState
from custom_components.cloud_sip_ua.cloudsipua.policies import (
    SecondCallPolicy,
    SrtpPolicy,
)
from emulator import Emulator
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
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


def _tune(entry: MockConfigEntry, **changes: object) -> None:
    """Change the running call manager's settings."""
    manager = entry.runtime_data.manager
    manager.settings = replace(manager.settings, **changes)


async def test_ring_timeout_rejects(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """An unanswered call is rejected after the ring timeout and the state returns to idle."""
    _tune(init_integration, ring_timeout=0.3)
    activities = event_recorder(hass, entity_id(hass, "event", "call_activity"))
    call = await emulator.ring()
    await emulator.wait_for_state(call.call_id, "ended")
    await wait_until(lambda: bool(activities))
    assert activities[-1]["reason"] == "ring_timeout"
    assert hass.states.get(entity_id(hass, "sensor", "call_state")).state == "idle"


async def test_dead_media_ends_the_call(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """A connected call whose RTP stops is hung up."""
    _tune(init_integration, inactivity_timeout=0.5)
    activities = event_recorder(hass, entity_id(hass, "event", "call_activity"))
    call = await emulator.ring()
    await action(hass, "answer")
    await wait_connected(init_integration, emulator, call.call_id)
    await call.remote_party.close()
    await emulator.wait_for_state(call.call_id, "ended", timeout=5)
    await wait_until(lambda: activities[-1]["event_type"] == "hung_up")
    assert activities[-1]["reason"] == "no_media"


async def test_call_answered_after_giving_up_is_hung_up(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """Hanging up a placed call that still rings ends it here and, once answered, there."""
    response = await action(hass, "place_call", destination="1000")
    await wait_until(lambda: any(c.direction == "outgoing" for c in emulator.calls))
    placed = next(c for c in emulator.calls if c.direction == "outgoing")
    await emulator.wait_for_state(placed.call_id, "ringing")
    await action(hass, "hang_up", call_id=response["call_id"])
    assert init_integration.runtime_data.manager.calls == []
    await emulator.remote_answer(placed.call_id)
    await emulator.wait_for_state(placed.call_id, "ended")
    assert init_integration.runtime_data.manager.counters["orphan_calls_ended"] == 1


async def test_second_call_rings_when_allowed(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """With the ring policy, a second caller rings and can be answered by call id."""
    _tune(init_integration, second_call_policy=SecondCallPolicy.RING)
    manager = init_integration.runtime_data.manager
    first = await emulator.ring(caller="111")
    second = await emulator.ring(caller="222")
    assert [c.remote_party for c in manager.calls] == ["111", "222"]
    target = next(c for c in manager.calls if c.remote_party == "222")
    await action(hass, "answer", call_id=target.call_id)
    await wait_connected(init_integration, emulator, second.call_id)
    assert manager.current_call is target
    await action(hass, "hang_up", call_id=target.call_id)
    await action(hass, "hang_up")
    await emulator.wait_for_state(first.call_id, "ended")


async def test_srtp_required(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """Require refuses plain calls and carries encrypted audio for SRTP calls."""
    _tune(init_integration, srtp_policy=SrtpPolicy.REQUIRE)
    plain = await emulator.ring()
    await emulator.wait_for_state(plain.call_id, "ended")
    assert plain.sip_status == 486

    secure = await emulator.ring(srtp=True, tone_hz=1000.0)
    await action(hass, "answer")
    await wait_connected(init_integration, emulator, secure.call_id)
    call = init_integration.runtime_data.manager.current_call
    assert call is not None
    assert call.srtp
    assert call.state is CallState.CONNECTED
    frequency, snr = tone_report(await collect_call_audio(init_integration, 0.8))
    assert abs(frequency - 1000) <= 10
    assert snr >= 30
    assert call.media is not None
    assert call.media.stats.srtp_auth_failures == 0
    await action(hass, "hang_up")


async def test_place_call_by_device(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """Actions can target the device instead of the entry."""
    device = dr.async_get(hass).async_get_device_by_identifier(
        ("cloud_sip_ua", TENANT), init_integration.entry_id
    )
    assert device is not None
    await action(
        hass,
        "place_call",
        device_id=device.id,
        destination="sip:a@b.example",
        codec="PCMU",
    )
    await wait_until(lambda: any(c.direction == "outgoing" for c in emulator.calls))
    placed = next(c for c in emulator.calls if c.direction == "outgoing")
    await emulator.wait_for_state(placed.call_id, "ringing")
    assert placed.codec == "PCMU"
    await emulator.remote_reject(placed.call_id, 603, "Decline")
    await wait_until(lambda: init_integration.runtime_data.manager.calls == [])
