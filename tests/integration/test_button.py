"""The call buttons: their entities, when they are available, and what a press does."""

from __future__ import annotations

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from emulator import Emulator
from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from tests.waiting import wait_until

from .helpers import entity_id, snapshot_platform_alone, wait_connected

BUTTONS = ("answer", "hang_up", "send_ringback")


async def _press(hass: HomeAssistant, key: str) -> None:
    """Press one of the call buttons."""
    await hass.services.async_call(
        BUTTON_DOMAIN,
        SERVICE_PRESS,
        {ATTR_ENTITY_ID: entity_id(hass, "button", key)},
        blocking=True,
    )


def _available(hass: HomeAssistant) -> set[str]:
    """Return the buttons that are available now."""
    return {
        key
        for key in BUTTONS
        if hass.states.get(entity_id(hass, "button", key)).state != STATE_UNAVAILABLE
    }


async def test_all_entities(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Every button, as registered and as its first state."""
    await snapshot_platform_alone(
        hass, mock_config_entry, Platform.BUTTON, entity_registry, snapshot
    )


async def test_buttons_ringback_answer_and_hang_up(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """Each button is available when it makes sense; its press reaches the caller."""
    assert _available(hass) == set()

    call = await emulator.ring()
    await hass.async_block_till_done()
    assert _available(hass) == set(BUTTONS)
    await _press(hass, "send_ringback")
    await wait_until(lambda: call.ringback_sent)

    await _press(hass, "answer")
    await wait_connected(init_integration, emulator, call.call_id)
    await wait_until(lambda: _available(hass) == {"hang_up"})

    await _press(hass, "hang_up")
    await emulator.wait_for_state(call.call_id, "ended")
    assert _available(hass) == set()


async def test_hang_up_button_rejects_a_ringing_call(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """Hang up on a call that still rings rejects it as busy."""
    call = await emulator.ring()
    await hass.async_block_till_done()
    await _press(hass, "hang_up")
    await emulator.wait_for_state(call.call_id, "ended")
    assert call.sip_status == 486
    assert _available(hass) == set()


async def test_press_the_service_refuses_is_a_translated_error(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """A press the cloud service fails raises a translated error; the call still rings."""
    call = await emulator.ring()
    await hass.async_block_till_done()
    emulator.faults.update({"api_error": 1, "api_error_status": 503})
    with pytest.raises(HomeAssistantError) as err:
        await _press(hass, "answer")
    assert err.value.translation_key == "unexpected"
    assert _available(hass) == set(BUTTONS)
    await _press(hass, "answer")
    await wait_connected(init_integration, emulator, call.call_id)
    await _press(hass, "hang_up")
    await emulator.wait_for_state(call.call_id, "ended")
