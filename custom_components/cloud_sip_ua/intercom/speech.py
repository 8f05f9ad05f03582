"""Speech onset detection on call audio, with the same VAD model Assist uses (microVAD)."""

from __future__ import annotations

from homeassistant.components.assist_pipeline.audio_enhancer import (
    MicroVadSpeexEnhancer,
)
from homeassistant.components.assist_pipeline.const import BYTES_PER_CHUNK, MS_PER_CHUNK

SPEECH_THRESHOLD = 0.5
# Speech this long starts a command or interrupts a reply: a cough or a car horn does not.
SPEECH_SECONDS = 0.25
# This much non-speech in between starts the count again.
RESET_SECONDS = 0.3


class SpeechDetector:
    """Tells when someone starts talking, from 16 kHz 16-bit mono PCM fed in any frame size."""

    def __init__(self) -> None:
        """Start with no speech heard."""
        self._vad = MicroVadSpeexEnhancer(0, 0, is_vad_enabled=True)
        self._pending = b""
        self._speech_ms = 0
        self._quiet_ms = 0
        self.detected = False

    def reset(self) -> None:
        """Forget what was heard (the model's state carries on: it follows the audio)."""
        self._speech_ms = 0
        self._quiet_ms = 0
        self.detected = False

    def feed(self, pcm: bytes) -> bool:
        """Process audio; return True once speech has gone on for SPEECH_SECONDS."""
        data = self._pending + pcm
        usable = len(data) - len(data) % BYTES_PER_CHUNK
        self._pending = data[usable:]
        for start in range(0, usable, BYTES_PER_CHUNK):
            chunk = self._vad.enhance_chunk(data[start : start + BYTES_PER_CHUNK], 0)
            self._count(chunk.speech_probability or 0.0)
        return self.detected

    def _count(self, probability: float) -> None:
        """Add one 10 ms chunk's verdict to the running counts."""
        if probability > SPEECH_THRESHOLD:
            self._speech_ms += MS_PER_CHUNK
            self._quiet_ms = 0
            if self._speech_ms >= SPEECH_SECONDS * 1000:
                self.detected = True
        else:
            self._quiet_ms += MS_PER_CHUNK
            if self._quiet_ms >= RESET_SECONDS * 1000:
                self._speech_ms = 0
