"""Serve the intercom dashboard card's ES modules and have the frontend load the entry module."""

from __future__ import annotations

from pathlib import Path

from homeassistant.components.http.server import StaticPathConfig
from homeassistant.core import HomeAssistant
from homeassistant.loader import async_get_integration

from ..const import DOMAIN

FRONTEND_DIR = Path(__file__).parent.parent / "frontend"
FRONTEND_URL = "/cloud_sip_ua"
CARD_FILE = FRONTEND_DIR / "cloud-sip-ua-card.js"
# The entry module's URL: stable, dashboards and the demo name it.
CARD_URL = f"{FRONTEND_URL}/{CARD_FILE.name}"


async def async_register_card(hass: HomeAssistant) -> None:
    """Serve the card's modules and add the entry module to every dashboard (when the frontend runs)."""
    # The whole folder, so that the entry's relative imports (`./card.js?v=...`) resolve. No cache
    # headers (no month-long max-age): the version query on the entry URL below and on every relative
    # import makes a browser fetch the new modules after an update.
    await hass.http.async_register_static_paths(
        [StaticPathConfig(FRONTEND_URL, str(FRONTEND_DIR), False)]
    )
    if "frontend" in hass.config.components:
        # Imported here: the frontend is an optional companion, not a requirement.
        from homeassistant.components.frontend import add_extra_js_url  # noqa: PLC0415

        integration = await async_get_integration(hass, DOMAIN)
        add_extra_js_url(hass, f"{CARD_URL}?v={integration.version}")
