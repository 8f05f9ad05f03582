"""Voice codecs: G.711 A-law and mu-law through audioop; GSM 06.10 only if FFmpeg can do both ways."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
import random

import audioop

from ..models import Codec  # noqa: TID252  # the library stays relocatable
from .errors import CodecUnavailableError

CLOCK_RATE = 8000
FRAME_SAMPLES = 160  # 20 ms at 8 kHz
FRAME_BYTES = FRAME_SAMPLES * 2  # 16-bit linear PCM
SILENCE_FRAME = bytes(FRAME_BYTES)


class G711Codec:
    """A G.711 codec: one byte per sample, stateless, so encode/decode are single C calls."""

    __slots__ = ("_decode", "_encode", "codec", "payload_type", "silence")

    def __init__(self, codec: Codec) -> None:
        """Pick the audioop pair for A-law or mu-law."""
        self.codec = codec
        self.payload_type = codec.payload_type
        if codec is Codec.PCMA:
            self._encode: Callable[[bytes, int], bytes] = audioop.lin2alaw
            self._decode: Callable[[bytes, int], bytes] = audioop.alaw2lin
        else:
            self._encode = audioop.lin2ulaw
            self._decode = audioop.ulaw2lin
        self.silence = self._encode(SILENCE_FRAME, 2)

    def encode(self, pcm: bytes) -> bytes:
        """Encode 16-bit little-endian PCM at 8 kHz."""
        return self._encode(pcm, 2)

    def decode(self, payload: bytes) -> bytes:
        """Decode a payload to 16-bit little-endian PCM at 8 kHz."""
        return self._decode(payload, 2)

    def comfort_noise(self, frames: int = 8, level: int = 24) -> list[bytes]:
        """Return encoded frames of low-level white noise (about -60 dBFS) to cycle through."""
        rng = random.Random(self.payload_type)
        noise = []
        for _ in range(frames):
            samples = [rng.randint(-level, level) for _ in range(FRAME_SAMPLES)]
            pcm = b"".join(
                sample.to_bytes(2, "little", signed=True) for sample in samples
            )
            noise.append(self._encode(pcm, 2))
        return noise


@cache
def gsm_support() -> str | None:
    """Return None if FFmpeg (via PyAV) can encode and decode GSM 06.10, else the reason why not."""
    try:
        import av  # noqa: PLC0415  # heavy import, only needed for this probe

        av.codec.Codec("gsm", "r")
    except Exception as err:  # noqa: BLE001  # any failure means unavailable
        return f"no GSM 06.10 decoder in this FFmpeg build ({err})"
    try:
        av.codec.Codec("gsm", "w")
    except Exception:  # noqa: BLE001
        return (
            "the FFmpeg build in PyAV decodes GSM 06.10 but has no GSM encoder (libgsm is not "
            "linked), and no other maintained GSM library is installed; negotiate PCMA or PCMU"
        )
    return None  # pragma: no cover  # no PyAV wheel ships a GSM encoder today


def codec_available(codec: Codec) -> bool:
    """Tell whether the media stack can send and receive `codec` here."""
    return codec is not Codec.GSM or gsm_support() is None


def create_codec(codec: Codec) -> G711Codec:
    """Return the codec implementation; raise CodecUnavailableError if it cannot run here."""
    if codec is Codec.GSM:
        raise CodecUnavailableError(
            f"GSM is not available: {gsm_support() or 'not implemented'}"
        )
    return G711Codec(codec)
