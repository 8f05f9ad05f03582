"""The reference: Debian's libgsm through ctypes, for tests and benchmarks only."""

from __future__ import annotations

import ctypes
from typing import Any

from emulator.far_end.voice import load_libgsm

FRAME_SIZE = 33
FRAME_SAMPLES = 160
# One loader for the reference: the emulator's far end speaks GSM through it too.
LIBGSM = load_libgsm()


class _Handle:
    """One libgsm state (gsm_create) with default options, freed on garbage collection."""

    def __init__(self) -> None:
        """Create the state."""
        if LIBGSM is None:
            raise RuntimeError("libgsm is not installed")
        self._lib: Any = LIBGSM
        self._handle = self._lib.gsm_create()
        self._frame = ctypes.create_string_buffer(FRAME_SIZE)
        self._pcm = (ctypes.c_int16 * FRAME_SAMPLES)()

    def __del__(self) -> None:
        """Free the state."""
        self._lib.gsm_destroy(self._handle)


class LibGsmEncoder(_Handle):
    """libgsm's encoder: 320 bytes of little-endian PCM in, one 33-byte frame out."""

    def encode(self, pcm: bytes) -> bytes:
        """Encode one frame."""
        ctypes.memmove(self._pcm, pcm, FRAME_SAMPLES * 2)
        self._lib.gsm_encode(self._handle, self._pcm, self._frame)
        return self._frame.raw


class LibGsmDecoder(_Handle):
    """libgsm's decoder: one 33-byte frame in, 320 bytes of little-endian PCM out."""

    def decode(self, frame: bytes) -> bytes:
        """Decode one frame; raise ValueError on a bad signature, as gsm_decode returns -1."""
        self._frame.raw = frame
        if self._lib.gsm_decode(self._handle, self._frame, self._pcm) != 0:
            raise ValueError("libgsm rejected the frame")
        return bytes(self._pcm)
