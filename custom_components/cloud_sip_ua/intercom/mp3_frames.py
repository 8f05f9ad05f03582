"""Cut an MP3 (MPEG audio Layer III) byte stream into whole frames, so a listener can join anywhere."""

from __future__ import annotations

# Layer III bitrates in kbit/s by index (0: free format, not used by encoders we run).
_BITRATES = {
    3: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),  # MPEG-1
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),  # MPEG-2
    0: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),  # MPEG-2.5
}
_SAMPLE_RATES = {
    3: (44100, 48000, 32000),
    2: (22050, 24000, 16000),
    0: (11025, 12000, 8000),
}
_HEADER_SIZE = 4


def frame_length(data: bytes | bytearray, at: int) -> int | None:
    """Return the length of the Layer III frame whose header starts at `at` (None: not one)."""
    if at + _HEADER_SIZE > len(data):
        return None
    first, second, third = data[at], data[at + 1], data[at + 2]
    if first != 0xFF or second & 0xE0 != 0xE0:
        return None  # no frame sync
    version = (second >> 3) & 3
    layer = (second >> 1) & 3
    bitrate_index = third >> 4
    rate_index = (third >> 2) & 3
    if version == 1 or layer != 1 or not 0 < bitrate_index < 15 or rate_index == 3:
        return None  # reserved, not Layer III, free format or a bad index
    bitrate = _BITRATES[version][bitrate_index] * 1000
    sample_rate = _SAMPLE_RATES[version][rate_index]
    padding = (third >> 1) & 1
    # 1152 samples per MPEG-1 frame, 576 per MPEG-2/2.5 frame: 144 or 72 x bitrate / rate bytes.
    per_frame = 144 if version == 3 else 72
    return per_frame * bitrate // sample_rate + padding


class Mp3Frames:
    """Collects an MP3 stream and hands out the whole frames it holds; bytes between frames go."""

    def __init__(self) -> None:
        """Start empty."""
        self._pending = bytearray()
        self.skipped = 0  # bytes that were not part of a frame

    def feed(self, data: bytes) -> bytes:
        """Add `data`; return every frame now complete, joined (b"" when none is)."""
        pending = self._pending
        pending += data
        end = 0
        while end + _HEADER_SIZE <= len(pending):
            length = frame_length(pending, end)
            if length is None:
                # Not a frame start: drop bytes up to the next possible sync (0xFF).
                sync = pending.find(b"\xff", end + 1)
                drop_to = len(pending) if sync < 0 else sync
                self.skipped += drop_to - end
                del pending[end:drop_to]
                continue
            if end + length > len(pending):
                break
            end += length
        whole = bytes(pending[:end])
        del pending[:end]
        return whole
