"""The demo in Home Assistant's real frontend (headless Debian Chromium): card, setup dialog, README.

Each test starts the demo (`scripts/demo`) as a child process on free loopback ports.
"""

from __future__ import annotations

from pathlib import Path
import re
import time
from typing import Any

from playwright.async_api import Browser, Page
import pytest

from .demo_process import CHROMIUM, ROOT, Demo, running_demo

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (scripts/setup)"
)

FRESH_LOADS = 10
CALLBACK_URL = re.compile(r"http://127\.0\.0\.1:\d+/api/cloud_sip_ua/[0-9a-f]{64}")
DASHBOARD = "/cloud-sip-ua/doorbell"
# Every element of the page, shadow roots included.
_CARD_STATUS = """() => {
  const all = (root, out = []) => {
    for (const el of root.querySelectorAll('*')) { out.push(el); if (el.shadowRoot) all(el.shadowRoot, out); }
    return out;
  };
  const elements = all(document);
  const cards = elements.filter((el) => el.localName === 'cloud-sip-ua-card');
  return {
    defined: !!customElements.get('cloud-sip-ua-card'),
    rendered: cards.filter((card) => card.shadowRoot && card.shadowRoot.querySelector('ha-card')).length,
    errors: elements.filter((el) => el.localName === 'hui-error-card').length,
  };
}"""
# The README's entities that are the reader's own, not the integration's: examples only.
NOT_THE_INTEGRATIONS = {
    "media_player.kitchen",
    "media_player.living_room",
    "alarm_control_panel.home",
    "tts.home_assistant_cloud",
    # The reader's smart speakers that answer the door.
    "assist_satellite.kitchen",
    "assist_satellite.hall",
}
# Entity ids, not the actions (`action: tts.speak`) that share their look.
_ENTITY_ID = re.compile(
    r"(?<!action: )(?<![.\w])((?:event|sensor|binary_sensor|button|media_player|assist_satellite|switch|select|tts"
    r"|alarm_control_panel)\.[a-z0-9_]+)\b"
)


async def card_status(page: Page, timeout: float = 20.0) -> dict[str, Any]:
    """Wait until the dashboard's intercom card has rendered (or the time is up); return what is on the page."""
    deadline = time.monotonic() + timeout
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            status = await page.evaluate(_CARD_STATUS)
        except Exception:  # noqa: BLE001 - the login redirect replaces the page meanwhile
            status = {}
        if status.get("rendered"):
            break
        await page.wait_for_timeout(200)
    return status


async def test_the_card_renders_on_every_fresh_load(
    demo: Demo, browser: Browser
) -> None:
    """Fresh browser contexts (empty cache, new registry race each time) all show the card."""
    results = []
    for _ in range(FRESH_LOADS):
        context = await browser.new_context()
        try:
            page = await context.new_page()
            await page.goto(demo.ha_url + DASHBOARD)
            results.append(await card_status(page))
        finally:
            await context.close()
    assert results == [{"defined": True, "rendered": 1, "errors": 0}] * FRESH_LOADS


def test_every_entity_id_in_the_readme_exists_in_the_demo(demo: Demo) -> None:
    """The README's examples name the entity ids the integration really creates."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", readme, re.DOTALL)
    named = {match for block in blocks for match in _ENTITY_ID.findall(block)}
    assert "event.customer47_doorbell" in named
    states = {state["entity_id"] for state in demo.api("GET", "/api/states")}
    assert sorted(named - NOT_THE_INTEGRATIONS - states) == []


async def _callback_url_on_screen(page: Page) -> str:
    """Wait for the open config or options flow dialog to show a callback URL; return it."""
    shown = page.locator("dialog-data-entry-flow").get_by_text(CALLBACK_URL).first
    await shown.wait_for()
    found = CALLBACK_URL.search(await shown.inner_text())
    assert found is not None
    return found.group(0)


async def test_the_callback_url_is_shown_after_setup_and_in_the_options(
    tmp_path: Path, browser: Browser
) -> None:
    """Adding the entry in the UI ends on the callback URL (no voice wizard); the options show it again."""
    with running_demo(tmp_path / "demo") as demo:
        for entry in demo.api(
            "GET", "/api/config/config_entries/entry?domain=cloud_sip_ua"
        ):
            demo.api("DELETE", f"/api/config/config_entries/entry/{entry['entry_id']}")
        context = await browser.new_context(viewport={"width": 1000, "height": 1400})
        page = await context.new_page()
        await page.goto(
            demo.ha_url + "/config/integrations/dashboard/add?domain=cloud_sip_ua"
        )
        await page.get_by_role("button", name="OK").click()
        await page.get_by_text("Private key (recommended)").click()
        form = page.locator("dialog-data-entry-flow")
        await form.locator("input[name=domain]").fill(
            "customer47.prod-eu-north-1.iotcomms.io"
        )
        await form.locator("textarea").first.fill(
            (demo.state_dir / "emulator" / "api_private.pem").read_text()
        )
        await form.get_by_text("Advanced", exact=True).click()
        await form.locator("input[name=api_base_url]").fill(demo.emulator_url)
        await form.get_by_role("button", name="Submit").click()

        url = await _callback_url_on_screen(page)
        [entry] = demo.api(
            "GET", "/api/config/config_entries/entry?domain=cloud_sip_ua"
        )
        assert url.startswith(demo.ha_url)
        assert entry["title"] == "customer47"
        # Still the setup dialog, not Home Assistant's voice satellite wizard.
        assert await page.locator("ha-voice-assistant-setup-dialog").count() == 0
        await page.keyboard.press("Escape")

        await page.goto(demo.ha_url + "/config/integrations/integration/cloud_sip_ua")
        await page.get_by_role("button", name="Configure").first.click()
        assert await _callback_url_on_screen(page) == url
        await context.close()
