"""The browser's microphone into a call: validate PCM frames and keep the send backlog short."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import time
from typing import Protocol

from ..const import SAMPLE_RATE

BYTES_PER_SECOND = SAMPLE_RATE * 2
# A burst larger than this is not microphone audio sent as it was captured.
MAX_FRAME_BYTES = BYTES_PER_SECOND // 2
# Audio queued beyond this much is dropped: talk-back must stay live, not fall behind.
MAX_BACKLOG_SECONDS = 0.12
# Silence queued when the backlog ran dry: browser frames come in uneven steps (audio callback
# blocks, network), and without a small cushion every late frame would be a gap in the call.
JITTER_PAD_SECONDS = 0.03


class AudioSink(Protocol):
    """Where the microphone's audio goes: a call's media session."""

    def enqueue_audio(self, pcm: bytes, sample_rate: int) -> None:
        """Queue 16-bit mono PCM to be sent at the call's pace."""


@dataclass(slots=True)
class TalkStats:
    """Counters of one talk stream."""

    frames: int = 0
    bytes: int = 0
    dropped: int = 0
    rejected: int = 0
    padded: int = 0


class MicrophoneFeed:
    """Feeds 8 kHz 16-bit PCM from the browser into a call, dropping what would add delay."""

    def __init__(
        self,
        sink: AudioSink,
        *,
        max_backlog_seconds: float = MAX_BACKLOG_SECONDS,
        jitter_pad_seconds: float = JITTER_PAD_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Start with an empty backlog."""
        self._sink = sink
        self._max_backlog = int(max_backlog_seconds * BYTES_PER_SECOND)
        self._pad = bytes(int(jitter_pad_seconds * SAMPLE_RATE) * 2)
        self._clock = clock
        self._backlog = 0.0
        self._updated = clock()
        self.stats = TalkStats()

    @property
    def backlog_seconds(self) -> float:
        """Return the estimated audio still waiting to be sent."""
        self._drain()
        return self._backlog / BYTES_PER_SECOND

    def _drain(self) -> None:
        """Account for what the call has sent since the last look."""
        now = self._clock()
        self._backlog = max(
            0.0, self._backlog - (now - self._updated) * BYTES_PER_SECOND
        )
        self._updated = now

    def feed(self, pcm: bytes) -> bool:
        """Queue one frame; False if it was malformed or would make the talk-back lag."""
        if not pcm or len(pcm) % 2 or len(pcm) > MAX_FRAME_BYTES:
            self.stats.rejected += 1
            return False
        self._drain()
        if self._backlog + len(pcm) > self._max_backlog:
            self.stats.dropped += 1
            return False
        if self._backlog == 0.0 and self._pad:
            self._sink.enqueue_audio(self._pad, SAMPLE_RATE)
            self._backlog += len(self._pad)
            self.stats.padded += 1
        self._sink.enqueue_audio(pcm, SAMPLE_RATE)
        self._backlog += len(pcm)
        self.stats.frames += 1
        self.stats.bytes += len(pcm)
        return True
