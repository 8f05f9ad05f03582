"""Serve the intercom dashboard card and have the frontend load it."""

from __future__ import annotations

from pathlib import Path

from homeassistant.components.http.server import StaticPathConfig
from homeassistant.core import HomeAssistant

CARD_FILE = Path(__file__).parent / "frontend" / "cloud-sip-ua-card.js"
CARD_URL = "/cloud_sip_ua/cloud-sip-ua-card.js"


async def async_register_card(hass: HomeAssistant) -> None:
    """Serve the card's script and add it to every dashboard (when the frontend runs)."""
    # No cache headers: a browser must pick up a new card after an update of the integration.
    await hass.http.async_register_static_paths(
        [StaticPathConfig(CARD_URL, str(CARD_FILE), False)]
    )
    if "frontend" in hass.config.components:
        # Imported here: the frontend is an optional companion, not a requirement.
        from homeassistant.components.frontend import add_extra_js_url  # noqa: PLC0415

        add_extra_js_url(hass, CARD_URL)
