"""Setting up and unloading entries: not ready, broken keys, the repair issue."""

from __future__ import annotations

from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.cloud_sip_ua.callback_url import ISSUE_NO_EXTERNAL_URL
from custom_components.cloud_sip_ua.const import (
    CONF_API_BASE_URL,
    CONF_PRIVATE_KEY,
    DOMAIN,
)
from emulator import Emulator
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir


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
