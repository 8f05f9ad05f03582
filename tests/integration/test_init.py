"""Setting up and unloading entries: not ready, broken keys, the repair issue."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.cloud_sip_ua import leftovers
from custom_components.cloud_sip_ua.const import (
    CONF_API_BASE_URL,
    CONF_PRIVATE_KEY,
    DOMAIN,
)
from custom_components.cloud_sip_ua.http.callback_url import ISSUE_NO_EXTERNAL_URL
from emulator import Emulator
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from tests.waiting import wait_until

from .helpers import action, wait_connected


async def test_service_unreachable_is_not_ready(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, emulator: Emulator
) -> None:
    """With the API down the entry retries later."""
    await emulator.stop()
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY
    await emulator.start()


async def test_broken_stored_key_is_an_error(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """A stored key that cannot be read fails setup without retrying."""
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry, data={**mock_config_entry.data, CONF_PRIVATE_KEY: "garbage"}
    )
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    assert mock_config_entry.state is ConfigEntryState.SETUP_ERROR


async def test_no_external_url_raises_a_repair_issue(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, ha_base_url: str
) -> None:
    """Without an external URL the cloud cannot call back: the user is told, until it is fixed."""
    await hass.config.async_update(external_url=None)
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    issues = ir.async_get(hass)
    assert issues.async_get_issue(DOMAIN, ISSUE_NO_EXTERNAL_URL) is not None
    # The internal URL still serves as the shown callback URL.
    assert mock_config_entry.runtime_data.callback_url.startswith(ha_base_url)
    await hass.config.async_update(external_url=ha_base_url)
    assert await hass.config_entries.async_reload(mock_config_entry.entry_id)
    assert issues.async_get_issue(DOMAIN, ISSUE_NO_EXTERNAL_URL) is None


async def test_api_base_url_defaults_to_the_region(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """Without an override the client talks to the regional API host."""
    data = {k: v for k, v in mock_config_entry.data.items() if k != CONF_API_BASE_URL}
    from custom_components.cloud_sip_ua.cloudsipua.client import api_base_url

    assert api_base_url(data["domain"]) == "https://api.prod-eu-north-1.iotcomms.io"


async def test_calls_left_over_from_a_restart_are_hung_up(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    emulator: Emulator,
    hass_storage: dict[str, Any],
) -> None:
    """A call still up at the cloud after a crash is ended when the entry loads again."""
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    call = await emulator.ring()
    await action(hass, "answer")
    await wait_connected(mock_config_entry, emulator, call.call_id)
    manager = mock_config_entry.runtime_data.manager
    connected = manager.current_call
    assert connected is not None
    reply_id = connected.reply_id
    key = f"{DOMAIN}.{mock_config_entry.entry_id}.calls"
    saved = {"calls": [{"reply_id": reply_id, "site_base_url": None}]}
    await wait_until(
        lambda: hass_storage.get(key, {}).get("data") == saved, what="the save"
    )

    # A crash: Home Assistant forgets the call without hanging up; the store keeps it.
    await connected.media.close()
    manager._calls.clear()  # noqa: SLF001 - simulating the crash
    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)
    hass_storage[key]["data"] = {
        "calls": [{"reply_id": reply_id, "site_base_url": None}]
    }
    assert call.state == "connected"

    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await emulator.wait_for_state(call.call_id, "ended")
    assert hass_storage[key]["data"] == {"calls": []}


async def test_a_leftover_the_cloud_cannot_be_asked_about_is_kept(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A leftover whose hang-up fails (5xx) stays on disk for the next start; a refusal goes."""
    key = f"{DOMAIN}.{init_integration.entry_id}.calls"
    store = leftovers.LeftoverCalls(hass, init_integration.entry_id)
    hass_storage[key] = {
        "version": 1,
        "key": key,
        "data": {
            "calls": [
                {"reply_id": "unreachable", "site_base_url": None},
                {"reply_id": "refused", "site_base_url": None},
            ]
        },
    }
    # The first hang-up gets a 503; the second a refusal (the emulator never issued it).
    emulator.faults.update({"api_error": 1, "api_operations": ["hangupcalljwt"]})
    tried = await store.async_end_leftovers(init_integration.runtime_data.client)
    assert tried == 2
    assert "trying again at the next start" in caplog.text
    assert hass_storage[key]["data"]["calls"] == [
        {"reply_id": "unreachable", "site_base_url": None}
    ]
