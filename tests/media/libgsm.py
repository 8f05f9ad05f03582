"""The reference: Debian's libgsm through ctypes, for tests and benchmarks only."""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import Any

FRAME_SIZE = 33
FRAME_SAMPLES = 160
_NAMES = ("libgsm.so.1", "/usr/lib/x86_64-linux-gnu/libgsm.so.1")


def load() -> ctypes.CDLL | None:
    """Return libgsm with its prototypes declared, or None if it is not installed."""
    candidates = [ctypes.util.find_library("gsm"), *_NAMES]
    for name in candidates:
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        lib.gsm_create.restype = ctypes.c_void_p
        lib.gsm_create.argtypes = []
        lib.gsm_destroy.restype = None
        lib.gsm_destroy.argtypes = [ctypes.c_void_p]
        lib.gsm_encode.restype = None
        lib.gsm_encode.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
        lib.gsm_decode.restype = ctypes.c_int
        lib.gsm_decode.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
        return lib
    return None


LIBGSM = load()


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
