"""Tests of the shared media clock and the manual clock the other tests run on."""

import asyncio

import pytest

from custom_components.cloud_sip_ua.cloudsipua.media.clock import (
    FRAME_SECONDS,
    ManualClock,
    MediaClock,
    sleep,
)


def test_manual_clock_runs_timers_in_order() -> None:
    """advance() runs due timers in time order at their own time; cancelled ones never run."""
    clock = ManualClock(start=10.0)
    seen: list[tuple[str, float]] = []
    clock.call_later(0.3, lambda: seen.append(("late", clock.now())))
    clock.call_at(10.1, lambda name: seen.append((name, clock.now())), "early")
    clock.call_later(0.2, seen.append, ("never", 0.0)).cancel()
    assert clock.pending == 2
    clock.advance(0.25)
    assert seen == [("early", 10.1)]
    assert clock.time() == 10.25
    clock.advance(1.0)
    assert seen == [("early", 10.1), ("late", 10.3)]
    assert clock.pending == 0
    clock.jump(5.0)  # a blocked loop: time moves, nothing runs
    assert clock.time() == 16.25


def test_one_timer_ticks_every_session_at_its_own_phase() -> None:
    """Tickers keep their own 20 ms phase on a 5 ms grid; the clock wakes once per grid step."""
    clock = ManualClock(start=0.0)
    media = MediaClock(clock, resolution=0.005)
    ticks: dict[str, list[float]] = {"a": [], "b": [], "c": []}

    def ticker(name: str, first: float) -> None:
        due = [media.align(first)]

        def tick(now: float) -> float:
            ticks[name].append(round(now, 6))
            due[0] += FRAME_SECONDS
            return due[0]

        media.add(tick, due[0])

    ticker("a", 0.02)
    ticker("b", 0.021)  # rounded up to the grid: 0.025
    ticker("c", 0.02)  # the same step as a: one wake-up for both
    assert media.tickers == 3
    clock.advance(0.1)
    assert ticks["a"] == [0.02, 0.04, 0.06, 0.08, 0.1]
    assert ticks["b"] == [0.025, 0.045, 0.065, 0.085]
    assert ticks["c"] == ticks["a"]
    assert media.wakeups == 9  # not 14: a and c share theirs


def test_tickers_stop_fail_and_join_during_a_round(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A failing ticker stops alone; one may cancel another or add one mid-round; no timer lingers."""
    clock = ManualClock(start=0.0)
    media = MediaClock(clock)
    calls: list[str] = []

    def boom(now: float) -> float:
        raise RuntimeError("boom")

    def added(now: float) -> None:
        calls.append("added")

    def first(now: float) -> float | None:
        calls.append("first")
        victim.cancel()
        media.add(added, now + 0.02)
        return None  # done after one tick

    def second(now: float) -> float:
        calls.append("second")
        return now + 0.02

    media.add(boom, 0.02)
    media.add(first, 0.02)
    victim = media.add(second, 0.02)
    clock.advance(0.02)
    assert calls == ["first"]
    assert "Media clock tick failed" in caplog.text
    assert media.tickers == 1  # only the added one
    clock.advance(0.02)
    assert calls == ["first", "added"]
    assert media.tickers == 0
    assert clock.pending == 0
    victim.cancel()  # twice is harmless


def test_cancelling_the_last_ticker_stops_the_timer() -> None:
    """With no ticker left the clock holds no timer (no lingering handle at teardown)."""
    clock = ManualClock()
    media = MediaClock(clock)
    ticker = media.add(lambda now: now + 0.02, clock.time() + 0.02)
    assert clock.pending == 1
    ticker.cancel()
    assert clock.pending == 0
    media.add(lambda now: now + 0.02, clock.time() + 0.04)
    media.add(lambda now: now + 0.02, clock.time() + 0.02)  # earlier: the timer moves
    assert clock.pending == 1


async def test_shared_per_timers_and_sleep() -> None:
    """MediaClock.of gives one clock per loop (or manual clock); sleep follows that time."""
    loop = asyncio.get_running_loop()
    assert MediaClock.of(loop) is MediaClock.of(loop)
    manual = ManualClock()
    media = MediaClock.of(manual)
    assert media is not MediaClock.of(loop)
    assert media.time() == manual.time()
    task = asyncio.create_task(sleep(manual, 0.5))
    await asyncio.sleep(0)
    manual.advance(0.4)
    await asyncio.sleep(0)
    assert not task.done()
    manual.advance(0.1)
    await task
    cancelled = asyncio.create_task(sleep(manual, 1.0))
    await asyncio.sleep(0)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert manual.pending == 0
