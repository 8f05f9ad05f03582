"""Audio for the remote party: tones, WAV files and recordings."""

from __future__ import annotations

import io
import math
from pathlib import Path
import wave

import audioop
import numpy as np

SAMPLE_RATE = 8000
# 20 ms at 8 kHz, the pace RTP frames go out at.
FRAME_SAMPLES = 160


class ToneGenerator:
    """An endless sine tone in 16-bit PCM, continuous across chunks."""

    def __init__(
        self, frequency: float, *, sample_rate: int = SAMPLE_RATE, level: float = 0.5
    ) -> None:
        """Set the tone's frequency (Hz), rate and level (fraction of full scale)."""
        if not 0 < frequency < sample_rate / 2:
            raise ValueError(
                "tone frequency must be between 0 and half the sample rate"
            )
        self.frequency = frequency
        self.sample_rate = sample_rate
        self._amplitude = 32767 * min(max(level, 0.0), 1.0)
        self._phase = 0.0

    def chunk(self, samples: int) -> bytes:
        """Return the next `samples` samples as 16-bit little-endian PCM."""
        step = 2 * math.pi * self.frequency / self.sample_rate
        phases = self._phase + step * np.arange(samples)
        self._phase = float((self._phase + step * samples) % (2 * math.pi))
        pcm: bytes = (self._amplitude * np.sin(phases)).astype("<i2").tobytes()
        return pcm


class PcmLoop:
    """Endless 8 kHz PCM from a recording, restarted at its end."""

    def __init__(self, pcm: bytes) -> None:
        """Keep 16-bit mono PCM at 8 kHz; raise ValueError if it is empty."""
        if len(pcm) < 2:
            raise ValueError("the audio file holds no samples")
        self._pcm = pcm[: len(pcm) // 2 * 2]
        self._offset = 0

    def chunk(self, samples: int) -> bytes:
        """Return the next `samples` samples, wrapping around."""
        wanted = samples * 2
        out = bytearray()
        while len(out) < wanted:
            piece = self._pcm[self._offset : self._offset + wanted - len(out)]
            out += piece
            self._offset = (self._offset + len(piece)) % len(self._pcm)
        return bytes(out)


def read_wav(source: Path | bytes) -> tuple[bytes, int]:
    """Return (16-bit mono PCM, 8000) of a PCM WAV file, resampled; raise ValueError if unusable."""
    try:
        handle = io.BytesIO(source) if isinstance(source, bytes) else source.open("rb")
        with handle, wave.open(handle, "rb") as wav:
            channels, width, rate = (
                wav.getnchannels(),
                wav.getsampwidth(),
                wav.getframerate(),
            )
            frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError, OSError) as err:
        raise ValueError(f"cannot read the WAV file: {err}") from err
    if width != 2:
        frames = audioop.lin2lin(frames, width, 2)
    if channels == 2:
        frames = audioop.tomono(frames, 2, 0.5, 0.5)
    elif channels != 1:
        raise ValueError("only mono or stereo WAV files are supported")
    if rate != SAMPLE_RATE:
        # The media session takes only some rates; 8 kHz is what goes on the wire anyway.
        frames, _ = audioop.ratecv(frames, 2, 1, rate, SAMPLE_RATE, None)
    return frames, SAMPLE_RATE


def to_wav(pcm: bytes, sample_rate: int = SAMPLE_RATE) -> bytes:
    """Return 16-bit mono PCM wrapped as a WAV file."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm)
    return buffer.getvalue()
