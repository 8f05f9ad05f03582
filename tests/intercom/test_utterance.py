"""The utterance cutter and the clip store, without Home Assistant."""

from __future__ import annotations

import math
import time
from unittest.mock import patch

from custom_components.cloud_sip_ua.intercom import clips
from custom_components.cloud_sip_ua.intercom.audio import wav_pcm
from custom_components.cloud_sip_ua.intercom.clips import MAX_CLIPS, ClipStore
from custom_components.cloud_sip_ua.intercom.satellite_relay import (
    door_settings,
    turn_tone,
    wav_clip,
)
from custom_components.cloud_sip_ua.intercom.utterance import (
    MAX_SECONDS,
    UtteranceCutter,
    rms_dbfs,
)
from tests.audio_check import tone_pcm, tone_report

RATE = 16000
FRAME = 640  # 20 ms


def frames(pcm: bytes) -> list[bytes]:
    """Split PCM into 20 ms frames."""
    return [pcm[i : i + FRAME] for i in range(0, len(pcm), FRAME)]


def silence(seconds: float) -> bytes:
    """Return silence."""
    return bytes(int(RATE * seconds) * 2)


def run(cutter: UtteranceCutter, pcm: bytes) -> list[bytes]:
    """Feed PCM and return the utterances it completed."""
    return [u for f in frames(pcm) if (u := cutter.feed(f)) is not None]


def test_levels() -> None:
    """Silence is -inf dBFS, a half-scale sine about -9 dBFS."""
    assert rms_dbfs(b"") == -math.inf
    assert rms_dbfs(silence(0.02)) == -math.inf
    assert abs(rms_dbfs(tone_pcm(440, 0.1, RATE)) - (-9.03)) < 0.1


def test_cuts_a_burst_with_pre_roll_and_tail() -> None:
    """A 0.6 s burst between pauses is one utterance: pre-roll, burst, short tail."""
    cutter = UtteranceCutter(RATE)
    pcm = silence(1.0) + tone_pcm(440, 0.6, RATE) + silence(1.0)
    (utterance,) = run(cutter, pcm)
    seconds = len(utterance) / 2 / RATE
    assert 0.95 <= seconds <= 1.05  # 0.3 pre-roll + 0.6 burst + 0.1 tail
    frequency, _snr = tone_report(utterance, RATE)
    assert abs(frequency - 440) < 10
    assert not cutter.speaking


def test_clicks_do_not_start_and_long_talk_is_cut() -> None:
    """A 40 ms click starts nothing; talk without a pause is cut at MAX_SECONDS."""
    cutter = UtteranceCutter(RATE)
    assert run(cutter, silence(0.5) + tone_pcm(440, 0.04, RATE) + silence(1)) == []
    utterances = run(cutter, tone_pcm(440, MAX_SECONDS + 1, RATE))
    assert len(utterances) == 1
    assert cutter.speaking
    cutter.reset()
    assert not cutter.speaking


def test_clip_store_expires_and_is_bounded() -> None:
    """Clips expire after their lifetime and only the newest MAX_CLIPS stay."""
    store = ClipStore()
    first = store.add(b"a")
    assert store.get(first) == b"a"
    assert store.get("0" * 32) is None
    ids = [store.add(b"x") for _ in range(MAX_CLIPS)]
    assert store.get(first) is None
    assert store.get(ids[-1]) == b"x"
    now = time.monotonic()
    with patch(f"{clips.__name__}.time.monotonic", return_value=now + 3600):
        assert store.get(ids[-1]) is None


def test_wav_helpers_and_settings() -> None:
    """WAV in and out, refusals, the turn tone, the options."""
    pcm = tone_pcm(440, 0.1, RATE)
    assert wav_pcm(wav_clip(pcm)) == (pcm, RATE)
    assert wav_pcm(b"not a wav") is None
    assert wav_pcm(wav_clip(pcm, 22050)) is None
    tone = turn_tone()
    assert len(tone) == int(0.15 * RATE) * 2
    assert abs(tone_report(tone, RATE)[0] - 1500) < 20
    assert door_settings({}).satellites == ()
    settings = door_settings(
        {"door_satellites": ["assist_satellite.x"], "door_code": "1#", "door_tts": ""}
    )
    assert settings.satellites == ("assist_satellite.x",)
    assert settings.door_code == "1#"
    assert settings.tts_engine is None
