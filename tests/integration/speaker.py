"""A media player for tests that behaves like a network speaker: it fetches what it is told to play."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from homeassistant.components.media_player import MediaPlayerEntity
from homeassistant.components.media_player.const import (
    DATA_COMPONENT,
    MediaPlayerEntityFeature,
    MediaPlayerState,
    MediaType,
)
from homeassistant.core import HomeAssistant

SPEAKER_ENTITY_ID = "media_player.test_speaker"


class FetchingSpeaker(MediaPlayerEntity):
    """Downloads the played URL until it ends, keeping the bytes."""

    _attr_name = "Test speaker"
    _attr_unique_id = "test_speaker"
    _attr_supported_features = MediaPlayerEntityFeature.PLAY_MEDIA
    _attr_state = MediaPlayerState.IDLE

    def __init__(self) -> None:
        """Start with nothing played."""
        self.urls: list[str] = []
        self.received = bytearray()
        self.status: int | None = None
        self.content_type: str | None = None
        self.finished = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def async_play_media(
        self, media_type: MediaType | str, media_id: str, **kwargs: Any
    ) -> None:
        """Start fetching the URL, as a speaker would."""
        self.urls.append(media_id)
        self._task = asyncio.create_task(self._fetch(media_id))

    async def _fetch(self, url: str) -> None:
        """Read the stream to its end."""
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.get(url) as response,
            ):
                self.status = response.status
                self.content_type = response.headers.get("Content-Type")
                async for chunk in response.content.iter_any():
                    self.received += chunk
        finally:
            self.finished.set()

    async def async_stop_fetching(self) -> None:
        """Wait for the fetch to end (tests call this for cleanup)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def async_setup_speaker(hass: HomeAssistant) -> FetchingSpeaker:
    """Add the speaker to the (already set up) media player component."""
    speaker = FetchingSpeaker()
    await hass.data[DATA_COMPONENT].async_add_entities([speaker])
    await hass.async_block_till_done()
    assert hass.states.get(SPEAKER_ENTITY_ID) is not None
    return speaker
