"""A media player that speaks into the connected call: tts.speak and play_media land in the call."""

from __future__ import annotations

import asyncio
from typing import Any

from homeassistant.components import media_source
from homeassistant.components.media_player import (
    MediaPlayerEntity,
    MediaPlayerEntityDescription,
)
from homeassistant.components.media_player.browse_media import BrowseMedia
from homeassistant.components.media_player.const import (
    MediaPlayerEntityFeature,
    MediaPlayerState,
    MediaType,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .cloudsipua.calls import CallEvent, CallState
from .cloudsipua.media.session import MediaSession
from .const import DOMAIN, SAMPLE_RATE
from .data import CloudSipUaConfigEntry
from .entity import CloudSipUaEntity
from .errors import translate_errors
from .intercom.audio import async_media_to_pcm

PARALLEL_UPDATES = 0

CALL_AUDIO = MediaPlayerEntityDescription(
    key="call_audio", translation_key="call_audio"
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CloudSipUaConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the call audio player."""
    async_add_entities([CallAudioPlayer(entry, CALL_AUDIO)])


class CallAudioPlayer(CloudSipUaEntity, MediaPlayerEntity):
    """Plays media into the connected call, decoded to 8 kHz mono."""

    _attr_media_content_type = MediaType.MUSIC
    _attr_supported_features = (
        MediaPlayerEntityFeature.PLAY_MEDIA
        | MediaPlayerEntityFeature.BROWSE_MEDIA
        | MediaPlayerEntityFeature.MEDIA_ANNOUNCE
        | MediaPlayerEntityFeature.STOP
    )
    _playback: asyncio.Task[None] | None = None
    # The call's media the playback goes into: stop clears this one, whichever call is current.
    _playing_on: MediaSession | None = None

    @property
    def state(self) -> MediaPlayerState:
        """Return playing while audio goes into the call, idle in a call, off otherwise."""
        if self._playback is not None:
            return MediaPlayerState.PLAYING
        call = self._manager.current_snapshot()
        return (
            MediaPlayerState.IDLE
            if call and call.state is CallState.CONNECTED
            else MediaPlayerState.OFF
        )

    @callback
    def _async_handle_call_event(self, event: CallEvent) -> None:
        """Stop playing when the call ends."""
        if self._playback is not None and self._manager.current_snapshot() is None:
            self._playback.cancel()
        super()._async_handle_call_event(event)

    async def async_play_media(
        self, media_type: MediaType | str, media_id: str, **kwargs: Any
    ) -> None:
        """Decode the media, then play it into the call in the background; new media replaces old."""
        async with translate_errors(self.hass, self._entry):
            session = self._manager.media_of()
            pcm = await async_media_to_pcm(self.hass, media_id, self.entity_id)
        await self.async_media_stop()
        self._playing_on = session
        self._playback = self._entry.async_create_background_task(
            self.hass,
            self._async_play(session.play_audio(pcm, SAMPLE_RATE)),
            f"{DOMAIN} playback",
        )
        self.async_write_ha_state()

    async def _async_play(self, playing: Any) -> None:
        """Wait for the audio to be sent, then return to idle."""
        try:
            await playing
        finally:
            self._playback = None
            self._playing_on = None
            self.async_write_ha_state()

    async def async_media_stop(self) -> None:
        """Stop what is playing and drop what it queued in the call it plays into."""
        if (task := self._playback) is None:
            return
        task.cancel()
        if (session := self._playing_on) is not None:
            session.clear_audio()
        await asyncio.gather(task, return_exceptions=True)

    async def async_browse_media(
        self,
        media_content_type: MediaType | str | None = None,
        media_content_id: str | None = None,
    ) -> BrowseMedia:
        """Browse Home Assistant's media sources, audio only."""
        return await media_source.async_browse_media(
            self.hass,
            media_content_id,
            content_filter=lambda item: item.media_content_type.startswith("audio/"),
        )
