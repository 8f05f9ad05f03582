"""Speakers of a call share one writer per format and rate: one subscription, one chunk for all.

The fan-out runs on a virtual clock with transports that record what they were given (the
backlog of a real socket cannot be steered); sharing, the chunked bodies and their end are
checked with real Home Assistant HTTP, the emulator and aiohttp's client.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from datetime import timedelta
import subprocess

import aiohttp
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.cloud_sip_ua.cloudsipua.media import AudioSubscription
from custom_components.cloud_sip_ua.cloudsipua.media.clock import ManualClock
from custom_components.cloud_sip_ua.intercom import listen_stream
from custom_components.cloud_sip_ua.intercom.listen import listen_url
from custom_components.cloud_sip_ua.intercom.listen_fanout import (
    MAX_BACKLOG,
    Listener,
    ListenFanouts,
    http_chunk,
)
from custom_components.cloud_sip_ua.intercom.listen_stream import wav_stream_header
from custom_components.cloud_sip_ua.intercom.mp3_frames import frame_length
from emulator import Emulator
from homeassistant.components.http.auth import async_sign_path
from homeassistant.core import HomeAssistant
from tests.audio_check import tone_report
from tests.waiting import wait_until

from .helpers import action, answer_tone_call
from .test_listen import _decode_mp3
from .test_listen_batching import FRAME, numbered, play, run_for

RATE = 16000


class Source:
    """A call's media as the fan-out sees it: it hands out subscriptions and remembers them."""

    def __init__(self) -> None:
        """Start with none."""
        self.subscriptions: list[AudioSubscription] = []

    def subscribe(self, sample_rate: int = 8000) -> AudioSubscription:
        """Return a new subscription."""
        subscription = AudioSubscription(sample_rate)
        self.subscriptions.append(subscription)
        return subscription


class RecordingTransport(asyncio.WriteTransport):
    """A connection's transport that keeps what was written; its backlog is set by the test."""

    def __init__(self) -> None:
        """Open, empty and not backed up."""
        super().__init__()
        self.written: list[bytes] = []
        self.backlog = 0
        self.closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Keep one write."""
        self.written.append(bytes(data))

    def is_closing(self) -> bool:
        """Tell whether the connection went away."""
        return self.closing

    def get_write_buffer_size(self) -> int:
        """Return the bytes that wait to be sent."""
        return self.backlog


def unchunk(writes: list[bytes]) -> list[bytes]:
    """Return the payload of each write, checking each is one whole HTTP chunk."""
    payloads = []
    for write in writes:
        size, _, rest = write.partition(b"\r\n")
        payload = rest[: int(size, 16)]
        assert write == http_chunk(payload), write[:20]
        payloads.append(payload)
    return payloads


@pytest.fixture
async def fanouts() -> AsyncIterator[tuple[ListenFanouts, ManualClock]]:
    """Return a registry of fan-outs on a virtual clock; no task outlives the test."""
    clock = ManualClock()
    registry = ListenFanouts(clock=clock)
    yield registry, clock
    for task in asyncio.all_tasks():
        if task.get_name() == "cloud_sip_ua listen fan-out":
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def test_an_http_chunk_is_framed_as_rfc_9112_says() -> None:
    """Size in hex, CRLF, the data, CRLF."""
    assert http_chunk(b"x" * 1280) == b"500\r\n" + b"x" * 1280 + b"\r\n"
    assert http_chunk(b"ab") == b"2\r\nab\r\n"


async def test_listeners_share_one_subscription_and_get_the_same_chunks(
    fanouts: tuple[ListenFanouts, ManualClock],
) -> None:
    """Three listeners, one subscription; each gets every frame once, in order, in pairs."""
    registry, clock = fanouts
    source = Source()
    transports = [RecordingTransport() for _ in range(3)]
    for transport in transports:
        registry.join(source, "wav", RATE, transport)
    assert len(source.subscriptions) == 1
    assert registry.running == 1
    pushed: dict[bytes, float] = {}
    play(clock, source.subscriptions[0], 0.02, 20, pushed)
    await run_for(clock, 0.5)

    expected = b"".join(numbered(index) for index in range(20))
    for transport in transports:
        payloads = unchunk(transport.written)
        assert b"".join(payloads) == expected
        assert all(len(payload) == 2 * FRAME for payload in payloads), [
            len(payload) for payload in payloads
        ]
    # One chunk object, framed once, went to everybody.
    assert all(
        first is second
        for first, second in zip(
            transports[0].written, transports[1].written, strict=True
        )
    )


async def test_another_rate_has_its_own_fanout(
    fanouts: tuple[ListenFanouts, ManualClock],
) -> None:
    """8 kHz and 16 kHz listeners of one call: two fan-outs, two subscriptions."""
    registry, _clock = fanouts
    source = Source()
    registry.join(source, "wav", 16000, RecordingTransport())
    registry.join(source, "wav", 8000, RecordingTransport())
    registry.join(source, "wav", 16000, RecordingTransport())
    assert [sub.sample_rate for sub in source.subscriptions] == [16000, 8000]
    assert registry.running == 2


async def test_a_backed_up_listener_misses_batches_and_holds_nobody_back(
    fanouts: tuple[ListenFanouts, ManualClock],
) -> None:
    """While one socket is backed up it gets nothing; the other gets everything meanwhile."""
    registry, clock = fanouts
    source = Source()
    steady, stalled = RecordingTransport(), RecordingTransport()
    registry.join(source, "wav", RATE, steady)
    slow = registry.join(source, "wav", RATE, stalled)
    pushed: dict[bytes, float] = {}
    play(clock, source.subscriptions[0], 0.02, 30, pushed)
    await run_for(clock, 0.2)
    before = len(stalled.written)
    stalled.backlog = MAX_BACKLOG + 1
    await run_for(clock, 0.2)
    assert len(stalled.written) == before
    skipped = slow.skipped
    assert skipped >= 4
    stalled.backlog = MAX_BACKLOG  # drained enough: it gets audio again
    await run_for(clock, 0.3)

    everything = b"".join(numbered(index) for index in range(30))
    assert b"".join(unchunk(steady.written)) == everything
    got = b"".join(unchunk(stalled.written))
    assert len(got) == len(everything) - skipped * 2 * FRAME
    assert got.startswith(everything[: before * 2 * FRAME])
    assert got.endswith(everything[-2 * FRAME :])


async def test_a_gone_listener_is_dropped_and_the_last_one_stops_the_fanout(
    fanouts: tuple[ListenFanouts, ManualClock],
) -> None:
    """A closed connection ends its listener (not "ended"); the last to go frees the stream."""
    registry, clock = fanouts
    source = Source()
    gone, staying = RecordingTransport(), RecordingTransport()
    first = registry.join(source, "wav", RATE, gone)
    second = registry.join(source, "wav", RATE, staying)
    pushed: dict[bytes, float] = {}
    play(clock, source.subscriptions[0], 0.02, 50, pushed)
    await run_for(clock, 0.1)
    gone.closing = True
    written = len(gone.written)
    await run_for(clock, 0.1)
    assert first.done.done()
    assert first.done.result() is False
    assert len(gone.written) == written
    assert not second.done.done()
    assert not source.subscriptions[0].closed

    second.leave()
    assert second.done.result() is False
    assert source.subscriptions[0].closed  # no subscription kept for nobody
    assert registry.running == 0
    await run_for(clock, 0.1)
    assert len(staying.written) >= 2

    # A later listener starts afresh.
    registry.join(source, "wav", RATE, RecordingTransport())
    assert len(source.subscriptions) == 2
    assert not source.subscriptions[1].closed


async def test_the_call_ending_finishes_every_listener(
    fanouts: tuple[ListenFanouts, ManualClock],
) -> None:
    """When the call's audio ends, every listener is told to end its body."""
    registry, clock = fanouts
    source = Source()
    listeners: list[Listener] = [
        registry.join(source, "wav", RATE, RecordingTransport()) for _ in range(2)
    ]
    pushed: dict[bytes, float] = {}
    play(clock, source.subscriptions[0], 0.02, 5, pushed)
    await run_for(clock, 0.2)
    source.subscriptions[0].end()  # the session closed
    await run_for(clock, 0.1)
    assert [listener.done.result() for listener in listeners] == [True, True]
    assert registry.running == 0
    for listener in listeners:
        listener.leave()  # the handlers' finally: harmless now
    assert registry.running == 0


async def test_speakers_of_one_call_share_its_writer_and_all_end_with_it(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    ha_base_url: str,
) -> None:
    """Two 16 kHz speakers and one 8 kHz: two subscriptions; all hear the tone; all end cleanly."""
    await answer_tone_call(hass, init_integration, emulator)
    manager = init_integration.runtime_data.manager
    media = manager.media_of()
    url = listen_url(hass, manager, init_integration.entry_id, None, "wav")
    path = url.removeprefix(ha_base_url).split("?")[0]
    url_8k = ha_base_url + async_sign_path(
        hass, f"{path}?rate=8000", timedelta(minutes=1), use_content_user=True
    )
    rates = (16000, 16000, 8000)
    bodies = [bytearray() for _ in rates]
    ended = [False for _ in rates]

    async def listen(session: aiohttp.ClientSession, target: str, index: int) -> None:
        async with session.get(target) as response:
            assert response.status == 200
            async for data in response.content.iter_any():
                bodies[index] += data
            # The loop ends only at the chunked body's proper end (the zero-size chunk).
            ended[index] = response.content.is_eof()

    async with aiohttp.ClientSession() as session:
        tasks = [
            asyncio.create_task(listen(session, target, index))
            for index, target in enumerate((url, url, url_8k))
        ]
        # A second of audio each (at its rate, after the header).
        await wait_until(
            lambda: all(
                len(body) >= 44 + 2 * rate
                for body, rate in zip(bodies, rates, strict=True)
            ),
            timeout=10,
            what="a second of audio for every speaker",
        )
        assert len(media._subscriptions) == 2  # noqa: SLF001 - one per rate, not per speaker
        await action(hass, "hang_up")
        async with asyncio.timeout(10):
            await asyncio.gather(*tasks)

    assert ended == [True, True, True]
    for body, rate in zip(bodies, rates, strict=True):
        assert bytes(body[:44]) == wav_stream_header(rate)
        frequency, snr = tone_report(bytes(body[-2 * rate :]), rate)
        assert abs(frequency - 440.0) <= 10, frequency
        assert snr >= 20, snr


async def test_mp3_speakers_share_one_encoder_and_a_late_one_starts_at_a_frame(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One ffmpeg for two speakers; the later one's body starts at a frame and decodes whole."""
    spawned: list[subprocess.Popen[bytes]] = []
    real_spawn = listen_stream.spawn_piped

    def counting_spawn(command: list[str]) -> subprocess.Popen[bytes]:
        process = real_spawn(command)
        spawned.append(process)
        return process

    monkeypatch.setattr(listen_stream, "spawn_piped", counting_spawn)
    await answer_tone_call(hass, init_integration, emulator)
    manager = init_integration.runtime_data.manager
    url = listen_url(hass, manager, init_integration.entry_id, None, "mp3")
    bodies = [bytearray(), bytearray()]

    async def listen(session: aiohttp.ClientSession, index: int) -> None:
        async with session.get(url) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "audio/mpeg"
            async for data in response.content.iter_any():
                bodies[index] += data

    async with aiohttp.ClientSession() as session:
        early = asyncio.create_task(listen(session, 0))
        await wait_until(lambda: len(bodies[0]) > 4000, 10, "the first speaker's MP3")
        late = asyncio.create_task(listen(session, 1))
        await wait_until(lambda: len(bodies[1]) > 6000, 10, "the second speaker's MP3")
        await action(hass, "hang_up")
        async with asyncio.timeout(10):
            await asyncio.gather(early, late)

    assert len(spawned) == 1  # one encoder for both
    await wait_until(lambda: spawned[0].poll() is not None, 10, "ffmpeg to exit")
    late_body = bytes(bodies[1])
    assert frame_length(late_body, 0) is not None  # joined at a frame
    for body in bodies:
        pcm, rate = _decode_mp3(bytes(body))
        frequency, snr = tone_report(pcm[-rate:], rate)
        assert abs(frequency - 440.0) <= 10, frequency
        assert snr >= 20, snr
