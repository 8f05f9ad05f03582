"""The demo's door camera in the intercom card, in Home Assistant's real frontend (headless Chromium).

A ring through the emulator's control API turns the card's camera live (Home Assistant's
picture-entity card with its MJPEG stream); idle, the card shows the camera's still picture.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
import shutil
import time
from typing import Any
import urllib.request

from playwright.async_api import Browser, Page
import pytest

from .demo_process import CHROMIUM, Demo

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (scripts/setup)"
)

FRESH_CONTEXTS = 5
DASHBOARD = "/cloud-sip-ua/doorbell"
CAMERA = "camera.front_door"
# Set to a folder (scripts/screenshots.py sets docs/) to keep the screenshots.
SCREENSHOT_DIR_ENV = "CLOUD_SIP_UA_SCREENSHOTS"
# What the intercom card's camera holds: the picture-entity card's view, the stream element,
# and each picture's address and whether it has been drawn (naturalWidth).
_CAMERA_STATUS = """() => {
  const all = (root, out = []) => {
    for (const el of root.querySelectorAll('*')) { out.push(el); if (el.shadowRoot) all(el.shadowRoot, out); }
    return out;
  };
  const card = all(document).find((el) => el.localName === 'cloud-sip-ua-card');
  const camera = card && card.shadowRoot && card.shadowRoot.querySelector('.camera');
  if (!camera) return null;
  const inside = all(camera);
  const picture = inside.find((el) => el.localName === 'hui-picture-entity-card');
  return {
    call: card.shadowRoot.querySelector('.state')?.dataset.state ?? null,
    shown: !camera.hidden && camera.getBoundingClientRect().height > 0,
    view: picture ? picture.dataset.view : null,
    entity: picture && picture._config ? picture._config.entity : null,
    stream: inside.some((el) => el.localName === 'ha-camera-stream'),
    pictures: inside
      .filter((el) => el.localName === 'img')
      .map((img) => ({ path: new URL(img.src, location.href).pathname, drawn: img.naturalWidth > 0 })),
  };
}"""
IDLE = {
    "call": "idle",
    "shown": True,
    "view": "auto",
    "entity": CAMERA,
    "stream": False,
    "pictures": [{"path": f"/api/camera_proxy/{CAMERA}", "drawn": True}],
}
RINGING = {
    "call": "ringing",
    "shown": True,
    "view": "live",
    "entity": CAMERA,
    "stream": True,
    "pictures": [{"path": f"/api/camera_proxy_stream/{CAMERA}", "drawn": True}],
}


def emulator(demo: Demo, path: str, body: dict[str, Any] | None = None) -> Any:
    """POST to the emulator's control API; return its JSON answer."""
    request = urllib.request.Request(
        f"{demo.emulator_url}/control/{path}",
        data=json.dumps(body or {}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


async def camera_status(
    page: Page, wanted: dict[str, Any], timeout: float = 20.0
) -> dict[str, Any] | None:
    """Wait until the card's camera is as wanted (or the time is up); return what it last was."""
    deadline = time.monotonic() + timeout
    status: dict[str, Any] | None = None
    while time.monotonic() < deadline:
        try:
            status = await page.evaluate(_CAMERA_STATUS)
        except Exception:  # noqa: BLE001 - the login redirect replaces the page meanwhile
            status = None
        if status == wanted:
            break
        await page.wait_for_timeout(100)
    return status


async def screenshot(page: Page, folder: Path, name: str) -> None:
    """Photograph the card; keep the picture for the docs when asked to."""
    path = folder / f"intercom-card-camera-{name}.png"
    await page.locator("cloud-sip-ua-card").screenshot(
        path=str(path), animations="disabled"
    )
    if target := os.environ.get(SCREENSHOT_DIR_ENV):
        shutil.copy(path, Path(target) / path.name)


async def test_the_camera_is_live_while_it_rings_and_still_when_idle(
    demo: Demo, browser: Browser, tmp_path: Path
) -> None:
    """In fresh browser contexts: a still when idle, the live stream while ringing, a still again."""
    results = []
    for attempt in range(FRESH_CONTEXTS):
        context = await browser.new_context(viewport={"width": 1200, "height": 1000})
        try:
            page = await context.new_page()
            await page.goto(demo.ha_url + DASHBOARD)
            idle = await camera_status(page, IDLE)
            call = emulator(demo, "ring", {"caller": "Front door"})
            ringing = await camera_status(page, RINGING)
            if attempt == 0:
                await screenshot(page, tmp_path, "ringing")
            emulator(demo, f"calls/{call['call_id']}/hangup")
            idle_again = await camera_status(page, IDLE)
            if attempt == 0:
                await screenshot(page, tmp_path, "idle")
            results.append((idle, ringing, idle_again))
        finally:
            await context.close()
    assert results == [(IDLE, RINGING, IDLE)] * FRESH_CONTEXTS
