"""The "Assist answers calls" switch: its entity, what it does on calls, and its restored setting."""

from __future__ import annotations

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    mock_restore_cache,
)
from syrupy.assertion import SnapshotAssertion

from emulator import Emulator
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON, Platform
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er
from tests.waiting import wait_until

from .assist_call import answered, intercom_of, satellite_of, visitor, with_assist
from .assist_providers import Doorkeeper, RecordingEars
from .helpers import action, entity_id, snapshot_platform_alone, wait_connected


@pytest.fixture
def mock_config_entry(mock_config_entry: MockConfigEntry) -> MockConfigEntry:
    """Return the test entry with Assist on calls, without which there is no switch."""
    return with_assist(mock_config_entry)


async def test_all_entities(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Every switch, as registered and as its first state."""
    await snapshot_platform_alone(
        hass, mock_config_entry, Platform.SWITCH, entity_registry, snapshot
    )


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
    await wait_until(lambda: satellite.assist_active)
    await wait_until(lambda: bool(keeper.heard), timeout=15)
    await emulator.remote_hangup(call.call_id)
    await wait_until(lambda: not satellite.assist_active)

    # Turned on during a call, Assist starts on it; turned off, it stops.
    await hass.services.async_call(
        "switch", "turn_off", {ATTR_ENTITY_ID: switch}, blocking=True
    )
    await answered(hass, init_integration, emulator)
    assert not satellite.assist_active
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: switch}, blocking=True
    )
    assert satellite.assist_active
    await hass.services.async_call(
        "switch", "turn_off", {ATTR_ENTITY_ID: switch}, blocking=True
    )
    await wait_until(lambda: not satellite.assist_active)
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


async def test_setting_survives_a_reload_and_answers(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    doorstep: tuple[RecordingEars, Doorkeeper],
) -> None:
    """Turned on, the switch is still on after the entry reloads, and the next call is answered."""
    switch = entity_id(hass, "switch", "assist_answers")
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: switch}, blocking=True
    )
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(switch).state == STATE_ON
    assert intercom_of(init_integration).assist_answers

    call = await emulator.ring(wav=visitor(4.0))
    await emulator.wait_for_state(call.call_id, "connected")
    await wait_until(lambda: intercom_of(init_integration).assist_active)
    await hass.services.async_call(
        "switch", "turn_off", {ATTR_ENTITY_ID: switch}, blocking=True
    )
    assert not intercom_of(init_integration).assist_answers
    await wait_until(lambda: not intercom_of(init_integration).assist_active)
    await action(hass, "hang_up")
