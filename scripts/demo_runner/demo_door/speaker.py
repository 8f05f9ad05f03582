"""The demo's smart speaker: an Assist satellite that plays what it is told and "hears" a select.

A real speaker plays the question and listens for a spoken answer. This one fetches the
announcement's audio like a device would (so a broken URL shows in its attributes), then waits
up to LISTEN_SECONDS for the person at home to pick what they say in the reply select.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiohttp

from homeassistant.components.assist_pipeline import PipelineEvent, PipelineEventType
from homeassistant.components.assist_satellite import (
    AssistSatelliteAnnouncement,
    AssistSatelliteConfiguration,
    AssistSatelliteEntity,
    AssistSatelliteEntityFeature,
)
from homeassistant.components.select import SelectEntity
from homeassistant.helpers.aiohttp_client import async_get_clientsession

SATELLITE_UNIQUE_ID = "demo_door_hall_speaker"
REPLY_UNIQUE_ID = "demo_door_hall_reply"
SILENCE = "(silence)"
# What the person at home can say: the ring's answers, the relay's commands, a sentence.
REPLIES = [
    SILENCE,
    "answer it",
    "open the door",
    "reject it",
    "We will be right with you",
    "hang up",
]
# How long the speaker listens after a question, like a real one's listening window.
LISTEN_SECONDS = 15.0
CALLER_WORDS = "(the caller's words)"


class ReplySelect(SelectEntity):
    """What the person at home says to the speaker next; heard once, then back to silence."""

    _attr_name = "Hall speaker reply"
    _attr_unique_id = REPLY_UNIQUE_ID
    _attr_icon = "mdi:account-voice"
    _attr_options = REPLIES

    def __init__(self) -> None:
        """Start silent."""
        self._pending: str | None = None
        self._changed = asyncio.Event()

    @property
    def current_option(self) -> str:
        """Return the reply waiting to be heard, or silence."""
        return self._pending or SILENCE

    async def async_select_option(self, option: str) -> None:
        """Say something (or take it back with silence)."""
        self._pending = None if option == SILENCE else option
        self._changed.set()
        self.async_write_ha_state()

    async def hear(self, seconds: float) -> str | None:
        """Return the reply said now or within seconds; None if nothing was said."""
        if self._pending is None:
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(seconds):
                    await self._changed.wait()
        heard, self._pending = self._pending, None
        self.async_write_ha_state()
        return heard


class HallSpeaker(AssistSatelliteEntity):
    """Plays announcements and questions (fetches their audio) and answers from the reply select."""

    _attr_name = "Hall"
    _attr_unique_id = SATELLITE_UNIQUE_ID
    _attr_supported_features = (
        AssistSatelliteEntityFeature.ANNOUNCE
        | AssistSatelliteEntityFeature.START_CONVERSATION
    )

    def __init__(
        self, reply: ReplySelect, listen_seconds: float = LISTEN_SECONDS
    ) -> None:
        """Listen to the reply select."""
        self._reply = reply
        self._listen_seconds = listen_seconds
        self._announcements = 0
        self._questions = 0
        self._last_question: str | None = None
        self._last_reply: str | None = None
        self._last_media_status: int | None = None

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return what the speaker played and heard, for the dashboard and the demo's check."""
        return {
            "announcements": self._announcements,
            "questions": self._questions,
            "last_question": self._last_question,
            "last_reply": self._last_reply,
            "last_media_status": self._last_media_status,
        }

    def async_get_configuration(self) -> AssistSatelliteConfiguration:
        """Return an empty configuration: no wake words."""
        return AssistSatelliteConfiguration(
            available_wake_words=[], active_wake_words=[], max_active_wake_words=0
        )

    async def async_set_configuration(
        self, config: AssistSatelliteConfiguration
    ) -> None:
        """Accept anything: there is nothing to configure."""

    def on_pipeline_event(self, event: PipelineEvent) -> None:
        """Ignore pipeline events: no pipeline runs on this speaker."""

    async def async_announce(self, announcement: AssistSatelliteAnnouncement) -> None:
        """Play an announcement."""
        self._announcements += 1
        await self._play(announcement)

    async def async_start_conversation(
        self, start_announcement: AssistSatelliteAnnouncement
    ) -> None:
        """Play the question, then listen for the reply select."""
        self._questions += 1
        self._last_question = start_announcement.message or CALLER_WORDS
        self._last_reply = None
        await self._play(start_announcement)
        reply = await self._reply.hear(self._listen_seconds)
        self._last_reply = reply
        self.async_write_ha_state()
        if reply is None:
            self._internal_on_pipeline_event(PipelineEvent(PipelineEventType.RUN_END))
        else:
            self._internal_on_pipeline_event(
                PipelineEvent(
                    PipelineEventType.STT_END, {"stt_output": {"text": reply}}
                )
            )

    async def _play(self, announcement: AssistSatelliteAnnouncement) -> None:
        """Fetch the audio as a device would; note the HTTP status (0: not reachable)."""
        session = async_get_clientsession(self.hass)
        try:
            async with session.get(announcement.media_id) as response:
                await response.read()
                self._last_media_status = response.status
        except aiohttp.ClientError, TimeoutError:
            self._last_media_status = 0
        self.async_write_ha_state()
