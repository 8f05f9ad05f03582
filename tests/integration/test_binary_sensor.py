"""The in-call binary sensor: its entity, and how it follows a call."""

from __future__ import annotations

from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from emulator import Emulator
from homeassistant.const import STATE_OFF, STATE_ON, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from tests.waiting import wait_until

from .helpers import action, entity_id, snapshot_platform_alone, wait_connected


async def test_all_entities(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Every binary sensor, as registered and as its first state."""
    await snapshot_platform_alone(
        hass, mock_config_entry, Platform.BINARY_SENSOR, entity_registry, snapshot
    )


async def test_in_call_follows_the_call(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """Off while it rings, on once connected, off when either side hangs up."""
    in_call = entity_id(hass, "binary_sensor", "in_call")
    assert hass.states.get(in_call).state == STATE_OFF

    call = await emulator.ring()
    await hass.async_block_till_done()
    assert hass.states.get(in_call).state == STATE_OFF
    await action(hass, "answer")
    await wait_connected(init_integration, emulator, call.call_id)
    await wait_until(lambda: hass.states.get(in_call).state == STATE_ON)
    await action(hass, "hang_up")
    await emulator.wait_for_state(call.call_id, "ended")
    assert hass.states.get(in_call).state == STATE_OFF

    call = await emulator.ring()
    await action(hass, "answer")
    await wait_connected(init_integration, emulator, call.call_id)
    await wait_until(lambda: hass.states.get(in_call).state == STATE_ON)
    await emulator.remote_hangup(call.call_id)
    await wait_until(lambda: hass.states.get(in_call).state == STATE_OFF)
