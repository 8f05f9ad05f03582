"""Voice codecs: G.711 A-law and mu-law through audioop, GSM 06.10 in Python and numpy."""

from __future__ import annotations

from collections.abc import Callable
import random
from typing import Protocol

import audioop

from ..models import Codec  # noqa: TID252  # the library stays relocatable
from .gsm import FRAME_SIZE as GSM_FRAME_SIZE, SIGNATURE, GsmDecoder, GsmEncoder

CLOCK_RATE = 8000
FRAME_SAMPLES = 160  # 20 ms at 8 kHz
FRAME_BYTES = FRAME_SAMPLES * 2  # 16-bit linear PCM
SILENCE_FRAME = bytes(FRAME_BYTES)


class VoiceCodec(Protocol):
    """What the media session needs of a codec: one instance per session and direction."""

    codec: Codec
    payload_type: int

    @property
    def silence(self) -> bytes:
        """Return the payload of one silent 20 ms frame."""

    def encode(self, pcm: bytes) -> bytes:
        """Encode 20 ms of 16-bit little-endian PCM at 8 kHz."""

    def decode(self, payload: bytes) -> bytes:
        """Decode a payload to 16-bit little-endian PCM at 8 kHz."""

    def comfort_noise(self, frames: int = 8, level: int = 24) -> list[bytes]:
        """Return encoded frames of low-level white noise to cycle through."""


def _noise_pcm(rng: random.Random, level: int) -> bytes:
    """Return one frame of white noise within +-level as 16-bit little-endian PCM."""
    return b"".join(
        rng.randint(-level, level).to_bytes(2, "little", signed=True)
        for _ in range(FRAME_SAMPLES)
    )


_G711_SILENCE: dict[Codec, bytes] = {}


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
        # One object per law, shared by every sender (it is read on every silent tick).
        self.silence = _G711_SILENCE.setdefault(codec, self._encode(SILENCE_FRAME, 2))

    def encode(self, pcm: bytes) -> bytes:
        """Encode 16-bit little-endian PCM at 8 kHz."""
        return self._encode(pcm, 2)

    def decode(self, payload: bytes) -> bytes:
        """Decode a payload to 16-bit little-endian PCM at 8 kHz."""
        return self._decode(payload, 2)

    def comfort_noise(self, frames: int = 8, level: int = 24) -> list[bytes]:
        """Return encoded frames of low-level white noise (about -60 dBFS) to cycle through."""
        rng = random.Random(self.payload_type)
        return [self._encode(_noise_pcm(rng, level), 2) for _ in range(frames)]


type Decode = Callable[[bytes, int], bytes]
"""`decode(payload, 2)`: a payload to 16-bit PCM at 8 kHz, called as audioop's G.711 functions."""

# Shared by every receiver (a lookup per packet reads memory other sessions keep warm).
G711_DECODERS: dict[int, Decode] = {
    Codec.PCMU.payload_type: audioop.ulaw2lin,
    Codec.PCMA.payload_type: audioop.alaw2lin,
}


def create_decoders() -> dict[int, Decode]:
    """Return a decoder per payload type we play, with its own state (GSM keeps some).

    G.711 decodes with audioop's own C functions (G711_DECODERS): no Python call per packet.
    """
    decoders = dict(G711_DECODERS)
    for codec in Codec:
        if codec.payload_type not in decoders:
            decoders[codec.payload_type] = _any_width(create_codec(codec).decode)
    return decoders


def _any_width(decode: Callable[[bytes], bytes]) -> Decode:
    """Return `decode` called as a Decode (the width is always 2)."""

    def decode_width(payload: bytes, _width: int) -> bytes:
        return decode(payload)

    return decode_width


class GsmCodec:
    """GSM 06.10 full rate (RFC 3551 payload type 3): 33-byte frames of 160 samples."""

    __slots__ = ("_decoder", "_encoder", "codec", "payload_type")

    def __init__(self) -> None:
        """Start both directions from libgsm's initial state."""
        self.codec = Codec.GSM
        self.payload_type = Codec.GSM.payload_type
        self._encoder = GsmEncoder()
        self._decoder = GsmDecoder()

    @property
    def silence(self) -> bytes:
        """Encode a silent frame with the running encoder, so its state stays the far end's."""
        return self._encoder.encode(SILENCE_FRAME)

    def encode(self, pcm: bytes) -> bytes:
        """Encode whole 20 ms frames of 16-bit little-endian PCM at 8 kHz."""
        return b"".join(
            self._encoder.encode(pcm[start : start + FRAME_BYTES])
            for start in range(0, len(pcm), FRAME_BYTES)
        )

    def decode(self, payload: bytes) -> bytes:
        """Decode the frames of a payload (RFC 3551 allows several); a corrupt one plays silence."""
        pcm = []
        for start in range(0, len(payload) - GSM_FRAME_SIZE + 1, GSM_FRAME_SIZE):
            frame = payload[start : start + GSM_FRAME_SIZE]
            if frame[0] >> 4 == SIGNATURE:
                pcm.append(self._decoder.decode(frame))
            else:  # libgsm refuses such a frame too; keep the timing, skip the state update
                pcm.append(SILENCE_FRAME)
        return b"".join(pcm)

    def comfort_noise(self, frames: int = 8, level: int = 24) -> list[bytes]:
        """Return frames of low-level white noise, encoded apart from the running encoder."""
        rng = random.Random(self.payload_type)
        encoder = GsmEncoder()
        return [encoder.encode(_noise_pcm(rng, level)) for _ in range(frames)]


def create_codec(codec: Codec) -> VoiceCodec:
    """Return a new codec implementation, with its own state, for `codec`."""
    if codec is Codec.GSM:
        return GsmCodec()
    return G711Codec(codec)
