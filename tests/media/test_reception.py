"""Tests of RFC 3550 reception statistics."""

from custom_components.cloud_sip_ua.cloudsipua.media.reception import (
    ACCEPTED,
    DUPLICATE,
    RESTART_PENDING,
    ReceptionStats,
)


def test_sequence_wrap_and_loss() -> None:
    """The extended sequence number counts cycles; a gap is loss."""
    stats = ReceptionStats(1, 65534)
    assert stats.update(65535) == ACCEPTED
    assert stats.update(1) == ACCEPTED  # 0 lost
    assert stats.extended_max == 65537
    assert stats.expected == 4
    assert stats.lost == 1


def test_duplicates_and_reorder() -> None:
    """Repeated numbers are duplicates; late but unseen ones are accepted."""
    stats = ReceptionStats(1, 100)
    assert stats.update(100) == DUPLICATE
    assert stats.update(102) == ACCEPTED
    assert stats.update(101) == ACCEPTED
    assert stats.update(101) == DUPLICATE
    assert stats.lost == 0


def test_large_jump_needs_confirmation() -> None:
    """A far jump is believed only when the next packet follows it."""
    stats = ReceptionStats(1, 100)
    assert stats.update(30000) == RESTART_PENDING
    assert stats.update(30001) == ACCEPTED
    assert stats.extended_max == 30001
    assert stats.lost == 0


def test_jitter_and_report_block() -> None:
    """Jitter follows transit variation; the report covers the interval's loss."""
    stats = ReceptionStats(9, 0)
    stats.update_jitter(0, 0.0)
    for seq in range(1, 20):
        if seq == 10:
            continue  # lost
        stats.update(seq)
        stats.update_jitter(seq * 160, seq * 0.02 + (0.005 if seq % 2 else 0))
    assert stats.jitter_ms > 1
    stats.update_jitter(10**9, 100.0)  # a timestamp jump is not jitter
    block = stats.report_block(0x1000, 5)
    assert block.ssrc == 9
    assert block.cumulative_lost == 1
    assert block.fraction_lost == 256 // 20
    assert block.highest_sequence == 19
    assert block.jitter == int(stats.jitter)
    assert stats.report_block(0, 0).fraction_lost == 0


def test_transit_wrap_negative_delta() -> None:
    """Transit differences are taken modulo 2**32 in both directions."""
    stats = ReceptionStats(1, 0)
    stats.update_jitter(0xFFFFFF00, 1.0)
    stats.update_jitter(0x00000000, 1.0)
    assert stats.jitter == 256 / 16
