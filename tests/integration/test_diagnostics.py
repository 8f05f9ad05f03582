"""Diagnostics: a snapshot, and no secret anywhere."""

from __future__ import annotations

import json

from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from custom_components.cloud_sip_ua.diagnostics import (
    async_get_config_entry_diagnostics,
)
from emulator import Emulator
from homeassistant.core import HomeAssistant

from .conftest import WEBHOOK_ID
from .helpers import action, wait_connected


def _normalise(diagnostics: dict[str, object], emulator: Emulator) -> str:
    """Replace values that differ between runs (ports, ids, times)."""
    text = json.dumps(diagnostics, sort_keys=True, default=str)
    return text.replace(emulator.base_url, "http://127.0.0.1:<emulator>")


async def test_diagnostics_redact_secrets(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    snapshot: SnapshotAssertion,
) -> None:
    """Diagnostics show settings, calls and counters, never keys, replyIds or the webhook id."""
    call = await emulator.ring(caller="1234567")
    await action(hass, "answer")
    await wait_connected(init_integration, emulator, call.call_id)
    diagnostics = await async_get_config_entry_diagnostics(hass, init_integration)
    text = json.dumps(diagnostics, default=str)
    private_key = init_integration.data["private_key"]
    assert private_key.splitlines()[1] not in text
    assert WEBHOOK_ID not in text
    manager_call = init_integration.runtime_data.manager.current_call
    assert manager_call is not None
    assert manager_call.reply_id is not None
    assert manager_call.reply_id not in text
    assert diagnostics["entry"]["data"]["private_key"] == "**REDACTED**"
    assert diagnostics["entry"]["data"]["webhook_id"] == "**REDACTED**"
    assert diagnostics["calls"][0]["state"] == "connected"
    assert diagnostics["calls"][0]["media"]["packets_sent"] >= 0
    await action(hass, "hang_up")
    await emulator.wait_for_state(call.call_id, "ended")
    idle = await async_get_config_entry_diagnostics(hass, init_integration)
    for recent in idle["recent_calls"]:
        for key in ("call_id", "started_at", "answered_at", "ended_at"):
            recent[key] = "<varies>"
    assert json.loads(_normalise(idle, emulator)) == snapshot
