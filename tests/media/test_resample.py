"""Tests of the polyphase resampler, compared with audioop.ratecv."""

import audioop
import numpy as np
import pytest

from custom_components.cloud_sip_ua.cloudsipua.media import resample as resample_module
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


@pytest.mark.parametrize(("in_rate", "out_rate"), [(8000, 16000), (8000, 48000)])
def test_image_rejection(in_rate: int, out_rate: int) -> None:
    """Upsampling a tone near the old Nyquist frequency leaves its image >= 80 dB down."""
    freq = in_rate * 0.45
    out = np.frombuffer(
        resample(tone_pcm(freq, in_rate, 0.5, amplitude=12000), in_rate, out_rate),
        dtype="<i2",
    ).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(out * np.hanning(len(out))))
    freqs = np.fft.rfftfreq(len(out), 1 / out_rate)
    wanted = spectrum[np.abs(freqs - freq) <= 10].max()
    image = spectrum[np.abs(freqs - (in_rate - freq)) <= 10].max()
    assert 20 * np.log10(wanted / image) >= 80


@pytest.mark.parametrize(("in_rate", "out_rate"), PAIRS)
@pytest.mark.parametrize("compensate", [True, False])
def test_20ms_frames_match_one_shot(
    in_rate: int, out_rate: int, compensate: bool
) -> None:
    """Frame by frame (20 ms, the steady state) equals one chunk, bit for bit."""
    pcm = tone_pcm(1000, in_rate, 0.3, amplitude=12000)
    frame = in_rate // 50 * 2
    framed = Resampler(in_rate, out_rate, compensate_delay=compensate)
    whole = Resampler(in_rate, out_rate, compensate_delay=compensate)
    out = b"".join(
        framed.process(pcm[i : i + frame]) for i in range(0, len(pcm), frame)
    )
    tail = framed.flush()
    assert out == whole.process(pcm)
    assert tail == whole.flush()
    if compensate:
        assert tone_snr(out + tail, out_rate, 1000) >= 75


def test_changing_chunk_sizes_and_reuse_after_flush() -> None:
    """A stream whose chunk size changes, then a second stream after flush, stay exact."""
    pcm = tone_pcm(700, 16000, 0.25)
    sizes = [640, 640, 2, 6, 640, 1000, 640, 640]
    resampler = Resampler(16000, 8000)
    for _ in range(2):
        chunks, offset = [], 0
        for size in sizes:
            chunks.append(resampler.process(pcm[offset : offset + size]))
            offset += size
        chunks.append(resampler.process(pcm[offset:]))
        assert b"".join(chunks) + resampler.flush() == resample(pcm, 16000, 8000)


@pytest.mark.parametrize(("in_rate", "out_rate"), PAIRS)
def test_full_scale_clips_instead_of_wrapping(in_rate: int, out_rate: int) -> None:
    """A full-scale square wave overshoots in the filter: clipped, never wrapped around."""

    def framed(samples: np.ndarray) -> np.ndarray:
        resampler = Resampler(in_rate, out_rate, compensate_delay=False)
        pcm, frame = samples.astype("<i2").tobytes(), in_rate // 50 * 2
        out = b"".join(
            resampler.process(pcm[i : i + frame]) for i in range(0, len(pcm), frame)
        )
        return np.frombuffer(out, dtype="<i2").astype(np.int64)

    half_period = in_rate // 200
    square = np.tile(np.repeat([1, -1], half_period), 40)
    full = framed(np.where(square > 0, 32767, -32768))
    half = framed(np.where(square > 0, 16383, -16384))
    assert full.max() == 32767
    assert full.min() == -32768
    # The filter is linear: full scale is twice half scale, clipped (a wrap is 65536 off).
    assert np.abs(full - np.clip(2 * half, -32768, 32767)).max() <= 3


def test_odd_byte_is_ignored() -> None:
    """A trailing odd byte (half a sample) is dropped, as before."""
    assert (
        len(Resampler(8000, 16000, compensate_delay=False).process(bytes(321))) == 640
    )


def test_prepared_filters_leave_no_design_to_the_first_call() -> None:
    """After prepare_filters, a call's resamplers (either way, 16 and 48 kHz) design nothing."""
    design = resample_module._block_matrix  # noqa: SLF001 - the cache under test
    design.cache_clear()
    resample_module.prepare_filters()
    designed = design.cache_info().misses
    assert designed == 6
    for low, high in resample_module.COMMON_RATES:
        Resampler(low, high).process(bytes(2 * low // 50))
        Resampler(high, low).process(bytes(2 * high // 50))
    assert design.cache_info().misses == designed
