"""Tests of the per-tick tap that hands both directions' frames to a recorder."""

import pytest

from custom_components.cloud_sip_ua.cloudsipua.media.clock import ManualClock
from custom_components.cloud_sip_ua.cloudsipua.media.codecs import FRAME_BYTES

from .conftest import SessionFactory, run_for, tone_pcm, tone_snr


async def test_tap_sees_both_directions_aligned(
    make_session: SessionFactory, clock: ManualClock
) -> None:
    """Each tick gives the received and the sent frame; different tones each way come through."""
    alice = await make_session(clock=clock)
    bob = await make_session(
        clock=clock, wait_for_remote=False
    )  # the far end: it speaks first
    alice.set_remote("127.0.0.1", bob.local_port)
    bob.set_remote("127.0.0.1", alice.local_port)
    ticks: list[tuple[bytes | None, bytes | None]] = []
    remove = alice.add_tap(lambda received, sent: ticks.append((received, sent)))

    bob.enqueue_audio(tone_pcm(440, 8000, 1.5), 8000)
    await run_for(clock, 0.3)
    alice.enqueue_audio(tone_pcm(1000, 16000, 1.0), 16000)
    await run_for(clock, 1.2)
    remove()
    remove()  # removing twice is harmless
    count = len(ticks)
    await run_for(clock, 0.1)
    assert len(ticks) == count

    assert ticks[0][0] is None  # nothing received yet on the first tick
    received = b"".join(r for r, _ in ticks if r is not None)
    sent = b"".join(s for _, s in ticks if s is not None)
    assert all(len(r) == FRAME_BYTES for r, _ in ticks if r is not None)
    assert all(len(s) == FRAME_BYTES for _, s in ticks if s is not None)
    assert tone_snr(received[-8000:], 8000, 440) > 20
    assert tone_snr(sent[: 8000 * 2], 8000, 1000) > 20
    # While the 1 kHz tone plays, received frames arrive in the same ticks.
    assert sum(1 for r, s in ticks if r is not None and s is not None) >= 40


async def test_failing_tap_does_not_stop_the_clock(
    make_session: SessionFactory, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A tap that raises is logged; the other taps and the session keep running."""
    session = await make_session(clock=clock)
    seen: list[bytes | None] = []

    def broken(received: bytes | None, sent: bytes | None) -> None:
        raise RuntimeError("boom")

    session.add_tap(broken)
    session.add_tap(lambda received, sent: seen.append(sent))
    await run_for(clock, 0.1)
    assert len(seen) == 5 and all(sent is None for sent in seen)
    assert "Media tap failed" in caplog.text
    await session.close()
    await run_for(clock, 0.06)
    assert len(seen) == 5
    assert clock.pending == 0  # no timer left behind
