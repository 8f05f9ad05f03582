"""The microphone feed: frame checks and the backlog limit that keeps talk-back live."""

from __future__ import annotations

import pytest

from custom_components.cloud_sip_ua.intercom.talk import MAX_FRAME_BYTES, MicrophoneFeed


class RecordingSink:
    """Collects what would go into the call."""

    def __init__(self) -> None:
        """Start empty."""
        self.queued: list[tuple[bytes, int]] = []

    def enqueue_audio(self, pcm: bytes, sample_rate: int) -> None:
        """Keep the audio."""
        self.queued.append((pcm, sample_rate))


class FakeClock:
    """A clock the test moves."""

    def __init__(self) -> None:
        """Start at zero."""
        self.now = 0.0

    def __call__(self) -> float:
        """Return the time."""
        return self.now


FRAME = b"\x01\x00" * 160  # 20 ms at 8 kHz


def test_frames_pass_at_real_time_pace() -> None:
    """Frames arriving as fast as they are sent all go into the call, at 8 kHz."""
    sink, clock = RecordingSink(), FakeClock()
    feed = MicrophoneFeed(sink, clock=clock, jitter_pad_seconds=0)
    for _ in range(100):
        assert feed.feed(FRAME)
        clock.now += 0.02
    assert len(sink.queued) == 100
    assert {rate for _pcm, rate in sink.queued} == {8000}
    assert feed.stats.frames == 100
    assert feed.stats.bytes == 100 * len(FRAME)
    assert feed.stats.dropped == 0
    assert feed.backlog_seconds == 0.0  # each frame went out before the next came
    assert feed.feed(FRAME)
    assert feed.backlog_seconds == pytest.approx(0.02)


def test_silence_cushion_after_running_dry() -> None:
    """A short silence goes ahead of the first frame and after an underrun, not between steady frames."""
    sink, clock = RecordingSink(), FakeClock()
    feed = MicrophoneFeed(sink, clock=clock, jitter_pad_seconds=0.03)
    for _ in range(10):
        assert feed.feed(FRAME)
        clock.now += 0.02
    assert [len(pcm) for pcm, _rate in sink.queued[:2]] == [480, 320]
    assert feed.stats.padded == 1
    assert feed.backlog_seconds == pytest.approx(0.03)
    clock.now += 0.5  # the user stopped talking
    assert feed.feed(FRAME)
    assert feed.stats.padded == 2
    assert sink.queued[-2] == (bytes(480), 8000)


def test_burst_beyond_backlog_is_dropped() -> None:
    """A burst (a stalled tab catching up) is cut at the backlog limit instead of adding delay."""
    sink, clock = RecordingSink(), FakeClock()
    feed = MicrophoneFeed(
        sink, clock=clock, max_backlog_seconds=0.1, jitter_pad_seconds=0
    )
    accepted = [feed.feed(FRAME) for _ in range(20)]
    assert accepted.count(True) == 5
    assert feed.stats.dropped == 15
    assert feed.backlog_seconds == pytest.approx(0.1)
    clock.now += 0.04  # the call sent two frames meanwhile
    assert feed.feed(FRAME)
    assert feed.feed(FRAME)
    assert not feed.feed(FRAME)


@pytest.mark.parametrize(
    "payload", [b"", b"\x01", b"\x00" * 161, b"\x00" * (MAX_FRAME_BYTES + 2)]
)
def test_malformed_frames_are_rejected(payload: bytes) -> None:
    """Empty, odd-length and oversized payloads are counted and never reach the call."""
    sink = RecordingSink()
    feed = MicrophoneFeed(sink)
    assert not feed.feed(payload)
    assert feed.stats.rejected == 1
    assert sink.queued == []
