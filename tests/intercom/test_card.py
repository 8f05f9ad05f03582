"""The card's script is served by the integration and added to the frontend when it runs."""

from __future__ import annotations

from custom_components.cloud_sip_ua.card import CARD_FILE, CARD_URL, async_register_card
from homeassistant.components.frontend import DATA_EXTRA_MODULE_URL, UrlManager
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.setup import async_setup_component


async def test_card_script_is_served(hass: HomeAssistant, ha_base_url: str) -> None:
    """The integration serves the card at its URL, uncached, without needing the frontend."""
    async with async_get_clientsession(hass).get(
        f"{ha_base_url}{CARD_URL}"
    ) as response:
        assert response.status == 200
        assert "javascript" in response.headers["Content-Type"]
        assert "max-age" not in response.headers.get("Cache-Control", "")
        body = await response.text()
    assert body == CARD_FILE.read_text(encoding="utf-8")
    assert 'registry.define("cloud-sip-ua-card", CloudSipUaCard)' in body
    assert "window.customCards" in body


async def test_card_is_added_to_the_frontend(hass: HomeAssistant) -> None:
    """With the frontend running, the card's script joins the modules every dashboard loads."""
    assert await async_setup_component(hass, "http", {})
    changes: list[tuple[str, str]] = []
    hass.data[DATA_EXTRA_MODULE_URL] = UrlManager(
        lambda kind, url: changes.append((kind, url)), []
    )
    hass.config.components.add("frontend")
    await async_register_card(hass)
    assert CARD_URL in hass.data[DATA_EXTRA_MODULE_URL].urls
