"""A whole demo run (start, a doorbell call, the dashboard in a browser, stop) logs nothing of ours."""

from __future__ import annotations

from pathlib import Path
import re

import aiohttp
from playwright.async_api import async_playwright
import pytest

from scripts.demo_runner.check import DoorbellCallCheck
from scripts.demo_runner.emulator_control import EmulatorControl
from scripts.demo_runner.home_assistant import HomeAssistantApi
from scripts.demo_runner.provision import wait_for_door, wait_for_entities
from scripts.demo_runner.saved_state import SavedState
from scripts.demo_runner.stack import DEMO_DOMAIN

from .demo_process import CHROMIUM, CHROMIUM_ARGS, running_demo

# A log record's first line: "2026-11-30 12:30:04.491 WARNING (MainThread) [logger] message".
_RECORD = re.compile(r"^\S+ \S+ (WARNING|ERROR|CRITICAL) \((.*?)\) \[(.*?)\] (.*)$")
# Core says this of every custom integration once; it is not something the integration did.
_NOT_TESTED = "which has not been tested by Home Assistant"


def problems_of_ours(log: str) -> list[str]:
    """Return the WARNING and ERROR records the integration caused."""
    found = []
    lines = log.splitlines()
    for index, line in enumerate(lines):
        if not _RECORD.match(line):
            continue
        # A record goes on until the next one (tracebacks): it counts if any of it names us.
        following = []
        for more in lines[index + 1 :]:
            if _RECORD.match(more) or re.match(r"^\d{4}-\d\d-\d\d ", more):
                break
            following.append(more)
        text = "\n".join([line, *following])
        ours = (
            "cloud_sip_ua" in text or "Detected that custom integration" in text
        ) and _NOT_TESTED not in line
        if ours:
            found.append(text)
    return found


def test_the_filter_finds_our_records() -> None:
    """Records naming the integration count, with their tracebacks; others do not."""
    log = (
        "2026-01-01 00:00:00.000 WARNING (SyncWorker_0) [homeassistant.loader] We found a custom"
        " integration cloud_sip_ua which has not been tested by Home Assistant.\n"
        "2026-01-01 00:00:00.001 ERROR (MainThread) [asyncio] Task exception was never retrieved\n"
        "Traceback (most recent call last):\n"
        '  File "/config/custom_components/cloud_sip_ua/assist_satellite.py", line 1\n'
        "2026-01-01 00:00:00.002 WARNING (MainThread) [homeassistant.helpers.frame] Detected"
        " that custom integration 'x' accesses something\n"
        "2026-01-01 00:00:00.003 WARNING (MainThread) [aiohttp_fast_zlib] zlib_ng missing\n"
        "2026-01-01 00:00:00.004 INFO (MainThread) [custom_components.cloud_sip_ua] fine\n"
    )
    assert [text.splitlines()[0][24:29] for text in problems_of_ours(log)] == [
        "ERROR",
        "WARNI",
    ]


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")
async def test_a_whole_demo_run_logs_no_warning_of_ours(tmp_path: Path) -> None:
    """What `scripts/demo --check` does, plus the dashboard in a browser, leaves a clean log."""
    with running_demo(tmp_path / "demo") as demo:
        saved = SavedState.load(demo.state_dir / "demo.json")
        assert saved.entry_id is not None
        async with aiohttp.ClientSession() as session:
            api = HomeAssistantApi(session, demo.ha_url)
            api.token = demo.token
            entities = await wait_for_entities(api, saved.entry_id, DEMO_DOMAIN, 30)
            door = await wait_for_door(api, 30)
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
                )
                page = await browser.new_page()
                await page.goto(demo.ha_url + "/cloud-sip-ua/doorbell")
                await page.locator("cloud-sip-ua-card").wait_for()
                steps = await DoorbellCallCheck(
                    api,
                    EmulatorControl(session, demo.emulator_url),
                    entities,
                    20.0,
                    lambda _step: None,
                    door=door,
                ).run()
                assert len(steps) == 8
                await browser.close()
    assert problems_of_ours(demo.log.read_text(encoding="utf-8")) == []
