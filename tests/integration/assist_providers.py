"""Test STT and conversation providers, and a pipeline that uses them with the tone voice."""

from __future__ import annotations

from collections.abc import AsyncIterable
from typing import Any, Literal

from homeassistant.components import conversation, stt
from homeassistant.components.assist_pipeline.pipeline import (
    KEY_ASSIST_PIPELINE,
    async_get_pipelines,
)
from homeassistant.components.conversation.const import (
    DATA_COMPONENT as CONVERSATION_COMPONENT,
)
from homeassistant.components.stt.const import DATA_COMPONENT as STT_COMPONENT
from homeassistant.core import HomeAssistant
from homeassistant.helpers import intent

from .tts_provider import TTS_ENTITY_ID, async_setup_tone_tts

HEARD_TEXT = "parcel for you"
REPLY_TEXT = "Please leave it at the door"
STT_ENTITY_ID = "stt.test_ears"
AGENT_ENTITY_ID = "conversation.test_doorkeeper"
PIPELINE_NAME = "Doorstep"


class RecordingEars(stt.SpeechToTextEntity):
    """Keeps every audio stream it gets and "recognises" a fixed sentence in it."""

    _attr_name = "Test ears"
    _attr_unique_id = "test_ears"

    def __init__(self) -> None:
        """Start with nothing heard."""
        self.streams: list[bytes] = []
        self.text = HEARD_TEXT

    @property
    def supported_languages(self) -> list[str]:
        """Return English."""
        return ["en-US"]

    @property
    def supported_formats(self) -> list[stt.AudioFormats]:
        """Return WAV."""
        return [stt.AudioFormats.WAV]

    @property
    def supported_codecs(self) -> list[stt.AudioCodecs]:
        """Return PCM."""
        return [stt.AudioCodecs.PCM]

    @property
    def supported_bit_rates(self) -> list[stt.AudioBitRates]:
        """Return 16 bit."""
        return [stt.AudioBitRates.BITRATE_16]

    @property
    def supported_sample_rates(self) -> list[stt.AudioSampleRates]:
        """Return 16 kHz."""
        return [stt.AudioSampleRates.SAMPLERATE_16000]

    @property
    def supported_channels(self) -> list[stt.AudioChannels]:
        """Return mono."""
        return [stt.AudioChannels.CHANNEL_MONO]

    async def async_process_audio_stream(
        self, metadata: stt.SpeechMetadata, stream: AsyncIterable[bytes]
    ) -> stt.SpeechResult:
        """Collect the stream; any audio at all is the fixed sentence."""
        audio = b"".join([chunk async for chunk in stream])
        self.streams.append(audio)
        return stt.SpeechResult(self.text, stt.SpeechResultState.SUCCESS)


class Doorkeeper(conversation.ConversationEntity):
    """Answers every sentence with the same reply and remembers what it was told."""

    _attr_name = "Test doorkeeper"
    _attr_unique_id = "test_doorkeeper"

    def __init__(self) -> None:
        """Start with nothing heard."""
        self.heard: list[str] = []
        self.continue_conversation = False

    @property
    def supported_languages(self) -> Literal["*"]:
        """Return every language."""
        return "*"

    async def _async_handle_message(
        self, user_input: conversation.ConversationInput, chat_log: Any
    ) -> conversation.ConversationResult:
        """Reply with the fixed answer."""
        self.heard.append(user_input.text)
        response = intent.IntentResponse(language=user_input.language)
        response.async_set_speech(REPLY_TEXT)
        return conversation.ConversationResult(
            response=response,
            conversation_id=user_input.conversation_id,
            continue_conversation=self.continue_conversation,
        )


async def async_setup_doorstep_pipeline(
    hass: HomeAssistant,
) -> tuple[RecordingEars, Doorkeeper]:
    """Add the test STT, agent and voice, and make a pipeline of them the preferred one."""
    await async_setup_tone_tts(hass)
    ears = RecordingEars()
    keeper = Doorkeeper()
    await hass.data[STT_COMPONENT].async_add_entities([ears])
    await hass.data[CONVERSATION_COMPONENT].async_add_entities([keeper])
    await hass.async_block_till_done()
    store = hass.data[KEY_ASSIST_PIPELINE].pipeline_store
    pipeline = await store.async_create_item(
        {
            "name": PIPELINE_NAME,
            "language": "en",
            "conversation_engine": AGENT_ENTITY_ID,
            "conversation_language": "en",
            "stt_engine": STT_ENTITY_ID,
            "stt_language": "en-US",
            "tts_engine": TTS_ENTITY_ID,
            "tts_language": "en-US",
            "tts_voice": None,
            "wake_word_entity": None,
            "wake_word_id": None,
        }
    )
    store.async_set_preferred_item(pipeline.id)
    assert any(p.name == PIPELINE_NAME for p in async_get_pipelines(hass))
    return ears, keeper
