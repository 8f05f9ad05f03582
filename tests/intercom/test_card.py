"""The card's ES modules are served by the integration and added to the frontend when it runs."""

from __future__ import annotations

import json
import re

from custom_components.cloud_sip_ua.http.card import (
    CARD_FILE,
    CARD_URL,
    FRONTEND_DIR,
    FRONTEND_URL,
    async_register_card,
)
from homeassistant.components.frontend import DATA_EXTRA_MODULE_URL, UrlManager
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.setup import async_setup_component

MANIFEST = FRONTEND_DIR.parent / "manifest.json"
MODULES = sorted(FRONTEND_DIR.glob("*.js"))
# Static imports and re-exports: `import "x"`, `import {a, b} from "x"`, `export * from "x"`.
IMPORT = re.compile(
    r"""^(?:import|export)\s+(?:[\w*{}\s,]+\s+from\s+)?["']([^"']+)["']""", re.MULTILINE
)


def _version() -> str:
    version: str = json.loads(MANIFEST.read_text(encoding="utf-8"))["version"]
    return version


async def test_card_modules_are_served(hass: HomeAssistant, ha_base_url: str) -> None:
    """The integration serves every module of the card, uncached, without needing the frontend."""
    # Dashboards and the demo name the entry module: its URL stays.
    assert CARD_URL == "/cloud_sip_ua/cloud-sip-ua-card.js"
    assert CARD_FILE in MODULES
    session = async_get_clientsession(hass)
    for module in MODULES:
        async with session.get(
            f"{ha_base_url}{FRONTEND_URL}/{module.name}"
        ) as response:
            assert response.status == 200, module.name
            assert "javascript" in response.headers["Content-Type"]
            assert "max-age" not in response.headers.get("Cache-Control", "")
            assert await response.text() == module.read_text(encoding="utf-8")
    async with session.get(f"{ha_base_url}{CARD_URL}?v={_version()}") as response:
        body = await response.text()
    assert 'registry.define("cloud-sip-ua-card", CloudSipUaCard)' in body
    assert "window.customCards" in body
    assert 'customElements.whenDefined("home-assistant")' in body
    async with session.get(f"{ha_base_url}{FRONTEND_URL}/") as response:
        assert response.status in (403, 404)  # no listing of the folder


def test_relative_imports_carry_the_version() -> None:
    """Every relative import names the manifest's version, so an update is never a stale cache."""
    version = _version()
    seen = 0
    for module in MODULES:
        for specifier in IMPORT.findall(module.read_text(encoding="utf-8")):
            assert specifier.startswith("./"), (module.name, specifier)
            name, _, query = specifier[2:].partition("?")
            assert (FRONTEND_DIR / name).is_file(), (module.name, specifier)
            assert query == f"v={version}", (module.name, specifier)
            seen += 1
    assert seen >= 5
    const = (FRONTEND_DIR / "const.js").read_text(encoding="utf-8")
    assert f'export const CARD_VERSION = "{version}";' in const


async def test_card_is_added_to_the_frontend(hass: HomeAssistant) -> None:
    """With the frontend running, the card's entry module joins the modules every dashboard loads."""
    assert await async_setup_component(hass, "http", {})
    changes: list[tuple[str, str]] = []
    hass.data[DATA_EXTRA_MODULE_URL] = UrlManager(
        lambda kind, url: changes.append((kind, url)), []
    )
    hass.config.components.add("frontend")
    await async_register_card(hass)
    assert f"{CARD_URL}?v={_version()}" in hass.data[DATA_EXTRA_MODULE_URL].urls
