"""Batched listen streams: two 20 ms frames per write, none lost or reordered, none held over 20 ms.

The batching itself runs on a virtual clock (frames pushed on a schedule, and a real media session
fed over loopback); the WAV stream (pairs) and the card's WebSocket stream (one frame per event,
or the frames that were ready together) are checked end to end with real Home Assistant HTTP and
the emulator.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
import contextlib
import random
import struct

import aiohttp
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.cloud_sip_ua.cloudsipua.media import (
    AudioSubscription,
    MediaSession,
)
from custom_components.cloud_sip_ua.cloudsipua.media.clock import (
    FRAME_SECONDS,
    ManualClock,
    MediaClock,
)
from custom_components.cloud_sip_ua.cloudsipua.models import Codec
from custom_components.cloud_sip_ua.const import DOMAIN
from custom_components.cloud_sip_ua.intercom.listen import listen_url
from custom_components.cloud_sip_ua.intercom.listen_stream import (
    FrameBatches,
    wav_stream_header,
)
from emulator import Emulator
from homeassistant.core import HomeAssistant
from tests.audio_check import tone_pcm, tone_report

from .helpers import action, answer_tone_call

FRAME = 640  # 20 ms of 16 kHz 16-bit PCM
STEP = 0.001  # virtual time moves in 1 ms steps, the media clock's grid
BOUND = FRAME_SECONDS + 1e-9  # the hold (virtual time: the writer runs without delay)


def numbered(index: int) -> bytes:
    """Return a 20 ms frame whose every sample says which frame it is."""
    return struct.pack("<I", index) * (FRAME // 4)


async def settle() -> None:
    """Let the loop run what the last step of virtual time made ready."""
    for _ in range(6):
        await asyncio.sleep(0)


class Consumer:
    """Drains a FrameBatches as a writer would, noting each batch with its virtual time."""

    running: list[asyncio.Task[None]] = []  # stopped after each test, passed or failed

    def __init__(self, batches: FrameBatches, clock: ManualClock) -> None:
        """Start consuming."""
        self.got: list[tuple[float, bytes]] = []
        self._clock = clock
        self.task = asyncio.create_task(self._run(batches))
        self.running.append(self.task)

    async def _run(self, batches: FrameBatches) -> None:
        async for batch in batches:
            self.got.append((self._clock.time(), batch))

    def delays(self, pushed_at: dict[bytes, float]) -> list[float]:
        """Return each frame's wait: from being pushed to leaving in a batch."""
        return [
            at - pushed_at[batch[i : i + FRAME]]
            for at, batch in self.got
            for i in range(0, len(batch), FRAME)
        ]


@pytest.fixture(autouse=True)
async def stop_consumers() -> AsyncIterator[None]:
    """Cancel the test's consumers, so a failed test leaves no task behind."""
    yield
    while Consumer.running:
        task = Consumer.running.pop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def run_for(clock: ManualClock, seconds: float) -> None:
    """Move virtual time forward in 1 ms steps, letting the loop run after each."""
    for _ in range(round(seconds / STEP)):
        clock.advance(STEP)
        await settle()


def play(
    clock: ManualClock,
    subscription: AudioSubscription,
    after: float,
    count: int,
    pushed_at: dict[bytes, float],
    first: int = 0,
) -> float:
    """Push numbered frames from a ticker of the media clock, as a session plays out its audio.

    The first frame comes `after` seconds from now (on the clock's grid), then one every 20 ms;
    frames are numbered from `first`, and each one's push time goes into `pushed_at`. Return the
    first frame's time.
    """
    media_clock = MediaClock.of(clock)
    start = media_clock.align(clock.time() + after)
    sent = 0

    def tick(now: float) -> float | None:
        nonlocal sent
        frame = numbered(first + sent)
        pushed_at[frame] = now
        subscription.push(frame)
        sent += 1
        return None if sent == count else start + sent * FRAME_SECONDS

    media_clock.add(tick, start)
    return start


@pytest.mark.parametrize("lag", [0.0, 0.0003])
async def test_a_steady_stream_goes_out_two_frames_per_write(lag: float) -> None:
    """Three seconds of frames: half the writes, the exact bytes in order, none held > 20 ms.

    With `lag` the writer runs that long after each tick, as on a real loop: it still wakes with
    the tick that pushes a pair's second frame, not a grid step later.
    """
    clock = ManualClock()
    subscription = AudioSubscription(16000)
    pushed_at: dict[bytes, float] = {}
    play(clock, subscription, 0.005, 150, pushed_at)
    consumer = Consumer(FrameBatches(subscription, clock=clock), clock)
    clock.advance(
        lag
    )  # the steps (and the writer's turns) now end `lag` after the ticks
    await run_for(clock, 3.1)
    subscription.end()
    await run_for(clock, 0.05)
    assert consumer.task.done()

    assert b"".join(batch for _, batch in consumer.got) == b"".join(pushed_at)
    assert [len(batch) for _, batch in consumer.got] == [2 * FRAME] * 75
    assert max(consumer.delays(pushed_at)) <= BOUND + lag


async def test_a_lone_frame_is_not_held_when_the_stream_pauses() -> None:
    """An odd frame before a pause leaves within 20 ms; after the pause, the lock is taken anew."""
    clock = ManualClock()
    subscription = AudioSubscription(16000)
    pushed_at: dict[bytes, float] = {}
    play(clock, subscription, 0.003, 5, pushed_at)
    # Resumes half a second later on another phase: 7 ms off the old one.
    play(clock, subscription, 0.510, 20, pushed_at, first=5)
    consumer = Consumer(FrameBatches(subscription, clock=clock), clock)
    await run_for(clock, 0.3)
    # The fifth frame went out alone, without waiting for a sixth that has not come.
    assert b"".join(batch for _, batch in consumer.got) == b"".join(
        numbered(k) for k in range(5)
    )
    await run_for(clock, 0.7)

    assert b"".join(batch for _, batch in consumer.got) == b"".join(pushed_at)
    assert max(consumer.delays(pushed_at)) <= BOUND
    assert len(consumer.got) <= 14  # 25 frames: 3 + 10 pairs, and a lone frame


@pytest.mark.parametrize("frames", [1, 2])
async def test_frames_ready_together_go_out_in_one_write(frames: int) -> None:
    """Frames queued while the writer was busy (a stall) are written at once, in one write."""
    clock = ManualClock()
    subscription = AudioSubscription(16000)
    for index in range(5):
        subscription.push(numbered(index))
    consumer = Consumer(FrameBatches(subscription, frames=frames, clock=clock), clock)
    await settle()
    assert consumer.got == [(clock.time(), b"".join(numbered(k) for k in range(5)))]


async def test_a_late_lock_is_corrected_within_a_second() -> None:
    """A lock taken while the loop ran 8 ms late holds frames 28 ms at most, and only for 1 s."""
    clock = ManualClock()
    subscription = AudioSubscription(16000)
    pushed_at: dict[bytes, float] = {}
    start = play(clock, subscription, 0.001, 150, pushed_at)
    late = 0.008
    consumer = Consumer(FrameBatches(subscription, clock=clock), clock)
    await settle()
    # The first frame's wake-up is late: virtual time moves on before the loop runs.
    clock.advance(start - clock.time() + late)
    await settle()
    await run_for(clock, 3.0)

    delays = consumer.delays(pushed_at)
    assert max(delays) <= BOUND + late
    late_for = [
        pushed_at[batch[:FRAME]] - start
        for at, batch in consumer.got
        if at - pushed_at[batch[:FRAME]] > BOUND
    ]
    assert late_for and max(late_for) < 1.1, late_for
    assert b"".join(batch for _, batch in consumer.got) == b"".join(pushed_at)


async def test_one_frame_per_write_needs_no_timer() -> None:
    """With frames=1 every frame goes out as it comes and nothing is scheduled."""
    clock = ManualClock()
    subscription = AudioSubscription(16000)
    batches = FrameBatches(subscription, frames=1, clock=clock)
    consumer = Consumer(batches, clock)
    for index in range(3):
        subscription.push(numbered(index))
        await settle()
    subscription.end()
    await settle()
    assert [batch for _, batch in consumer.got] == [numbered(k) for k in range(3)]
    assert clock.pending == 0
    assert consumer.task.done()


async def test_a_media_session_on_virtual_time_batches_its_frames() -> None:
    """A real session fed over loopback: batches equal the per-frame stream, within the bound."""
    clock = ManualClock()
    base = random.randrange(30000, 59000, 2)
    sessions = [
        MediaSession(
            codec=Codec.PCMA,
            bind_host="127.0.0.1",
            port_range=(base, base + 400),
            clock=clock,
            wait_for_remote=wait,
        )
        for wait in (True, False)
    ]
    home, door = sessions
    for session in sessions:
        await session.start()
    try:
        home.set_remote("127.0.0.1", door.local_port)
        door.set_remote("127.0.0.1", home.local_port)
        door.enqueue_audio(tone_pcm(440.0, 3.0), 8000)
        pushed: list[float] = []

        def tap(received: bytes | None, _sent: bytes | None) -> None:
            if received is not None:  # a frame was pushed to the subscriptions
                pushed.append(clock.time())

        home.add_tap(tap)
        per_frame = home.subscribe(16000)
        consumer = Consumer(FrameBatches(home.subscribe(16000), clock=clock), clock)
        frames: list[bytes] = []

        async def collect() -> None:
            frames.extend([frame async for frame in per_frame])

        collector = asyncio.create_task(collect())
        await run_for(clock, 2.5)
        await home.close()
        await run_for(clock, 0.05)
        await asyncio.wait_for(asyncio.gather(consumer.task, collector), 5)
    finally:
        for session in sessions:
            await session.close()

    batches = [batch for _, batch in consumer.got]
    assert b"".join(batches) == b"".join(frames)
    assert len(batches) <= len(frames) // 2 + 2
    # Frame n was pushed at the n-th tick that played audio out to the subscriptions.
    assert len(pushed) == len(frames)
    index = 0
    for at, batch in consumer.got:
        for _ in range(len(batch) // FRAME):
            assert at - pushed[index] <= BOUND, (index, at - pushed[index])
            index += 1
    frequency, snr = tone_report(b"".join(frames)[-32000:], 16000)
    assert abs(frequency - 440.0) <= 10 and snr >= 20, (frequency, snr)


async def test_wav_listener_gets_two_frames_per_http_chunk(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    ha_base_url: str,
) -> None:
    """Each HTTP chunk after the header is one write: whole frames, mostly two; the tone intact."""
    await answer_tone_call(hass, init_integration, emulator)
    manager = init_integration.runtime_data.manager
    url = listen_url(hass, manager, init_integration.entry_id, None, "wav")
    chunks: list[int] = []
    body = bytearray()
    pending = 0
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
        async with asyncio.timeout(10):
            # Each HTTP chunk is one write of the server (aiohttp marks where chunks end).
            async for data, end_of_chunk in response.content.iter_chunks():
                body += data
                pending += len(data)
                if end_of_chunk:
                    chunks.append(pending)
                    pending = 0
                if len(body) >= 44 + 2 * 32000:
                    break
    await action(hass, "hang_up")

    assert bytes(body[:44]) == wav_stream_header(16000)
    assert chunks[0] == 44
    audio = chunks[1:-1]  # the last one may be cut by the read above
    assert all(size % FRAME == 0 for size in audio), audio
    assert sum(size == 2 * FRAME for size in audio) >= 0.9 * len(audio), audio
    frames = sum(audio) // FRAME
    assert len(audio) < 0.6 * frames, (len(audio), frames)
    frequency, snr = tone_report(bytes(body[-32000:]), 16000)
    assert abs(frequency - 440.0) <= 10, frequency
    assert snr >= 20, snr


async def test_card_stream_holds_no_frame(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """The card's events carry whole frames, in steady flow one each (never held); the tone intact."""
    await answer_tone_call(hass, init_integration, emulator)
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {
            "type": f"{DOMAIN}/audio/subscribe",
            "entry_id": init_integration.entry_id,
            "talk": False,
        }
    )
    assert (await client.receive_json())["success"]
    assert (await client.receive_json())["event"]["type"] == "start"
    sizes: list[int] = []
    pcm = bytearray()
    async with asyncio.timeout(10):
        while len(pcm) < 2 * 16000:
            event = (await client.receive_json())["event"]
            assert event["type"] == "audio"
            data = base64.b64decode(event["pcm"])
            sizes.append(len(data))
            pcm += data
    await action(hass, "hang_up")

    frame = 320  # 20 ms at the card's 8 kHz
    assert all(size % frame == 0 for size in sizes), sizes
    assert sum(size == frame for size in sizes) >= 0.9 * len(sizes), sizes
    frequency, snr = tone_report(bytes(pcm[-16000:]))
    assert abs(frequency - 440.0) <= 10, frequency
    assert snr >= 20, snr
