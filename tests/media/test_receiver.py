"""Tests of RtpReceiver alone: the packet path, playout, fan-out and inactivity."""

import asyncio
import logging

import audioop
import pytest

from custom_components.cloud_sip_ua.cloudsipua.media import generate_crypto
from custom_components.cloud_sip_ua.cloudsipua.media.codecs import (
    FRAME_BYTES,
    create_codec,
)
from custom_components.cloud_sip_ua.cloudsipua.media.dtmf import (
    DtmfEvent,
    event_packets,
)
from custom_components.cloud_sip_ua.cloudsipua.media.latching import (
    PROBATION_PACKETS,
    SSRC_SILENCE,
    SourceGuard,
)
from custom_components.cloud_sip_ua.cloudsipua.media.ports import Endpoint
from custom_components.cloud_sip_ua.cloudsipua.media.receiver import RtpReceiver
from custom_components.cloud_sip_ua.cloudsipua.media.rtcp import build_rtcp
from custom_components.cloud_sip_ua.cloudsipua.media.rtp import build_rtp
from custom_components.cloud_sip_ua.cloudsipua.media.srtp import SrtpContext
from custom_components.cloud_sip_ua.cloudsipua.models import Codec

from .conftest import settle, tone_pcm, tone_snr
from .peers import raw_peer

REMOTE = ("127.0.0.1", 40000)
SSRC = 0x1234


class Clock:
    """A hand-moved clock (seconds)."""

    def __init__(self) -> None:
        """Start at 100 s."""
        self.now = 100.0

    def __call__(self) -> float:
        """Return the time."""
        return self.now


def make_receiver(clock: Clock, **kwargs: object) -> RtpReceiver:
    """Return a receiver whose guard expects REMOTE."""
    guard = SourceGuard()
    guard.advertise(REMOTE, clock.now)
    return RtpReceiver(guard=guard, clock=clock, **kwargs)  # type: ignore[arg-type]


def tone_packets(
    count: int, *, codec: Codec = Codec.PCMA, first_seq: int = 0, ssrc: int = SSRC
) -> list[bytes]:
    """Return `count` 20 ms packets of a 1 kHz tone in `codec`."""
    encoder = create_codec(codec)
    pcm = tone_pcm(1000, 8000, count * 0.02)
    return [
        build_rtp(
            codec.payload_type,
            (first_seq + i) & 0xFFFF,
            i * 160,
            ssrc,
            encoder.encode(pcm[i * FRAME_BYTES : (i + 1) * FRAME_BYTES]),
        )
        for i in range(count)
    ]


def feed(receiver: RtpReceiver, clock: Clock, packets: list[bytes]) -> None:
    """Deliver packets 20 ms apart from REMOTE."""
    for packet in packets:
        receiver.on_rtp(packet, REMOTE)
        clock.now += 0.02


def play(receiver: RtpReceiver, ticks: int) -> bytes:
    """Play out `ticks` frames and return what was not silence or missing."""
    frames = [receiver.play_out() for _ in range(ticks)]
    return b"".join(frame for frame in frames if frame is not None)


@pytest.mark.parametrize("codec", [Codec.PCMA, Codec.PCMU, Codec.GSM])
async def test_decodes_by_payload_type_after_probation(codec: Codec) -> None:
    """A proven source is played whatever codec it uses; probation packets are not."""
    clock = Clock()
    receiver = make_receiver(clock)
    eight = receiver.subscribe(max_frames=100)
    sixteen = receiver.subscribe(16000, max_frames=100)
    packets = tone_packets(60, codec=codec)
    feed(receiver, clock, packets[: PROBATION_PACKETS - 1])
    assert receiver.stats.probation_packets == PROBATION_PACKETS - 1
    assert receiver.reception is None and receiver.last_packet_at is None
    feed(receiver, clock, packets[PROBATION_PACKETS - 1 :])
    assert receiver.stats.packets_received == 60 - PROBATION_PACKETS + 1
    assert receiver.last_packet_at == pytest.approx(clock.now - 0.02)
    played = play(receiver, 60)
    assert tone_snr(played[FRAME_BYTES * 5 :], 8000, 1000) > 15
    for _ in range(len(played) // FRAME_BYTES):
        assert len(await eight.get()) == FRAME_BYTES
        assert len(await sixteen.get()) == 2 * FRAME_BYTES


def test_drops_and_counts_what_it_cannot_play() -> None:
    """Foreign, malformed, duplicate, out-of-order and unknown packets are counted, not played."""
    clock = Clock()
    receiver = make_receiver(clock)
    packets = tone_packets(10)
    feed(receiver, clock, packets[:5])
    receiver.on_rtp(packets[5], ("127.0.0.2", 40000))
    receiver.on_rtp(b"\x80\x08", REMOTE)  # too short
    receiver.on_rtp(b"\x40" + packets[5][1:], REMOTE)  # version 1
    receiver.on_rtp(packets[5][:12] + b"", REMOTE)  # header only: played as nothing
    receiver.on_rtp(packets[5], REMOTE)  # a duplicate of the header-only one
    receiver.on_rtp(build_rtp(8, 5000, 0, SSRC, b"\xd5" * 160), REMOTE)  # far jump
    receiver.on_rtp(build_rtp(99, 6, 6 * 160, SSRC, b"\x00" * 10), REMOTE)
    receiver.on_rtp(build_rtp(13, 7, 7 * 160, SSRC, b"\x40"), REMOTE)  # comfort noise
    receiver.on_rtp(build_rtp(101, 8, 8 * 160, SSRC, b"\x01"), REMOTE)  # short event
    padded = bytearray(build_rtp(8, 9, 9 * 160, SSRC, b"\xd5" * 4))
    padded[0] |= 0x20  # padding bit with a nonsense count: malformed
    receiver.on_rtp(bytes(padded), REMOTE)
    stats = receiver.stats
    assert stats.foreign_packets == 1
    assert stats.malformed_packets == 4
    assert stats.duplicates == 1
    assert stats.sequence_jumps == 1
    assert stats.unknown_payload_packets == 1
    assert (
        stats.packets_received == 3 + 1 + 2
    )  # tone, header only, unknown, comfort noise


def test_muxed_rtcp_goes_to_the_handler() -> None:
    """RTCP on the RTP port is handed on (or dropped without a handler)."""
    clock = Clock()
    receiver = make_receiver(clock)
    report = build_rtcp(SSRC, "far@end")
    receiver.on_rtp(report, REMOTE)
    seen: list[bytes] = []
    receiver.on_rtcp = lambda data, _addr: seen.append(data)
    receiver.on_rtp(report, REMOTE)
    assert seen == [report]
    assert receiver.stats.malformed_packets == 0


def test_srtp_failures_are_counted() -> None:
    """SRTP packets are opened; forged and replayed ones are counted and dropped."""
    clock = Clock()
    receiver = make_receiver(clock)
    ours, theirs = generate_crypto(), generate_crypto()
    receiver.srtp = SrtpContext(local=ours, remote=theirs)
    remote = SrtpContext(local=theirs, remote=ours)
    protected = [remote.protect(packet) for packet in tone_packets(5)]
    feed(receiver, clock, protected)
    receiver.on_rtp(protected[-1], REMOTE)
    fresh = remote.protect(tone_packets(6)[5])
    receiver.on_rtp(fresh[:-1] + bytes([fresh[-1] ^ 1]), REMOTE)
    stats = receiver.stats
    assert stats.packets_received == 5 - PROBATION_PACKETS + 1
    assert stats.bytes_received == 3 * len(protected[0])
    assert stats.srtp_replays == 1
    assert stats.srtp_auth_failures == 1


def test_new_ssrc_after_silence_restarts_the_source() -> None:
    """Once the current source went quiet, a proven new SSRC replaces it and is counted."""
    clock = Clock()
    receiver = make_receiver(clock)
    feed(receiver, clock, tone_packets(10))
    first = receiver.reception
    clock.now += SSRC_SILENCE
    feed(receiver, clock, tone_packets(PROBATION_PACKETS, ssrc=0x99, first_seq=500))
    assert receiver.reception is not first
    assert receiver.reception is not None and receiver.reception.ssrc == 0x99
    assert receiver.stats.ssrc_changes == 1


def test_dtmf_events_reach_the_callback() -> None:
    """Telephone events become one DtmfEvent per digit; a failing callback is only logged."""
    clock = Clock()
    events: list[DtmfEvent] = []
    receiver = make_receiver(clock, on_dtmf=events.append)
    feed(receiver, clock, tone_packets(PROBATION_PACKETS))
    for index, packet in enumerate(event_packets("5", 100)):
        seq = PROBATION_PACKETS + index
        receiver.on_rtp(
            build_rtp(101, seq, 1000, SSRC, packet.payload, marker=packet.marker),
            REMOTE,
        )
        clock.now += 0.02
    assert [event.digit for event in events] == ["5"]
    assert receiver.stats.dtmf_received == 1


def test_dtmf_without_end_expires_at_playout(caplog: pytest.LogCaptureFixture) -> None:
    """An event whose end packets were lost is reported by playout; callback errors are logged."""
    clock = Clock()

    def fail(event: DtmfEvent) -> None:
        raise RuntimeError("boom")

    receiver = make_receiver(clock, on_dtmf=fail)
    feed(receiver, clock, tone_packets(PROBATION_PACKETS))
    start = event_packets("7", 200)[0]
    receiver.on_rtp(build_rtp(101, 3, 1000, SSRC, start.payload, marker=True), REMOTE)
    clock.now += 5
    with caplog.at_level(logging.ERROR):
        receiver.play_out()
    assert receiver.stats.dtmf_received == 1
    assert "DTMF callback failed" in caplog.text


def test_taps_and_inactivity_per_tick(caplog: pytest.LogCaptureFixture) -> None:
    """Each tick feeds the taps both frames and signals inactivity once per silence."""
    clock = Clock()
    inactive: list[float] = []
    receiver = make_receiver(
        clock, inactivity_timeout=1.0, on_inactive=lambda: inactive.append(clock.now)
    )
    receiver.started_at = clock.now
    seen: list[tuple[bytes | None, bytes | None]] = []
    remove = receiver.add_tap(lambda received, sent: seen.append((received, sent)))

    def broken(received: bytes | None, sent: bytes | None) -> None:
        raise RuntimeError("tap")

    remove_broken = receiver.add_tap(broken)
    with caplog.at_level(logging.ERROR):
        receiver.tick(clock.now, b"sent")
    assert seen == [(None, b"sent")]
    assert "Media tap failed" in caplog.text
    remove()
    remove()
    remove_broken()
    receiver.tick(clock.now + 1.0, None)
    receiver.tick(clock.now + 2.0, None)
    assert inactive == [clock.now]  # once, not on every tick
    feed(receiver, clock, tone_packets(PROBATION_PACKETS))
    receiver.check_inactivity(clock.now)
    receiver.check_inactivity(clock.now + 1.0)
    assert len(inactive) == 2  # a packet re-armed it

    def failing() -> None:
        raise RuntimeError("inactive")

    other = make_receiver(clock, inactivity_timeout=0.5, on_inactive=failing)
    with caplog.at_level(logging.ERROR):
        other.check_inactivity(clock.now + 1)
    assert "Inactivity callback failed" in caplog.text
    make_receiver(clock, inactivity_timeout=None).check_inactivity(clock.now + 1000)


async def test_subscriptions_end_with_the_receiver() -> None:
    """close() ends every stream; later ones start ended; closed ones count their overruns."""
    clock = Clock()
    receiver = make_receiver(clock)
    with pytest.raises(ValueError, match="multiple of 8000"):
        receiver.subscribe(11025)
    slow = receiver.subscribe(max_frames=2)
    feed(receiver, clock, tone_packets(20))
    play(receiver, 20)
    assert slow.overruns > 0
    snapshot = receiver.stats.__class__()
    receiver.add_stats(snapshot)
    assert snapshot.subscriber_overruns == slow.overruns
    slow.close()
    assert receiver.subscriptions == []
    assert receiver.stats.subscriber_overruns > 0
    live = receiver.subscribe()
    receiver.close()
    assert live.closed
    assert receiver.subscribe().closed
    assert receiver.taps == []


def test_every_subscriber_gets_each_frame_as_they_come_and_go() -> None:
    """Frames reach exactly the open subscriptions, one or several, whatever their rates."""
    clock = Clock()
    receiver = make_receiver(clock)
    feed(receiver, clock, tone_packets(40))
    first = receiver.subscribe()
    play(receiver, 3)
    second = receiver.subscribe()
    wide = receiver.subscribe(16000)
    play(receiver, 2)
    assert [len(frame) for frame in first.take_ready()] == [FRAME_BYTES] * 5
    first.close()
    play(receiver, 4)
    assert [len(frame) for frame in wide.take_ready()] == [2 * FRAME_BYTES] * 6
    wide.close()
    play(receiver, 5)
    third = receiver.subscribe()
    play(receiver, 1)
    assert [len(frame) for frame in second.take_ready()] == [FRAME_BYTES] * 12
    second.close()
    play(receiver, 2)
    assert [len(frame) for frame in third.take_ready()] == [FRAME_BYTES] * 3
    assert receiver.subscriptions == [third]


def test_add_stats_changes_nothing() -> None:
    """Filling a snapshot twice gives the same figures and leaves the counters alone."""
    clock = Clock()
    receiver = make_receiver(clock)
    feed(receiver, clock, tone_packets(30))
    play(receiver, 40)
    first, second = receiver.stats.__class__(), receiver.stats.__class__()
    receiver.add_stats(first)
    receiver.add_stats(second)
    assert first == second
    assert first.jitter_buffer_ms > 0
    assert receiver.stats.jitter_buffer_ms == 0
    assert receiver.stats.late == 0


def test_depth_follows_the_measured_jitter() -> None:
    """Play-out sizes the jitter buffer by the jitter the packets measured (RFC 3550 A.8)."""

    def depth_ms(arrival_jitter: float) -> float:
        clock = Clock()
        receiver = make_receiver(clock)
        start = clock.now
        for index, packet in enumerate(tone_packets(40)):
            clock.now = start + index * 0.02 + (arrival_jitter if index % 2 else 0.0)
            receiver.on_rtp(packet, REMOTE)
        play(receiver, 1)
        snapshot = receiver.stats.__class__()
        receiver.add_stats(snapshot)
        return snapshot.jitter_buffer_ms

    assert depth_ms(0.0) == 20  # one frame: the minimum
    assert depth_ms(0.03) >= 100  # 30 ms late every other packet: several frames


async def test_over_a_real_socket() -> None:
    """Bound to 127.0.0.1 through Endpoint, the receiver plays what a raw peer sends."""
    loop = asyncio.get_running_loop()
    guard = SourceGuard()
    receiver = RtpReceiver(guard=guard, clock=loop.time)
    transport, _ = await loop.create_datagram_endpoint(
        lambda: Endpoint(receiver.on_rtp), local_addr=("127.0.0.1", 0)
    )
    target = transport.get_extra_info("sockname")[:2]
    try:
        async with raw_peer() as peer:
            guard.advertise(peer.address, loop.time())
            for packet in tone_packets(25):
                peer.send(packet, target)
                await settle()
            async with asyncio.timeout(3):  # a safety net: loopback delivers at once
                while receiver.stats.packets_received < 25 - PROBATION_PACKETS + 1:
                    await settle()
        assert guard.latched == peer.address
        played = play(receiver, 25)
        assert audioop.rms(played, 2) > 1000
        Endpoint(receiver.on_rtp).error_received(OSError("unreachable"))
    finally:
        transport.close()
