"""A text-to-speech provider for tests: it "says" a 1 kHz tone, as a 16 kHz WAV."""

from __future__ import annotations

from typing import Any

from homeassistant.components.tts import TextToSpeechEntity, TtsAudioType
from homeassistant.components.tts.const import DATA_COMPONENT
from homeassistant.core import HomeAssistant
from tests.audio_check import tone_pcm, wav_bytes

TTS_TONE_HZ = 1000.0
TTS_ENTITY_ID = "tts.test_voice"


class ToneSpeech(TextToSpeechEntity):
    """Answers every message with a 1 kHz tone."""

    _attr_name = "Test voice"
    _attr_unique_id = "test_voice"
    _attr_supported_languages = ["en-US"]
    _attr_default_language = "en-US"

    def get_tts_audio(
        self, message: str, language: str, options: dict[str, Any]
    ) -> TtsAudioType:
        """Return the tone at 16 kHz, so the integration must resample it."""
        return "wav", wav_bytes(tone_pcm(TTS_TONE_HZ, 1.5, 16000), 16000)


async def async_setup_tone_tts(hass: HomeAssistant) -> None:
    """Add the test voice to the (already set up) TTS component."""
    await hass.data[DATA_COMPONENT].async_add_entities([ToneSpeech()])
    await hass.async_block_till_done()
    assert hass.states.get(TTS_ENTITY_ID) is not None
