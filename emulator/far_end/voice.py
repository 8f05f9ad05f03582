"""Voice payloads at the far end: G.711 from audioop, GSM 06.10 from Debian's libgsm."""

from __future__ import annotations

from collections.abc import Callable
import ctypes
import ctypes.util
from typing import Any

import audioop

from custom_components.cloud_sip_ua.cloudsipua.models import Codec

from .errors import VoiceUnavailableError

FRAME_SAMPLES = 160
GSM_FRAME = 33
PAYLOAD_TYPES = {Codec.PCMU: 0, Codec.GSM: 3, Codec.PCMA: 8}


def load_libgsm() -> Any:
    """Return Debian's libgsm with its prototypes declared, or None if it is not installed."""
    for name in (ctypes.util.find_library("gsm"), "libgsm.so.1"):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        lib.gsm_create.restype = ctypes.c_void_p
        lib.gsm_destroy.argtypes = [ctypes.c_void_p]
        lib.gsm_encode.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
        lib.gsm_decode.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
        lib.gsm_decode.restype = ctypes.c_int
        return lib
    return None


_LIBGSM = load_libgsm()


class _Gsm:
    """One libgsm state: encodes or decodes 20 ms frames."""

    def __init__(self) -> None:
        """Create the state (VoiceUnavailableError without libgsm)."""
        if _LIBGSM is None:
            raise VoiceUnavailableError("libgsm is not installed (Debian: libgsm1)")
        self._lib = _LIBGSM
        self._state = self._lib.gsm_create()
        self._pcm = (ctypes.c_int16 * FRAME_SAMPLES)()
        self._frame = ctypes.create_string_buffer(GSM_FRAME)

    def __del__(self) -> None:
        """Free the state."""
        if getattr(self, "_state", None):
            self._lib.gsm_destroy(self._state)

    def encode(self, pcm: bytes) -> bytes:
        """Encode 320 bytes of PCM into one frame."""
        ctypes.memmove(self._pcm, pcm, FRAME_SAMPLES * 2)
        self._lib.gsm_encode(self._state, self._pcm, self._frame)
        return self._frame.raw

    def decode(self, payload: bytes) -> bytes:
        """Decode every whole frame of a payload; a bad frame plays as silence."""
        out = bytearray()
        for start in range(0, len(payload) - GSM_FRAME + 1, GSM_FRAME):
            self._frame.raw = payload[start : start + GSM_FRAME]
            if self._lib.gsm_decode(self._state, self._frame, self._pcm) == 0:
                out += bytes(self._pcm)
            else:
                out += bytes(FRAME_SAMPLES * 2)
        return bytes(out)


def encoder(codec: Codec) -> Callable[[bytes], bytes]:
    """Return a function that turns 20 ms of 8 kHz PCM into the codec's payload."""
    if codec is Codec.GSM:
        return _Gsm().encode
    if codec is Codec.PCMU:
        return lambda pcm: audioop.lin2ulaw(pcm, 2)
    return lambda pcm: audioop.lin2alaw(pcm, 2)


class Decoders:
    """Decode any of the three payload types, whatever was negotiated (one state each)."""

    def __init__(self) -> None:
        """Start with no GSM state: made on the first GSM packet."""
        self._gsm: _Gsm | None = None

    def decode(self, payload_type: int, payload: bytes) -> bytes | None:
        """Return PCM, or None for a payload type that is not a voice codec."""
        if payload_type == PAYLOAD_TYPES[Codec.PCMA]:
            return audioop.alaw2lin(payload, 2)
        if payload_type == PAYLOAD_TYPES[Codec.PCMU]:
            return audioop.ulaw2lin(payload, 2)
        if payload_type == PAYLOAD_TYPES[Codec.GSM]:
            if self._gsm is None:
                self._gsm = _Gsm()
            return self._gsm.decode(payload)
        return None
