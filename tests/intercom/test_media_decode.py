"""Decoding media for the call runs ffmpeg off the event loop (starting a process blocks)."""

from __future__ import annotations

from pathlib import Path
import subprocess
import threading
from typing import Any
from unittest.mock import patch

import pytest

from custom_components.cloud_sip_ua.intercom.audio import async_media_to_pcm
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.setup import async_setup_component

RUN = "custom_components.cloud_sip_ua.intercom.audio.subprocess.run"


@pytest.fixture
async def ffmpeg(hass: HomeAssistant) -> None:
    """Set up Home Assistant's ffmpeg component (it names the binary)."""
    assert await async_setup_component(hass, "ffmpeg", {})


async def test_ffmpeg_starts_in_the_executor(
    hass: HomeAssistant, ffmpeg: None, tmp_path: Path
) -> None:
    """The process is started and waited for in an executor thread; a local file's path too."""
    threads: list[int] = []

    def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        threads.append(threading.get_ident())
        assert kwargs["stdin"] is subprocess.DEVNULL
        assert command[command.index("-i") + 1] == str(tmp_path / "tone.wav")
        return subprocess.CompletedProcess(command, 0, b"\x01\x00" * 80, b"")

    (tmp_path / "tone.wav").write_bytes(b"RIFF")
    hass.config.media_dirs = {"local": str(tmp_path)}
    with patch(RUN, side_effect=run):
        pcm = await async_media_to_pcm(
            hass, "media-source://media_source/local/tone.wav", None
        )
    assert pcm == b"\x01\x00" * 80
    assert threads
    assert threading.get_ident() not in threads


async def test_ffmpeg_timeout_is_a_decode_error(
    hass: HomeAssistant, ffmpeg: None
) -> None:
    """A decode that outlives the timeout (subprocess.run kills ffmpeg) is a clear error."""
    with (
        patch(RUN, side_effect=subprocess.TimeoutExpired("ffmpeg", 60)),
        pytest.raises(HomeAssistantError) as err,
    ):
        await async_media_to_pcm(hass, "http://127.0.0.1:1/stalled.wav", None)
    assert err.value.translation_key == "media_decode_failed"
