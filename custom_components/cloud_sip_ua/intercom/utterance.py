"""The caller's audio cut into utterances: an energy voice activity detector with hangover.

A clip relayed to a speaker is judged by a person, not by a speech recogniser, so a plain
level detector does: it keeps a doorbell's chime or a knock as well as words, and it ends the
utterance after a fixed pause without a model's latency.
"""

from __future__ import annotations

from collections import deque
import math

import numpy as np

# Frames louder than this (RMS, dB below full scale) count as sound.
THRESHOLD_DBFS = -42.0
# Sound this long starts an utterance: a click does not.
START_SECONDS = 0.1
# Quiet this long ends it.
HANGOVER_SECONDS = 0.5
# Kept from before the start, so the first syllable is in the clip.
PRE_ROLL_SECONDS = 0.3
# Kept after the last sound: the fading end of the word, not the whole hangover.
TAIL_SECONDS = 0.1
# A caller who never pauses is cut here and the clip relayed all the same.
MAX_SECONDS = 15.0


def rms_dbfs(pcm: bytes) -> float:
    """Return the RMS level of 16-bit PCM in dB below full scale (-inf for silence)."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    if samples.size == 0:
        return -math.inf
    power = float(np.mean(samples * samples))
    if power <= 0.0:
        return -math.inf
    return 10 * math.log10(power / 32768.0**2)


class UtteranceCutter:
    """Takes 16-bit mono PCM frames and returns each utterance once its pause has come."""

    def __init__(self, sample_rate: int = 16000) -> None:
        """Start outside an utterance."""
        self._bytes_per_second = sample_rate * 2
        self._pre_roll: deque[bytes] = deque()
        self._pre_roll_bytes = 0
        self._clip = bytearray()
        self._loud_bytes = 0
        self._quiet_bytes = 0
        self._speaking = False
        # Where the last loud frame ends in the clip: the utterance ends there (plus a tail).
        self._voice_end = 0

    @property
    def speaking(self) -> bool:
        """Return whether an utterance is under way."""
        return self._speaking

    def reset(self) -> None:
        """Forget everything heard (a new turn starts)."""
        self._pre_roll.clear()
        self._pre_roll_bytes = 0
        self._clip.clear()
        self._loud_bytes = 0
        self._quiet_bytes = 0
        self._speaking = False
        self._voice_end = 0

    def feed(self, frame: bytes) -> bytes | None:
        """Process one frame; return the utterance it completed, if any."""
        loud = rms_dbfs(frame) > THRESHOLD_DBFS
        if not self._speaking:
            return self._before_speech(frame, loud)
        self._clip += frame
        if loud:
            self._quiet_bytes = 0
            self._voice_end = len(self._clip)
        else:
            self._quiet_bytes += len(frame)
        if (
            self._quiet_bytes >= HANGOVER_SECONDS * self._bytes_per_second
            or len(self._clip) >= MAX_SECONDS * self._bytes_per_second
        ):
            return self._finish()
        return None

    def _before_speech(self, frame: bytes, loud: bool) -> bytes | None:
        """Keep the pre-roll and count sound until an utterance starts."""
        self._pre_roll.append(frame)
        self._pre_roll_bytes += len(frame)
        self._loud_bytes = self._loud_bytes + len(frame) if loud else 0
        if self._loud_bytes >= START_SECONDS * self._bytes_per_second:
            self._speaking = True
            self._clip = bytearray(b"".join(self._pre_roll))
            self._voice_end = len(self._clip)
            self._quiet_bytes = 0
            self._pre_roll.clear()
            self._pre_roll_bytes = 0
            return None
        limit = (PRE_ROLL_SECONDS + START_SECONDS) * self._bytes_per_second
        while self._pre_roll_bytes > limit:
            self._pre_roll_bytes -= len(self._pre_roll.popleft())
        return None

    def _finish(self) -> bytes:
        """Return the utterance, trimmed to its last sound plus a short tail."""
        end = self._voice_end + int(TAIL_SECONDS * self._bytes_per_second) // 2 * 2
        clip = bytes(self._clip[: min(end, len(self._clip))])
        self.reset()
        return clip
