"""The doorbell and call activity events: their entities, and what they fire on a call."""

from __future__ import annotations

from typing import Any

from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from emulator import Emulator
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from tests.waiting import wait_until

from .conftest import TENANT
from .helpers import (
    action,
    entity_id,
    event_recorder,
    snapshot_platform_alone,
    wait_connected,
)


def _fired(attributes: dict[str, Any], *keys: str) -> dict[str, Any]:
    """Return the event type and the given attributes of a fired event."""
    return {key: attributes[key] for key in ("event_type", *keys)}


async def test_all_entities(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Every event entity, as registered and as its first state."""
    await snapshot_platform_alone(
        hass, mock_config_entry, Platform.EVENT, entity_registry, snapshot
    )


async def test_events_of_an_incoming_call(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """The doorbell fires ring; call activity fires answered, the caller's digit, and hung_up."""
    rings = event_recorder(hass, entity_id(hass, "event", "doorbell"))
    activities = event_recorder(hass, entity_id(hass, "event", "call_activity"))

    call = await emulator.ring(caller="1234567")
    await hass.async_block_till_done()
    call_id = init_integration.runtime_data.manager.current_call.call_id
    assert [_fired(ring, "caller", "destination", "call_id") for ring in rings] == [
        {
            "event_type": "ring",
            "caller": "1234567",
            "destination": f"sip:door@{TENANT}",
            "call_id": call_id,
        }
    ]
    assert activities == []

    await action(hass, "answer")
    await wait_connected(init_integration, emulator, call.call_id)
    await wait_until(lambda: len(activities) == 1)
    party = {"call_id": call_id, "direction": "incoming", "remote_party": "1234567"}
    assert _fired(activities[0], *party) == {"event_type": "answered", **party}

    await emulator.send_dtmf(call.call_id, "5")
    await wait_until(lambda: len(activities) == 2)
    assert _fired(activities[1], *party, "digit") == {
        "event_type": "dtmf",
        **party,
        "digit": "5",
    }
    assert activities[1]["duration_ms"] > 0

    await emulator.remote_hangup(call.call_id)
    await wait_until(lambda: len(activities) == 3)
    assert _fired(activities[2], *party, "reason", "sip_status", "sip_reason") == {
        "event_type": "hung_up",
        **party,
        "reason": "remote_hangup",
        "sip_status": None,
        "sip_reason": None,
    }
    assert len(rings) == 1


async def test_outgoing_call_busy(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """A placed call the callee rejects reports failed with the SIP status."""
    activities = event_recorder(hass, entity_id(hass, "event", "call_activity"))
    await action(hass, "place_call", destination="sip:busy@example.com")
    await wait_until(lambda: any(c.direction == "outgoing" for c in emulator.calls))
    placed = next(c for c in emulator.calls if c.direction == "outgoing")
    await emulator.wait_for_state(placed.call_id, "ringing")
    await emulator.remote_reject(placed.call_id, 486, "Busy Here")
    await wait_until(
        lambda: bool(activities) and activities[-1]["event_type"] == "failed"
    )
    assert activities[-1]["sip_status"] == 486
    assert activities[-1]["reason"] == "busy"
    assert hass.states.get(entity_id(hass, "sensor", "call_state")).state == "idle"
