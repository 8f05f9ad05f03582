"""Tests of the adaptive jitter buffer."""

import audioop

from custom_components.cloud_sip_ua.cloudsipua.media.jitter import (
    ACCEPTED,
    DUPLICATE,
    LATE,
    JitterBuffer,
)

SILENCE = bytes(320)


def frame(value: int, samples: int = 160) -> bytes:
    """Return a constant-valued PCM frame, so frames are told apart by value."""
    return value.to_bytes(2, "little", signed=True) * samples


def buffer_at(target_ms: int = 20) -> JitterBuffer:
    """Return a buffer whose target depth is `target_ms`."""
    return JitterBuffer(initial_ms=target_ms)


def test_nothing_before_first_packet() -> None:
    """Pull returns None until audio arrives."""
    jb = buffer_at()
    assert jb.pull() is None
    assert not jb.started


def test_in_order_and_timestamp_wrap() -> None:
    """Frames play in order across the 32-bit timestamp wrap."""
    jb = buffer_at()
    start = 0xFFFFFFFF - 159
    played = []
    for index in range(4):
        assert jb.put((start + index * 160) & 0xFFFFFFFF, frame(index + 1)) == ACCEPTED
        played.append(jb.pull())
    assert played == [frame(1), frame(2), frame(3), frame(4)]
    assert jb.concealed_frames == 0


def test_prebuffer_then_reorder_and_duplicates() -> None:
    """With a 40 ms target, silence plays until two frames are in; reordering is repaired."""
    jb = buffer_at(40)
    assert jb.put(0, frame(1)) == ACCEPTED
    assert jb.pull() == SILENCE
    assert jb.put(320, frame(3)) == ACCEPTED
    assert jb.put(160, frame(2)) == ACCEPTED
    assert jb.put(160, frame(2)) == DUPLICATE
    assert [jb.pull(), jb.pull(), jb.pull()] == [frame(1), frame(2), frame(3)]
    assert jb.duplicates == 1
    assert jb.put(0, frame(1)) == LATE
    assert jb.late == 1
    assert jb.target_ms > 40  # lateness raises the depth


def test_loss_is_concealed_repeat_then_fade() -> None:
    """A lost frame is replaced by the last one, then faded copies, then silence."""
    jb = buffer_at()
    jb.put(0, frame(1000))
    assert jb.pull() == frame(1000)
    outputs = [jb.pull() for _ in range(6)]
    assert outputs[0] == frame(1000)
    assert outputs[1] == audioop.mul(frame(1000), 2, 0.7)
    assert outputs[4] == SILENCE
    assert jb.concealed_frames == 4
    # The next packet re-anchors the timeline: no endless catch-up.
    jb.put(160 * 50, frame(5))
    assert jb.pull() == frame(5)


def test_gap_with_later_audio_skips_lost_frame() -> None:
    """When later audio is queued to the target depth, a missing frame is skipped."""
    jb = buffer_at(40)
    jb.put(0, frame(1))
    jb.put(160, frame(2))
    assert jb.pull() == frame(1)
    jb.put(480, frame(4))
    assert jb.pull() == frame(2)
    assert jb.pull() == frame(2)  # 320 lost: concealed
    assert jb.pull() == frame(4)


def test_discontinuity_plays_silence() -> None:
    """After mark_discontinuity, gaps are silence and not counted as concealment."""
    jb = buffer_at()
    jb.put(0, frame(1000))
    jb.pull()
    jb.mark_discontinuity()
    assert jb.pull() == SILENCE
    assert jb.concealed_frames == 0


def test_adapts_to_jitter_and_trims_excess() -> None:
    """Target follows jitter within 20..200 ms; excess quiet audio is trimmed."""
    jb = buffer_at()
    jb.measured_jitter = 8 * 30  # 30 ms of jitter, adopted at the next pull
    jb.pull()
    assert jb.target_ms == 120
    jb.measured_jitter = 8 * 1000
    jb.pull()
    assert jb.target_ms == 200
    jb.measured_jitter = 0
    jb.pull()
    assert jb.target_ms == 20
    for index in range(40):
        jb.put(index * 160, frame(0))
    pulled = sum(1 for _ in range(30) if jb.pull() is not None)
    assert pulled == 30
    assert jb.trimmed_frames > 0
    assert jb.depth_samples < 40 * 160


def test_loud_excess_is_trimmed_eventually() -> None:
    """Even loud audio is trimmed when far beyond the maximum depth."""
    jb = buffer_at()
    for index in range(60):
        jb.put(index * 160, frame(20000))
    jb.pull()
    jb.pull()
    assert jb.trimmed_frames >= 1


def test_late_boost_decays() -> None:
    """The depth added for late packets is given back after a quiet spell."""
    jb = buffer_at()
    jb.put(1600, frame(1))
    jb.pull()
    jb.put(0, frame(1))
    assert jb.target_ms == 40
    for _ in range(502):
        jb.pull()
    assert jb.target_ms == 20


def test_timestamp_jump_restarts() -> None:
    """A jump of more than two seconds starts a new timeline."""
    jb = buffer_at()
    jb.put(0, frame(1))
    jb.put(160, frame(2))
    jb.put(8000 * 5, frame(9))
    assert jb.pull() == frame(9)


def test_reset_for_new_ssrc() -> None:
    """Reset forgets the old timeline."""
    jb = buffer_at()
    jb.put(1000, frame(1))
    jb.reset()
    assert not jb.started
    jb.put(5, frame(2))
    assert jb.pull() == frame(2)


def test_other_packet_durations() -> None:
    """10 ms and 30 ms packets are regrouped into 20 ms frames; partly late ones are trimmed."""
    jb = buffer_at()
    jb.put(0, frame(1, 80))
    assert jb.put(80, frame(2, 80)) == ACCEPTED
    assert jb.pull() == frame(1, 80) + frame(2, 80)
    jb.put(160, frame(3, 240))
    assert jb.pull() == frame(3, 160)
    # Starts before the cursor (320): its head is cut, and the rest overlaps what is queued.
    assert jb.put(300, frame(4, 80)) == DUPLICATE
    assert jb.put(400, frame(5, 80)) == ACCEPTED
    assert jb.pull() == frame(3, 80) + frame(5, 80)
    assert jb.put(5, b"") == ACCEPTED


def test_incomplete_frame_is_skipped_and_straddling_piece_trimmed() -> None:
    """A frame missing its second half is concealed; a piece straddling the cursor is cut."""
    jb = buffer_at()
    jb.put(0, frame(1))
    assert jb.pull() == frame(1)
    jb.put(160, frame(2, 80))
    jb.put(300, frame(3, 100))  # covers 300..400, straddles the next cursor (320)
    assert jb.pull() == frame(1)  # 240..320 missing: concealed, cursor moves to 320
    assert jb.pull() == audioop.mul(
        frame(1), 2, 0.7
    )  # 320..400 alone is not a frame yet
    jb.put(400, frame(4, 80))
    assert jb.pull() == frame(3, 80) + frame(4, 80)
    assert jb.concealed_frames == 2
