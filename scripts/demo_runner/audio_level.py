"""How loud a WAV recording is after a given point: to tell speech from silence."""

from __future__ import annotations

import io
import wave

import audioop

WINDOW_MS = 20


def wav_frame_count(wav: bytes) -> int:
    """Return how many sample frames a WAV file holds."""
    with wave.open(io.BytesIO(wav)) as reader:
        return int(reader.getnframes())


def loudest_window_rms(wav: bytes, start_frame: int = 0) -> float:
    """Return the RMS of the loudest 20 ms window from start_frame on (16-bit mono WAV), 0 if none."""
    with wave.open(io.BytesIO(wav)) as reader:
        if reader.getsampwidth() != 2 or reader.getnchannels() != 1:
            raise ValueError("expected 16-bit mono WAV")
        window = reader.getframerate() * WINDOW_MS // 1000
        reader.setpos(min(start_frame, reader.getnframes()))
        pcm = reader.readframes(reader.getnframes())
    size = window * 2
    windows = (
        pcm[offset : offset + size] for offset in range(0, len(pcm) - size + 1, size)
    )
    return float(max((audioop.rms(chunk, 2) for chunk in windows), default=0))
