"""A test-only Assist satellite: it fetches and keeps what it is told to play, and answers from a script.

It stands for a Voice PE or ESPHome satellite: announcements and questions arrive through core's
`async_internal_announce` / `async_internal_ask_question`, the media is fetched over HTTP like a
real device does, and the "spoken" reply comes back as the STT_END event of a pipeline.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
import time

import aiohttp

from homeassistant.components.assist_pipeline import PipelineEvent, PipelineEventType
from homeassistant.components.assist_satellite import (
    AssistSatelliteAnnouncement,
    AssistSatelliteConfiguration,
    AssistSatelliteEntity,
    AssistSatelliteEntityFeature,
)
from homeassistant.components.assist_satellite.const import DATA_COMPONENT as SATELLITES
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component


@dataclass
class Played:
    """One announcement or question as the satellite played it."""

    kind: str  # "announce" or "question"
    message: str
    media_id: str
    preannounce: bool
    status: int
    body: bytes
    # time.monotonic() when the request went out and when the whole body was in.
    requested_at: float
    fetched_at: float


class ScriptedSatellite(AssistSatelliteEntity):
    """Plays (fetches) every announcement and answers each question with the next scripted line."""

    _attr_supported_features = (
        AssistSatelliteEntityFeature.ANNOUNCE
        | AssistSatelliteEntityFeature.START_CONVERSATION
    )

    def __init__(self, key: str, replies: list[str | None] | None = None) -> None:
        """Name the satellite; None in the script means "nobody answered"."""
        self._attr_name = f"Test satellite {key}"
        self._attr_unique_id = f"test_satellite_{key}"
        self.replies: deque[str | None] = deque(replies or [])
        self.played: list[Played] = []
        # time.monotonic() of each reply handed back.
        self.replied_at: list[float] = []
        self.asked = asyncio.Event()
        # A question left waiting (tests of cancellation): released by this event.
        self.hold = asyncio.Event()
        self.hold.set()

    def async_get_configuration(self) -> AssistSatelliteConfiguration:
        """Return an empty configuration: no wake words."""
        return AssistSatelliteConfiguration(
            available_wake_words=[], active_wake_words=[], max_active_wake_words=0
        )

    async def async_set_configuration(
        self, config: AssistSatelliteConfiguration
    ) -> None:
        """Accept anything."""

    def on_pipeline_event(self, event: PipelineEvent) -> None:
        """Ignore pipeline events (no pipeline runs on this satellite)."""

    async def async_announce(self, announcement: AssistSatelliteAnnouncement) -> None:
        """Fetch the announcement as a speaker would."""
        self.played.append(await self._fetch("announce", announcement))

    async def async_start_conversation(
        self, start_announcement: AssistSatelliteAnnouncement
    ) -> None:
        """Play the question, then "hear" the next scripted reply."""
        self.played.append(await self._fetch("question", start_announcement))
        self.asked.set()
        await self.hold.wait()
        reply = self.replies.popleft() if self.replies else None
        self.replied_at.append(time.monotonic())
        if reply is None:
            self._internal_on_pipeline_event(PipelineEvent(PipelineEventType.RUN_END))
            return
        self._internal_on_pipeline_event(
            PipelineEvent(PipelineEventType.STT_END, {"stt_output": {"text": reply}})
        )

    async def _fetch(
        self, kind: str, announcement: AssistSatelliteAnnouncement
    ) -> Played:
        """Download the announcement's media (and note its chime)."""
        requested = time.monotonic()
        async with (
            aiohttp.ClientSession() as session,
            session.get(announcement.media_id) as response,
        ):
            body = await response.read()
            status = response.status
        return Played(
            kind=kind,
            message=announcement.message,
            media_id=announcement.media_id,
            preannounce=announcement.preannounce_media_id is not None,
            status=status,
            body=body,
            requested_at=requested,
            fetched_at=time.monotonic(),
        )


class AnnounceOnlySatellite(ScriptedSatellite):
    """A satellite that can announce but not ask questions."""

    _attr_supported_features = AssistSatelliteEntityFeature.ANNOUNCE


async def async_setup_satellites(
    hass: HomeAssistant, *satellites: ScriptedSatellite
) -> None:
    """Add the satellites to the assist_satellite component (set up here if needed)."""
    assert await async_setup_component(hass, "assist_satellite", {})
    await hass.data[SATELLITES].async_add_entities(list(satellites))
    await hass.async_block_till_done()
    for satellite in satellites:
        assert satellite.entity_id is not None
        assert hass.states.get(satellite.entity_id) is not None
