"""An offline text-to-speech entity for the demo: it answers every message with a short spoken clip."""

from __future__ import annotations

from importlib import resources
from typing import Any

from homeassistant.components.tts import TextToSpeechEntity, TtsAudioType
from homeassistant.components.tts.const import DATA_COMPONENT
from homeassistant.core import HomeAssistant
from homeassistant.helpers.typing import ConfigType

DOMAIN = "demo_voice"
ENTITY_ID = "tts.demo_voice"


def _clip() -> bytes:
    """Return the recorded voice clip Home Assistant's own demo integration ships."""
    return (resources.files("homeassistant.components.demo") / "tts.mp3").read_bytes()


class DemoVoice(TextToSpeechEntity):
    """Says the same clip whatever the message: real engines (Piper, cloud) need models or internet."""

    _attr_name = "Demo voice"
    _attr_unique_id = "demo_voice"
    _attr_supported_languages = ["en", "en-US", "en-GB"]
    _attr_default_language = "en-US"

    def get_tts_audio(
        self, message: str, language: str, options: dict[str, Any]
    ) -> TtsAudioType:
        """Return the clip as MP3."""
        return "mp3", _clip()


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Add the voice to the TTS component; a demo needs no config entry or config flow for it."""
    await hass.data[DATA_COMPONENT].async_add_entities([DemoVoice()])
    return True
