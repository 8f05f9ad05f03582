"""Tests of the voice codecs."""

import audioop
import pytest

from custom_components.cloud_sip_ua.cloudsipua.media.codecs import (
    FRAME_BYTES,
    create_codec,
)
from custom_components.cloud_sip_ua.cloudsipua.models import Codec

from .conftest import tone_pcm, tone_snr


@pytest.mark.parametrize("codec", [Codec.PCMA, Codec.PCMU])
def test_g711_round_trip(codec: Codec) -> None:
    """A tone survives encode/decode with G.711 quality."""
    implementation = create_codec(codec)
    pcm = tone_pcm(1000, 8000, 0.5)
    payload = implementation.encode(pcm)
    assert len(payload) == len(pcm) // 2
    assert implementation.payload_type == codec.payload_type
    assert tone_snr(implementation.decode(payload), 8000, 1000) > 30
    silence = implementation.decode(implementation.silence)
    assert len(silence) == FRAME_BYTES
    assert audioop.rms(silence, 2) < 10


def test_comfort_noise_is_quiet() -> None:
    """Comfort noise frames are low-level and not all identical."""
    codec = create_codec(Codec.PCMU)
    frames = codec.comfort_noise()
    assert len(set(frames)) > 1
    assert all(0 < audioop.rms(codec.decode(frame), 2) < 40 for frame in frames)


def test_gsm_round_trip() -> None:
    """A tone survives GSM 06.10: 33-byte frames per 20 ms (more in tests/media/test_gsm.py)."""
    implementation = create_codec(Codec.GSM)
    pcm = tone_pcm(1000, 8000, 0.5)
    payload = implementation.encode(pcm)
    assert len(payload) == 25 * 33
    assert implementation.payload_type == Codec.GSM.payload_type
    assert tone_snr(implementation.decode(payload), 8000, 1000) > 20
