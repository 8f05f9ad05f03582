"""Tests of RtpSender alone: gating, the queue, encoding, DTMF and its clock, over real UDP."""

import asyncio
from collections.abc import AsyncIterator

import audioop
import pytest

from custom_components.cloud_sip_ua.cloudsipua.media import MediaError, generate_crypto
from custom_components.cloud_sip_ua.cloudsipua.media.clock import ManualClock
from custom_components.cloud_sip_ua.cloudsipua.media.codecs import FRAME_BYTES
from custom_components.cloud_sip_ua.cloudsipua.media.latching import (
    PROBATION_PACKETS,
    SourceGuard,
)
from custom_components.cloud_sip_ua.cloudsipua.media.rtp import RtpPacket, parse_rtp
from custom_components.cloud_sip_ua.cloudsipua.media.sender import RtpSender
from custom_components.cloud_sip_ua.cloudsipua.media.srtp import SrtpContext
from custom_components.cloud_sip_ua.cloudsipua.models import Codec

from .conftest import run_for, run_until, settle, tone_pcm, tone_snr
from .peers import RawPeer, open_peer


class Wire:
    """A sending socket and a receiving peer on 127.0.0.1."""

    def __init__(self, transport: asyncio.DatagramTransport, peer: RawPeer) -> None:
        """Keep both ends."""
        self.transport = transport
        self.peer = peer

    async def packets(self, count: int) -> list[RtpPacket]:
        """Wait until `count` datagrams arrived and return them parsed."""
        async with asyncio.timeout(3):  # a safety net: loopback delivers at once
            while len(self.peer.received) < count:
                await settle()
        return [parse_rtp(data) for data, _addr in self.peer.received]


@pytest.fixture
async def wire() -> AsyncIterator[Wire]:
    """Yield a bound sending transport and a peer that records what arrives."""
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0)
    )
    peer = await open_peer(RawPeer)
    yield Wire(transport, peer)
    transport.close()
    peer.close()
    await asyncio.sleep(0)


def far_end(wire: Wire, codec: Codec = Codec.PCMA, **kwargs: object) -> RtpSender:
    """Return a sender that talks to the peer without waiting for it (as the far end does)."""
    guard = SourceGuard()
    guard.advertise(wire.peer.address, 0.0)
    sender = RtpSender(codec, guard=guard, wait_for_remote=False, **kwargs)  # type: ignore[arg-type]
    sender.transport = wire.transport
    return sender


async def test_nothing_is_sent_before_the_remote_latched(wire: Wire) -> None:
    """Withheld ticks keep the timestamp running; queued audio waits for the latch."""
    guard = SourceGuard()
    guard.advertise(wire.peer.address, 0.0)
    sender = RtpSender(Codec.PCMU, guard=guard)
    assert sender.codec is Codec.PCMU
    sender.send_frame()  # no transport yet
    sender.transport = wire.transport
    sender.enqueue_audio(tone_pcm(1000, 8000, 0.04), 8000)
    sender.send_frame()
    await settle()
    assert wire.peer.received == []
    assert sender.stats.packets_withheld == 2
    assert sender.sent_pcm is None
    for seq in range(PROBATION_PACKETS):  # the remote proves itself
        guard.check(wire.peer.address, 7, seq, 1.0)
    assert guard.latched == wire.peer.address
    sender.send_frame()
    sender.send_frame()
    sender.send_frame()  # the queue is empty: silence
    first, second, third = await wire.packets(3)
    assert first.marker and not second.marker
    assert first.payload_type == Codec.PCMU.payload_type
    assert second.timestamp - first.timestamp == 160
    assert second.sequence == (first.sequence + 1) & 0xFFFF
    assert first.ssrc == sender.ssrc
    # The greeting starts whole: the first audio frame went out first.
    assert audioop.ulaw2lin(first.payload, 2) != bytes(FRAME_BYTES)
    assert third.payload == b"\xff" * 160  # mu-law silence
    assert sender.stats.packets_sent == 3
    assert sender.stats.bytes_sent == 3 * 172
    assert sender.payload_octets == 3 * 160


async def test_resampled_audio_and_padding(wire: Wire) -> None:
    """16 kHz input goes out as 8 kHz G.711; a short tail is padded; play_audio waits."""
    sender = far_end(wire)
    pcm = tone_pcm(500, 16000, 0.2)
    task = asyncio.create_task(sender.play_audio(pcm, 16000))
    await asyncio.sleep(0)
    assert not task.done()
    frames = []
    for _ in range(12):
        sender.send_frame()
        if sender.sent_pcm is not None:
            frames.append(sender.sent_pcm)
        await asyncio.sleep(0)
    await asyncio.wait_for(task, 1)
    assert all(len(frame) == FRAME_BYTES for frame in frames)
    assert len(frames) in (10, 11)
    packets = await wire.packets(12)
    decoded = b"".join(audioop.alaw2lin(p.payload, 2) for p in packets[1:9])
    assert tone_snr(decoded, 8000, 500) > 20
    sender.enqueue_audio(tone_pcm(500, 8000, 0.005), 8000)  # 40 samples: padded
    sender.send_frame()
    assert sender.sent_pcm is not None and len(sender.sent_pcm) == FRAME_BYTES
    assert sender.sent_pcm[80:] == bytes(FRAME_BYTES - 80)
    # Switching input rates flushes the old resampler first.
    sender.enqueue_audio(tone_pcm(500, 48000, 0.05), 48000)
    sender.enqueue_audio(tone_pcm(500, 8000, 0.05), 8000)
    with pytest.raises(ValueError, match="sample rate"):
        sender.enqueue_audio(b"\x00\x00", 44100)
    with pytest.raises(ValueError, match="even"):
        sender.enqueue_audio(b"\x00", 8000)


async def test_clear_and_close_release_waiters(wire: Wire) -> None:
    """clear_audio ends a pending play_audio; after close, play_audio returns at once."""
    sender = far_end(wire)
    task = asyncio.create_task(sender.play_audio(tone_pcm(500, 8000, 1.0), 8000))
    await asyncio.sleep(0)
    sender.clear_audio()
    await asyncio.wait_for(task, 1)
    task = asyncio.create_task(sender.play_audio(tone_pcm(500, 8000, 1.0), 8000))
    await asyncio.sleep(0)
    sender.close()
    await asyncio.wait_for(task, 1)
    await asyncio.wait_for(sender.play_audio(tone_pcm(500, 8000, 0.1), 8000), 1)


async def test_comfort_noise_and_codec_switch(wire: Wire) -> None:
    """Comfort noise cycles non-silent frames and follows a codec switch."""
    sender = far_end(wire, comfort_noise=True)
    sender.send_frame()
    sender.send_frame()
    sender.set_codec(Codec.PCMU)
    sender.send_frame()
    first, second, third = await wire.packets(3)
    assert first.payload != second.payload
    assert first.payload != b"\xd5" * 160
    assert third.payload_type == Codec.PCMU.payload_type
    sender.set_codec(Codec.GSM)
    assert sender.codec is Codec.GSM


async def test_srtp_protects_what_is_sent(wire: Wire) -> None:
    """With a context, every packet is SRTP that the peer's context opens."""
    sender = far_end(wire)
    ours, theirs = generate_crypto(), generate_crypto()
    sender.srtp = SrtpContext(local=ours, remote=theirs)
    sender.send_frame()
    await wire.packets(1)
    data, _addr = wire.peer.received[0]
    assert len(data) == 172 + 10
    opened = parse_rtp(SrtpContext(local=theirs, remote=ours).unprotect(data))
    assert opened.ssrc == sender.ssrc


async def test_dtmf_events_on_the_clock(wire: Wire, clock: ManualClock) -> None:
    """Digits go out as RFC 4733 events on the running clock, one after another."""
    sender = far_end(wire)
    with pytest.raises(MediaError, match="not running"):
        await sender.send_dtmf("1")
    ticks: list[float] = []
    sender.start(
        clock, wire.transport, clock.time(), lambda now, _sent: ticks.append(now)
    )
    task = asyncio.create_task(sender.send_dtmf("1#", duration_ms=40, gap_ms=20))
    await run_until(clock, task.done)
    await task
    sender.close()
    assert sender.stats.dtmf_sent == 2
    assert ticks
    packets = [p for p in await wire.packets(1) if p.payload_type == 101]
    digits = [p.payload[0] for p in packets]
    assert digits[0] == 1 and digits[-1] == 11
    events = [p for p in packets if p.payload[0] == 1]
    assert len({p.timestamp for p in events}) == 1  # one event, one timestamp
    assert events[0].marker and not events[1].marker
    assert events[-1].payload[1] & 0x80  # end bit
    with pytest.raises(MediaError, match="not running"):
        await sender.send_dtmf("1")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"digits": "x"}, "DTMF"),
        ({"digits": "1", "duration_ms": 10}, "duration"),
        ({"digits": "1", "gap_ms": -1}, "gap"),
    ],
)
async def test_dtmf_refuses_bad_requests(
    wire: Wire, kwargs: dict[str, object], message: str
) -> None:
    """Bad digits, durations or gaps raise before anything is queued."""
    sender = far_end(wire)
    with pytest.raises(ValueError, match=message):
        await sender.send_dtmf(**kwargs)  # type: ignore[arg-type]


async def test_dtmf_needs_a_payload_type_and_fails_on_close(
    wire: Wire, clock: ManualClock
) -> None:
    """Without a negotiated payload type DTMF is refused; closing fails what is pending."""
    sender = far_end(wire, telephone_event_pt=None)
    with pytest.raises(MediaError, match="telephone-event"):
        await sender.send_dtmf("1")
    sender.telephone_event_pt = 101
    sender.start(clock, wire.transport, clock.time())
    task = asyncio.create_task(sender.send_dtmf("12", duration_ms=200, gap_ms=0))
    await run_for(clock, 0.06)  # the first digit is on the wire
    sender.close()
    with pytest.raises(MediaError, match="closed before"):
        await task


async def test_clock_skips_ahead_after_a_blocked_loop(
    wire: Wire, clock: ManualClock
) -> None:
    """A blocked loop does not cause a burst: the timestamps jump with real time."""
    sender = far_end(wire)
    now = clock.time()
    sender.start(clock, wire.transport, now)
    assert abs(sender.rtp_timestamp(now + 0.02) - sender.rtp_timestamp(now) - 160) <= 1
    await run_for(clock, 0.04)
    await wire.packets(2)
    clock.jump(0.3)  # the loop was blocked
    count = len(wire.peer.received)
    await run_for(clock, 0.04)
    sender.close()
    packets = await wire.packets(count + 1)
    assert len(packets) - count <= 4  # no burst of 15 packets
    gaps = [
        b.timestamp - a.timestamp for a, b in zip(packets, packets[1:], strict=False)
    ]
    assert max(gaps) >= 160 * 10
    assert all(
        b.sequence == (a.sequence + 1) & 0xFFFF
        for a, b in zip(packets, packets[1:], strict=False)
    )


async def test_failing_tick_callback_keeps_the_pace(
    wire: Wire, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """An exception after a tick's packet is logged; the next packets still go out on time."""
    sender = far_end(wire)

    def boom(now: float, sent: bytes | None) -> None:
        raise RuntimeError("boom")

    sender.start(clock, wire.transport, clock.time(), boom)
    await run_for(clock, 0.1)
    sender.close()
    assert "Media tick failed" in caplog.text
    assert len(await wire.packets(5)) == 5
