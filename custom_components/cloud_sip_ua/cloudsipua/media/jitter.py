"""Adaptive jitter buffer: reorders, drops duplicates, conceals loss, depth follows jitter."""

from __future__ import annotations

import audioop

ACCEPTED = 0
LATE = 1
DUPLICATE = 2

# Loss concealment: repeat the last frame at these gains, then play silence.
_CONCEALMENT_GAINS = (1.0, 0.7, 0.4, 0.15)
_QUIET_RMS = 300  # frames this quiet are dropped first when the buffer holds too much
_EXCESS_PULLS_BEFORE_TRIM = 25  # 0.5 s of too much delay before dropping a frame
_EXCESS_PULLS_FORCE_TRIM = 150  # 3 s: drop even a loud frame
# One burst of late packets raises the depth once, not once per packet.
_LATE_BOOST_SPACING_PULLS = 10
# 10 s without late packets before lowering the depth again.
_LATE_BOOST_DECAY_PULLS = 500
_MAX_JUMP_SECONDS = 2  # a timestamp jump larger than this restarts the buffer

# Every buffer of a configuration shares one object per size (ints above 256 are objects
# of their own), so the per-tick reads of them hit memory that other sessions keep warm.
_SHARED_INTS: dict[int, int] = {}
_SILENCES: dict[int, bytes] = {}


def _shared(value: int) -> int:
    """Return the shared int object equal to `value` (the set stays small: sizes only)."""
    return _SHARED_INTS.setdefault(value, value)


def _shared_targets(frame: int, low: int, high: int) -> tuple[int, ...]:
    """Return the depth for a wanted depth of 0, 1, 2 ... frames, within [low, high]."""
    count = -(-high // frame) + 1  # from there on, every wanted depth is above `high`
    return tuple(_shared(max(low, min(high, n * frame))) for n in range(count))


class JitterBuffer:
    """Buffers decoded 16-bit PCM by RTP timestamp and plays it out one frame per pull."""

    # What every put and pull reads comes first: adjacent in memory, few cache lines.
    __slots__ = (
        "_cursor",
        "_end",
        "_buffered",
        "_frame",
        "_frame_bytes",
        "measured_jitter",
        "_targets",
        "_jitter_target",
        "_late_boost",
        "_pulls_since_late",
        "_prebuffering",
        "_excess_pulls",
        "_conceal_run",
        "_last_frame",
        "_max",
        "_max_jump",
        "_min",
        "_silence",
        "concealed_frames",
        "duplicates",
        "late",
        "trimmed_frames",
    )

    def __init__(
        self,
        *,
        clock_rate: int = 8000,
        frame_ms: int = 20,
        min_ms: int = 20,
        max_ms: int = 200,
        initial_ms: int = 40,
    ) -> None:
        """Configure frame size and the depth bounds."""
        per_ms = clock_rate // 1000
        self._frame = _shared(frame_ms * per_ms)
        self._frame_bytes = _shared(self._frame * 2)
        self._silence = _SILENCES.setdefault(
            self._frame_bytes, bytes(self._frame_bytes)
        )
        self._min = _shared(min_ms * per_ms)
        self._max = _shared(max_ms * per_ms)
        self._max_jump = _shared(_MAX_JUMP_SECONDS * clock_rate)
        # The target depth for a jitter of n frames' worth (n up to the maximum depth).
        self._targets = _shared_targets(self._frame, self._min, self._max)
        self._jitter_target = _shared(
            max(self._min, min(self._max, initial_ms * per_ms))
        )
        # The source's interarrival jitter (timestamp units), which every pull adapts the
        # depth to (None: keep the depth); the receiver writes it per packet.
        self.measured_jitter: float | None = None
        self._late_boost = 0
        self._buffered: dict[int, bytes] = {}
        # End of the newest buffered piece (None: work it out again), so depth is O(1).
        self._end: int | None = None
        self._cursor: int | None = None  # extended timestamp of the next sample to play
        self._prebuffering = True
        self._last_frame = self._silence
        self._conceal_run = 0
        self._excess_pulls = 0
        self._pulls_since_late = _LATE_BOOST_SPACING_PULLS
        self.late = 0
        self.duplicates = 0
        self.concealed_frames = 0
        self.trimmed_frames = 0

    @property
    def target_samples(self) -> int:
        """Return the current target depth in samples."""
        return min(self._max, self._jitter_target + self._late_boost)

    @property
    def target_ms(self) -> float:
        """Return the current target depth in milliseconds."""
        return self.target_samples * 20 / self._frame

    @property
    def depth_samples(self) -> int:
        """Return how many samples are buffered from the play cursor to the newest one."""
        if self._cursor is None or not self._buffered:
            return 0
        end = self._end
        if end is None:
            end = self._end = max(k + len(v) // 2 for k, v in self._buffered.items())
        return max(0, end - self._cursor)

    @property
    def started(self) -> bool:
        """Tell whether any packet has arrived since creation or the last reset."""
        return self._cursor is not None

    def reset(self) -> None:
        """Drop buffered audio (new SSRC); the next packet starts a new timeline."""
        self._buffered.clear()
        self._end = None
        self._cursor = None
        self._prebuffering = True

    def mark_discontinuity(self) -> None:
        """Note that the sender paused audio on purpose (e.g. a DTMF event): fill with silence."""
        self._conceal_run = len(_CONCEALMENT_GAINS)

    def put(self, timestamp: int, pcm: bytes) -> int:
        """Store a decoded payload; return ACCEPTED, LATE or DUPLICATE."""
        if not pcm:
            return ACCEPTED  # nothing to play; an empty piece would stall gathering
        cursor = self._cursor
        if cursor is None:
            self._cursor = timestamp
            self._buffered[timestamp] = pcm
            self._end = timestamp + len(pcm) // 2
            self._prebuffering = True
            return ACCEPTED
        # As ts_delta(timestamp, cursor & 0xFFFFFFFF), without a call on the packet path.
        delta = (timestamp - cursor) & 0xFFFFFFFF
        if delta >= 0x80000000:
            delta -= 0x100000000
        ext = cursor + delta
        buffered = self._buffered
        if ext < cursor:
            samples = len(pcm) // 2
            if ext + samples <= cursor:
                self.late += 1
                if self._pulls_since_late >= _LATE_BOOST_SPACING_PULLS:
                    self._late_boost = _shared(
                        min(self._max, self._late_boost + self._frame)
                    )
                self._pulls_since_late = 0
                return LATE
            pcm = pcm[(cursor - ext) * 2 :]
            ext = cursor
        if ext in buffered:
            self.duplicates += 1
            return DUPLICATE
        if ext - cursor > self._max_jump:
            # The sender restarted its clock: start over rather than conceal for seconds.
            buffered.clear()
            self._end = None
            self._cursor = ext
            self._prebuffering = True
        elif not buffered and ext > cursor:
            # Nothing was waiting (loss or silence suppression while we concealed): re-anchor.
            self._cursor = ext
        buffered[ext] = pcm
        end = ext + len(pcm) // 2
        newest = self._end
        if newest is not None:
            if end > newest:
                self._end = end
        elif len(buffered) == 1:
            self._end = end  # the usual case: the last frame was just played
        return ACCEPTED

    def pull(self) -> bytes | None:
        """Return the next 20 ms frame (audio, concealment or silence); None before any packet.

        The depth first adapts to `measured_jitter` (interarrival jitter in timestamp units),
        if set: one frame plus three times the jitter, within the table's bounds.
        """
        # One call per tick: depth_samples, target_samples and the usual _take are written out
        # here.
        frame_samples = self._frame
        jitter_samples = self.measured_jitter
        if jitter_samples is not None:
            # At least 1: the receiver's jitter is never negative.
            frames = -(-int(frame_samples + 3 * jitter_samples) // frame_samples)
            targets = self._targets
            self._jitter_target = targets[frames if frames < len(targets) else -1]
        cursor = self._cursor
        if cursor is None:
            return None
        pulls = self._pulls_since_late
        if pulls < _LATE_BOOST_DECAY_PULLS:
            self._pulls_since_late = pulls + 1
        elif self._late_boost:
            self._late_boost = _shared(self._late_boost - frame_samples)
            self._pulls_since_late = 0
        buffered = self._buffered
        depth = 0
        if buffered:
            end = self._end
            if end is None:
                end = self._end = max(k + len(v) // 2 for k, v in buffered.items())
            if end > cursor:
                depth = end - cursor
        boost = self._late_boost
        target = (
            self._jitter_target
            if not boost
            else min(self._jitter_target + boost, self._max)
        )
        if self._prebuffering:
            if depth < target:
                return self._silence
            self._prebuffering = False
        frame = buffered.get(cursor)
        if frame is not None and len(frame) == self._frame_bytes:
            del buffered[cursor]
            end = self._end
            if end is not None and cursor + frame_samples >= end:
                self._end = None
        else:
            frame = self._take(cursor)
            if frame is None:
                if depth >= target:
                    # Later audio is here and enough is queued: the frame is lost, skip past it.
                    self._advance(cursor + frame_samples)
                return self._conceal()
        self._cursor = cursor + frame_samples
        if depth - frame_samples > target + frame_samples:
            self._excess_pulls += 1
            if self._should_trim(frame, depth):
                next_frame = self._take(cursor + frame_samples)
                if next_frame is not None:
                    self.trimmed_frames += 1
                    self._cursor = cursor + 2 * frame_samples
                    frame = next_frame
        else:
            self._excess_pulls = 0
        self._conceal_run = 0
        self._last_frame = frame
        return frame

    def _should_trim(self, frame: bytes, depth: int) -> bool:
        """Decide whether to drop a frame to bring the delay back down."""
        if (
            depth > self._max + self._frame
            or self._excess_pulls >= _EXCESS_PULLS_FORCE_TRIM
        ):
            return True
        return (
            self._excess_pulls >= _EXCESS_PULLS_BEFORE_TRIM
            and audioop.rms(frame, 2) < _QUIET_RMS
        )

    def _take(self, position: int) -> bytes | None:
        """Remove and return the full frame starting at `position`, if all of it is buffered."""
        buffered = self._buffered
        chunk = buffered.get(position)
        if chunk is None:
            return None
        if len(chunk) == self._frame_bytes:
            del buffered[position]
            self._forget_end(position + self._frame)
            return chunk
        # Packets of another duration than 20 ms: gather contiguous pieces.
        parts = []
        need = self._frame
        pos = position
        while need:
            piece = buffered.get(pos)
            if piece is None:
                return None  # incomplete: leave it all in place
            parts.append((pos, piece))
            samples = len(piece) // 2
            pos += samples
            need -= min(need, samples)
        for key, piece in parts:
            del buffered[key]
            self._forget_end(key + len(piece) // 2)
        data = b"".join(piece for _key, piece in parts)
        if len(data) > self._frame_bytes:
            buffered[position + self._frame] = data[self._frame_bytes :]
            data = data[: self._frame_bytes]
        return data

    def _advance(self, new_cursor: int) -> None:
        """Move the cursor forward, trimming or dropping pieces that now lie behind it."""
        self._cursor = new_cursor
        for key in [key for key in self._buffered if key < new_cursor]:
            piece = self._buffered.pop(key)
            self._forget_end(key + len(piece) // 2)
            overlap = (new_cursor - key) * 2
            if overlap < len(piece) and new_cursor not in self._buffered:
                self._buffered[new_cursor] = piece[overlap:]

    def _forget_end(self, end: int) -> None:
        """Note that a piece ending at `end` left the buffer: the newest end may be older now."""
        if self._end is not None and end >= self._end:
            self._end = None

    def _conceal(self) -> bytes:
        """Return a loss-concealment frame: repeat the last frame, fading out, then silence."""
        run = self._conceal_run
        self._conceal_run = run + 1
        if run >= len(_CONCEALMENT_GAINS):
            return self._silence
        self.concealed_frames += 1
        gain = _CONCEALMENT_GAINS[run]
        if gain == 1.0:
            return self._last_frame
        return audioop.mul(self._last_frame, 2, gain)
