"""Small helpers shared by the integration tests."""

from __future__ import annotations

import asyncio
from typing import Any
from unittest.mock import patch

from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.cloud_sip_ua.const import DOMAIN
from emulator import EmulatedCall
from homeassistant.const import Platform
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from tests.waiting import wait_until

TENANT = "customer.prod-eu-north-1.iotcomms.io"


def entity_id(hass: HomeAssistant, platform: str, key: str) -> str:
    """Return the entity id of one of the tenant's entities."""
    found = er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"{TENANT}-{key}")
    assert found is not None
    return found


async def collect_call_audio(
    entry: MockConfigEntry, seconds: float, *, settle: float = 0.0
) -> bytes:
    """Record what Home Assistant hears on the connected call, after `settle` seconds of it.

    Both durations are the call's own 20 ms frames, not wall time, so a slow machine only
    makes the test slower.
    """
    subscription = entry.runtime_data.manager.media_of().subscribe(8000)
    frames: list[bytes] = []
    skip = round(settle / 0.02)
    try:
        async with asyncio.timeout(settle + seconds + 2):
            async for frame in subscription:
                if skip:
                    skip -= 1
                    continue
                frames.append(frame)
                if len(frames) * 0.02 >= seconds:
                    break
    finally:
        subscription.close()
    return b"".join(frames)


async def wait_heard(call: EmulatedCall, seconds: float, timeout: float = 5.0) -> None:
    """Wait until the caller has heard `seconds` more of the call (its own recording's time)."""
    wanted = len(call.remote_party.recorded_pcm()) + round(seconds * 16000)
    await wait_until(
        lambda: len(call.remote_party.recorded_pcm()) >= wanted,
        timeout,
        f"{seconds} s more audio at the caller",
    )


def event_recorder(hass: HomeAssistant, entity: str) -> list[dict[str, Any]]:
    """Record the event types and attributes an event entity fires."""
    fired: list[dict[str, Any]] = []

    @callback  # run in the loop as the state is written (a plain function would go to a thread)
    def on_change(event: Event[Any]) -> None:
        new = event.data["new_state"]
        if (
            event.data["entity_id"] == entity
            and new is not None
            and new.state not in ("unknown", "unavailable")
        ):
            fired.append(dict(new.attributes))

    hass.bus.async_listen("state_changed", on_change)
    return fired


async def wait_connected(entry: MockConfigEntry, emulator: Any, call_id: str) -> None:
    """Wait until the emulator and Home Assistant both see the call connected."""
    await emulator.wait_for_state(call_id, "connected")
    manager = entry.runtime_data.manager
    await wait_until(
        lambda: any(c.state == "connected" for c in manager.calls),
        what="the call connected in Home Assistant",
    )


async def answer_tone_call(
    hass: HomeAssistant, entry: MockConfigEntry, emulator: Any, tone_hz: float = 440.0
) -> str:
    """Ring with a caller playing `tone_hz`, answer, wait until connected; return the call id."""
    call = await emulator.ring(tone_hz=tone_hz)
    await action(hass, "answer")
    await wait_connected(entry, emulator, call.call_id)
    call_id: str = entry.runtime_data.manager.current_call.call_id
    return call_id


async def action(hass: HomeAssistant, service: str, **data: Any) -> Any:
    """Call one of the integration's actions and return its response."""
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=True
    )


async def snapshot_platform_alone(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    platform: Platform,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Set the entry up with only `platform` and snapshot its entities (registry and state)."""
    entry.add_to_hass(hass)
    with patch("custom_components.cloud_sip_ua.PLATFORMS", [platform]):
        assert await hass.config_entries.async_setup(entry.entry_id)
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)
