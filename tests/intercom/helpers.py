"""Helpers shared by the intercom tests."""

from __future__ import annotations

from typing import Any

from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.cloud_sip_ua.const import DOMAIN
from emulator import EmulatedCall, Emulator
from homeassistant.core import HomeAssistant
from tests.waiting import wait_until


async def connected_call(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    emulator: Emulator,
    tone_hz: float = 600.0,
) -> EmulatedCall:
    """Ring, answer through the action and wait until both ends are connected."""
    call = await emulator.ring(tone_hz=tone_hz)
    await hass.services.async_call(DOMAIN, "answer", {}, blocking=True)
    await emulator.wait_for_state(call.call_id, "connected")
    manager = entry.runtime_data.manager
    await wait_until(
        lambda: (
            manager.current_call is not None
            and manager.current_call.state == "connected"
        )
    )
    return call


def subscribe_message(
    entry: MockConfigEntry | None = None, **target: Any
) -> dict[str, Any]:
    """Return an audio subscription command for the entry (or the given target)."""
    if entry is not None:
        target["entry_id"] = entry.entry_id
    return {"type": f"{DOMAIN}/audio/subscribe", **target}
