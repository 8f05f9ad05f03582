"""Telling speech from silence in a recording."""

from __future__ import annotations

import io
import wave

import pytest

from scripts.demo_runner.audio_level import loudest_window_rms, wav_frame_count
from tests.audio_check import tone_pcm, wav_bytes


def test_silence_then_tone() -> None:
    """Silence is 0; a tone after the mark is loud; nothing after the end is 0."""
    silence = bytes(8000 * 2)
    tone = tone_pcm(1000.0, 0.5, 8000)
    wav = wav_bytes(silence + tone, 8000)
    assert wav_frame_count(wav) == 8000 + len(tone) // 2
    assert loudest_window_rms(wav_bytes(silence, 8000)) == 0
    assert loudest_window_rms(wav, 8000) > 5000
    assert loudest_window_rms(wav, 0) > 5000
    assert loudest_window_rms(wav, 10**6) == 0


def test_only_16_bit_mono() -> None:
    """Other sample formats are refused, not misread."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(2)
        writer.setsampwidth(2)
        writer.setframerate(8000)
        writer.writeframes(bytes(640))
    with pytest.raises(ValueError, match="16-bit mono"):
        loudest_window_rms(buffer.getvalue())
