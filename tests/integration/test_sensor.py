"""The call state sensor and the RTP diagnostics: their entities, and how they follow a call."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.cloud_sip_ua.sensor import SCAN_INTERVAL
from emulator import Emulator
from homeassistant.const import STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from tests.waiting import wait_until

from .conftest import TENANT
from .helpers import action, entity_id, snapshot_platform_alone, wait_connected

CALL_ATTRIBUTES = (
    "call_id",
    "direction",
    "remote_party",
    "destination",
    "codec",
    "srtp",
    "started_at",
    "answered_at",
)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_all_entities(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Every sensor, the disabled-by-default diagnostics too, as registered and as its first state."""
    await snapshot_platform_alone(
        hass, mock_config_entry, Platform.SENSOR, entity_registry, snapshot
    )


async def test_call_state_follows_the_call(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """Idle, ringing, connected, idle again; the attributes describe the current call only."""
    call_state = entity_id(hass, "sensor", "call_state")
    idle = hass.states.get(call_state)
    assert idle.state == "idle"
    assert all(idle.attributes[key] is None for key in CALL_ATTRIBUTES)

    call = await emulator.ring(caller="1234567")
    await hass.async_block_till_done()
    ringing = hass.states.get(call_state)
    assert ringing.state == "ringing"
    current = init_integration.runtime_data.manager.current_call
    assert {
        key: ringing.attributes[key]
        for key in ("call_id", "direction", "remote_party", "destination")
    } == {
        "call_id": current.call_id,
        "direction": "incoming",
        "remote_party": "1234567",
        "destination": f"sip:door@{TENANT}",
    }
    assert ringing.attributes["started_at"] is not None
    assert ringing.attributes["answered_at"] is None
    # Secrets of the call never become attributes.
    assert current.reply_id not in str(ringing.attributes)

    await action(hass, "answer")
    await wait_connected(init_integration, emulator, call.call_id)
    await wait_until(lambda: hass.states.get(call_state).state == "connected")
    connected = hass.states.get(call_state)
    assert connected.attributes["codec"] == "PCMA"
    assert connected.attributes["srtp"] is False
    assert connected.attributes["answered_at"] is not None

    await emulator.remote_hangup(call.call_id)
    await wait_until(lambda: hass.states.get(call_state).state == "idle")
    ended = hass.states.get(call_state)
    assert all(ended.attributes[key] is None for key in CALL_ATTRIBUTES)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_rtp_sensors_measure_the_connected_call(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """The polled RTP loss and jitter have values only while a call is connected."""
    loss = entity_id(hass, "sensor", "rtp_loss")
    jitter = entity_id(hass, "sensor", "rtp_jitter")
    assert hass.states.get(loss).state == STATE_UNKNOWN
    assert hass.states.get(jitter).state == STATE_UNKNOWN

    call = await emulator.ring(tone_hz=440.0)
    await action(hass, "answer")
    await wait_connected(init_integration, emulator, call.call_id)
    manager = init_integration.runtime_data.manager
    # Wait for received media, then let the poll run.
    await wait_until(lambda: manager.current_snapshot().stats.packets_received >= 25)
    async_fire_time_changed(
        hass, dt_util.utcnow() + SCAN_INTERVAL + timedelta(seconds=1)
    )
    await hass.async_block_till_done()
    assert 0.0 <= float(hass.states.get(loss).state) < 5.0
    assert 0.0 <= float(hass.states.get(jitter).state) < 20.0

    await action(hass, "hang_up")
    await emulator.wait_for_state(call.call_id, "ended")
    async_fire_time_changed(
        hass, dt_util.utcnow() + 2 * SCAN_INTERVAL + timedelta(seconds=1)
    )
    await hass.async_block_till_done()
    assert hass.states.get(loss).state == STATE_UNKNOWN
    assert hass.states.get(jitter).state == STATE_UNKNOWN
