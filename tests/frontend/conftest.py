"""Fixtures of the frontend tests: one running demo per module, and Debian's Chromium."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from playwright.async_api import Browser, async_playwright
import pytest

from .demo_process import CHROMIUM, CHROMIUM_ARGS, Demo, running_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """Run one demo for the module's tests."""
    with running_demo(tmp_path_factory.mktemp("demo")) as running:
        yield running


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Run Debian's Chromium headless."""
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()
