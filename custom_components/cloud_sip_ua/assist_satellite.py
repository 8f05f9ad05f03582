"""The Assist satellite of the device: Assist answers the door on a connected call."""

from __future__ import annotations

from collections.abc import AsyncIterator
import logging
from typing import Any

from homeassistant.components import tts
from homeassistant.components.assist_pipeline import PipelineEvent, PipelineEventType
from homeassistant.components.assist_satellite import (
    AssistSatelliteAnnouncement,
    AssistSatelliteConfiguration,
    AssistSatelliteEntity,
    AssistSatelliteEntityDescription,
    AssistSatelliteEntityFeature,
)
from homeassistant.components.assist_satellite.connection_test import (
    CONNECTION_TEST_URL_BASE,
)
from homeassistant.const import Platform
from homeassistant.core import Context, HomeAssistant, ServiceResponse, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .cloudsipua.media.session import MediaSession
from .const import ATTR_CALL_ID, DOMAIN, SAMPLE_RATE
from .data import CloudSipUaConfigEntry, assist_enabled
from .entity import CloudSipUaEntity
from .errors import translate_errors
from .intercom.assist_session import TurnResult
from .intercom.audio import async_media_to_pcm, wav_pcm
from .intercom.controller import IntercomController

_LOGGER = logging.getLogger(__name__)

PARALLEL_UPDATES = 0

ASSIST = AssistSatelliteEntityDescription(key="assist", translation_key="assist")
# Unique id suffixes of the entities that exist only with Assist on calls.
ASSIST_ENTITY_KEYS = ("assist", "pipeline", "vad_sensitivity", "assist_answers")
# How replies are named between the pipeline events and the session: the TTS stream's token.
TTS_STREAM_PREFIX = "tts-stream:"


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CloudSipUaConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the device's Assist satellite when the options turn Assist on calls on.

    Not before: Home Assistant's frontend replaces the last step of the config flow (the one that
    shows the callback URL) with its voice satellite wizard when the new device has a satellite,
    and that wizard (wake words, a test announcement) does not fit a satellite that lives in calls.
    """
    if not assist_enabled(entry.options):
        _async_forget_assist_entities(hass, entry)
        return
    async_add_entities(
        [CallAssistSatellite(entry, ASSIST, entry.runtime_data.intercom)]
    )


@callback
def _async_forget_assist_entities(
    hass: HomeAssistant, entry: CloudSipUaConfigEntry
) -> None:
    """Remove what Assist on calls left in the entity registry, so nothing stays unavailable."""
    registry = er.async_get(hass)
    prefix = f"{entry.unique_id}-"
    for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
        if entity.unique_id.removeprefix(prefix) in ASSIST_ENTITY_KEYS:
            registry.async_remove(entity.entity_id)


class CallAssistSatellite(CloudSipUaEntity, AssistSatelliteEntity):
    """Runs Assist pipelines on the connected call: the caller talks, Home Assistant answers.

    The intercom controller decides when Assist runs and keeps its sessions; this entity is
    their voice (pipeline runs, replies, announcements) and shows which call Assist is on.
    """

    entity_description: AssistSatelliteEntityDescription
    _attr_supported_features = (
        AssistSatelliteEntityFeature.ANNOUNCE
        | AssistSatelliteEntityFeature.START_CONVERSATION
    )
    # The pipeline delivers replies ready for the call: 16 kHz mono WAV, no re-encoding.
    _attr_tts_options = {
        tts.ATTR_PREFERRED_FORMAT: "wav",
        tts.ATTR_PREFERRED_SAMPLE_RATE: 16000,
        tts.ATTR_PREFERRED_SAMPLE_CHANNELS: 1,
        tts.ATTR_PREFERRED_SAMPLE_BYTES: 2,
    }

    def __init__(
        self,
        entry: CloudSipUaConfigEntry,
        description: AssistSatelliteEntityDescription,
        intercom: IntercomController,
    ) -> None:
        """Serve the entry's intercom."""
        super().__init__(entry, description)
        self._intercom = intercom
        self._turn = TurnResult()

    @property
    def pipeline_entity_id(self) -> str | None:
        """Return the device's pipeline select."""
        return self._select_entity_id("pipeline")

    @property
    def vad_sensitivity_entity_id(self) -> str | None:
        """Return the device's end-of-speech sensitivity select."""
        return self._select_entity_id("vad_sensitivity")

    def _select_entity_id(self, key: str) -> str | None:
        """Return the entity id of one of the device's selects."""
        return er.async_get(self.hass).async_get_entity_id(
            Platform.SELECT, DOMAIN, f"{self._entry.unique_id}-{key}"
        )

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the call Assist is on, if any."""
        return {"call_id": self._intercom.session_call_id}

    @callback
    def async_get_configuration(self) -> AssistSatelliteConfiguration:
        """Return the configuration: calls need no wake word."""
        return AssistSatelliteConfiguration(
            available_wake_words=[], active_wake_words=[], max_active_wake_words=0
        )

    async def async_set_configuration(
        self, config: AssistSatelliteConfiguration
    ) -> None:
        """Accept nothing: there are no wake words to set."""
        raise HomeAssistantError(
            translation_domain=DOMAIN, translation_key="no_wake_words"
        )

    # ---- the user's intent, forwarded to the intercom ------------------------------------

    async def async_start_assist(self, call_id: str | None = None) -> ServiceResponse:
        """Run Assist on the connected call until it ends (the start_assist action)."""
        async with translate_errors(self.hass, self._entry):
            return {ATTR_CALL_ID: self._intercom.async_start_assist(call_id)}

    async def async_stop_assist(self) -> ServiceResponse:
        """Stop Assist; the call goes on (the stop_assist action)."""
        return {ATTR_CALL_ID: self._intercom.async_stop_assist()}

    async def async_added_to_hass(self) -> None:
        """Be the voice of the intercom's Assist sessions while the entity exists."""
        await super().async_added_to_hass()
        self.async_on_remove(self._intercom.async_attach_assist(self))
        self.async_on_remove(
            self._intercom.async_add_listener(self.async_write_ha_state)
        )

    async def async_will_remove_from_hass(self) -> None:
        """Stop the session with the entity."""
        self._intercom.async_stop_assist()
        await self._intercom.async_wait_assist()
        await super().async_will_remove_from_hass()

    # ---- AssistHost: what the session calls -----------------------------------------------

    async def async_run_turn(self, audio: AsyncIterator[bytes]) -> TurnResult:
        """Run the pipeline from STT (no wake word) on the command; return reply and follow-up."""
        self._turn = TurnResult()
        await self.async_accept_pipeline_from_satellite(audio, context=Context())
        return self._turn

    def on_pipeline_event(self, event: PipelineEvent) -> None:
        """Keep the parts of the run the session needs: the reply and whether to go on."""
        data = event.data or {}
        if event.type is PipelineEventType.INTENT_END:
            self._turn.continue_conversation = bool(
                data.get("intent_output", {}).get("continue_conversation")
            )
        elif event.type is PipelineEventType.TTS_END and (
            output := data.get("tts_output")
        ):
            self._turn.tts_media_id = TTS_STREAM_PREFIX + output["token"]
        elif event.type is PipelineEventType.ERROR:
            _LOGGER.debug("Assist pipeline error on the call: %s", data.get("code"))

    async def async_decode(self, media_id: str) -> tuple[bytes, int]:
        """Decode media (a TTS stream or anything else Home Assistant can play) to PCM and its rate."""
        if media_id.startswith(TTS_STREAM_PREFIX):
            token = media_id.removeprefix(TTS_STREAM_PREFIX)
            if (stream := tts.async_get_stream(self.hass, token)) is None:
                raise HomeAssistantError(
                    translation_domain=DOMAIN, translation_key="media_not_found"
                )
            data = b"".join([chunk async for chunk in stream.async_stream_result()])
            if (decoded := wav_pcm(data)) is not None:
                return decoded
            media_id = stream.url
        return await async_media_to_pcm(
            self.hass, media_id, self.entity_id
        ), SAMPLE_RATE

    def reply_finished(self) -> None:
        """Return to idle after speaking."""
        self.tts_response_finished()

    def no_answer(self) -> None:
        """End a question nobody answered (the question action then fails as unanswered)."""
        self._internal_on_pipeline_event(PipelineEvent(PipelineEventType.RUN_END))

    # ---- announcements and conversations ----------------------------------------------------

    async def async_announce(self, announcement: AssistSatelliteAnnouncement) -> None:
        """Play the announcement into the connected call and wait until it has been heard."""
        if (
            announcement.original_media_id.startswith(CONNECTION_TEST_URL_BASE)
            and self._manager.current_call is None
        ):
            # The voice wizard's connection test runs in a task nobody awaits: an error would
            # only be logged as never retrieved. Without a call the test times out instead.
            _LOGGER.debug("No call to play the connection test into")
            return
        async with translate_errors(self.hass, self._entry):
            media = self._manager.media_of()
        await self._async_play_announcement(media, announcement)

    async def async_start_conversation(
        self, start_announcement: AssistSatelliteAnnouncement
    ) -> None:
        """Say the opening line into the call, then listen for the answer."""
        async with translate_errors(self.hass, self._entry):
            media = self._manager.media_of()
            call_id = self._manager.get_call().call_id
        await self._async_play_announcement(media, start_announcement)
        async with translate_errors(self.hass, self._entry):
            self._intercom.async_start_assist(call_id, continuous=False)

    async def _async_play_announcement(
        self, media: MediaSession, announcement: AssistSatelliteAnnouncement
    ) -> None:
        """Decode the chime (if any) and the message, then play them."""
        parts: list[tuple[bytes, int]] = []
        if announcement.preannounce_media_id:
            parts.append(await self.async_decode(announcement.preannounce_media_id))
        if announcement.tts_token:
            parts.append(
                await self.async_decode(TTS_STREAM_PREFIX + announcement.tts_token)
            )
        else:
            parts.append(await self.async_decode(announcement.original_media_id))
        for pcm, rate in parts:
            media.enqueue_audio(pcm, rate)
        await media.play_audio(b"", SAMPLE_RATE)
