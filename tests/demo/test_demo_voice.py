"""The demo's offline voice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from unittest.mock import patch

import pytest

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from scripts.demo_runner.demo_voice import ENTITY_ID, DemoVoice, async_setup


@pytest.fixture(autouse=True)
def tts_cache(tmp_path: Path) -> Iterator[None]:
    """Keep the TTS cache in the test's folder."""
    with patch(
        "homeassistant.components.tts._init_tts_cache_dir", return_value=str(tmp_path)
    ):
        yield


async def test_the_voice_is_a_tts_entity(hass: HomeAssistant) -> None:
    """Setting it up adds tts.demo_voice, which answers with an MP3 clip."""
    assert await async_setup_component(hass, "tts", {})
    assert await async_setup(hass, {})
    await hass.async_block_till_done()
    assert hass.states.get(ENTITY_ID) is not None
    kind, audio = DemoVoice().get_tts_audio("hello", "en-US", {})
    assert kind == "mp3"
    assert audio is not None and len(audio) > 1000
    assert audio[:3] == b"ID3" or audio[0] == 0xFF
