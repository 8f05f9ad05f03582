"""Tests of the polyphase resampler, compared with audioop.ratecv."""

import audioop
import numpy as np
import pytest

from custom_components.cloud_sip_ua.cloudsipua.media.resample import Resampler, resample

from .conftest import tone_pcm, tone_snr

PAIRS = [
    (8000, 16000),
    (8000, 48000),
    (16000, 8000),
    (48000, 8000),
    (16000, 48000),
    (48000, 16000),
]


def level_db(pcm: bytes) -> float:
    """Return the RMS level in dB (the 16-bit floor for silence)."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)[500:-500]
    return float(20 * np.log10(max(np.sqrt(np.mean(samples**2)), 0.5)))


@pytest.mark.parametrize(("in_rate", "out_rate"), PAIRS)
def test_passband_snr_at_least_ratecv(in_rate: int, out_rate: int) -> None:
    """A 1 kHz tone keeps >= 75 dB SNR, never worse than ratecv by more than 8 dB."""
    pcm = tone_pcm(1000, in_rate, 0.5)
    ours = resample(pcm, in_rate, out_rate)
    theirs, _state = audioop.ratecv(pcm, 2, 1, in_rate, out_rate, None)
    assert len(ours) == len(pcm) * out_rate // in_rate
    assert tone_snr(ours, out_rate, 1000) >= 75
    assert tone_snr(ours, out_rate, 1000) >= tone_snr(theirs, out_rate, 1000) - 8


@pytest.mark.parametrize(
    ("in_rate", "out_rate"), [(48000, 8000), (16000, 8000), (48000, 16000)]
)
def test_stop_band_rejection_beats_ratecv(in_rate: int, out_rate: int) -> None:
    """A tone above the new Nyquist frequency is removed (ratecv lets it alias through)."""
    freq = out_rate * 0.75
    pcm = tone_pcm(freq, in_rate, 0.5, amplitude=16000)
    ours = resample(pcm, in_rate, out_rate)
    theirs, _state = audioop.ratecv(pcm, 2, 1, in_rate, out_rate, None)
    assert level_db(pcm) - level_db(ours) >= 70
    assert level_db(pcm) - level_db(theirs) < 10


@pytest.mark.parametrize(("in_rate", "out_rate"), PAIRS)
def test_streaming_matches_one_shot(in_rate: int, out_rate: int) -> None:
    """Odd-sized chunks plus flush give exactly the one-shot result."""
    pcm = tone_pcm(440, in_rate, 0.2)
    resampler = Resampler(in_rate, out_rate)
    step = 2 * 37
    streamed = b"".join(
        resampler.process(pcm[i : i + step]) for i in range(0, len(pcm), step)
    )
    assert streamed + resampler.flush() == resample(pcm, in_rate, out_rate)
    assert resampler.flush() == b""


def test_uncompensated_frames_keep_their_size() -> None:
    """Without delay compensation each 20 ms frame gives exactly 20 ms of output."""
    up = Resampler(8000, 48000, compensate_delay=False)
    down = Resampler(48000, 8000, compensate_delay=False)
    frame = tone_pcm(1000, 8000, 0.02)
    assert {len(up.process(frame)) for _ in range(5)} == {1920}
    assert {len(down.process(bytes(1920))) for _ in range(5)} == {320}
    assert up.delay_samples > 0


def test_same_rate_and_invalid_ratios() -> None:
    """Same rate passes through; non-integer ratios and bad rates are refused."""
    same = Resampler(8000, 8000)
    assert same.process(b"\x01\x02") == b"\x01\x02"
    assert same.flush() == b""
    with pytest.raises(ValueError):
        Resampler(8000, 11025)
    with pytest.raises(ValueError):
        Resampler(0, 8000)
