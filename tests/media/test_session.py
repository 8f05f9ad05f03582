"""End-to-end tests of MediaSession over real UDP sockets on 127.0.0.1."""

import asyncio
import socket
import struct

import audioop
import pytest

from custom_components.cloud_sip_ua.cloudsipua.media import (
    DtmfEvent,
    MediaError,
    MediaSession,
    NoFreePortError,
    generate_crypto,
)
from custom_components.cloud_sip_ua.cloudsipua.media.clock import ManualClock
from custom_components.cloud_sip_ua.cloudsipua.media.latching import (
    PROBATION_PACKETS,
    SSRC_SILENCE,
)
from custom_components.cloud_sip_ua.cloudsipua.media.rtcp import build_rtcp
from custom_components.cloud_sip_ua.cloudsipua.media.rtp import build_rtp
from custom_components.cloud_sip_ua.cloudsipua.media.sdes import SUITE_32
from custom_components.cloud_sip_ua.cloudsipua.media.srtp import SrtpContext
from custom_components.cloud_sip_ua.cloudsipua.media.stats import snapshot
from custom_components.cloud_sip_ua.cloudsipua.media.subscription import (
    AudioSubscription,
)
from custom_components.cloud_sip_ua.cloudsipua.models import Codec

from .conftest import SessionFactory, settle, tone_pcm, tone_snr, wait
from .peers import ImpairingProxy, RawPeer, open_peer, raw_peer


@pytest.fixture
def make_session(make_virtual_session: SessionFactory) -> SessionFactory:
    """Run every session of this module on a virtual clock: no test waits on wall time."""
    return make_virtual_session


def address(session: MediaSession) -> tuple[str, int]:
    """Return a session's RTP address on loopback."""
    return "127.0.0.1", session.local_port


async def pair(
    make_session: SessionFactory, **kwargs: object
) -> tuple[MediaSession, MediaSession]:
    """Return two sessions pointed at each other and latched: B plays the far end, speaking first."""
    a = await make_session(**kwargs)
    b = await make_session(wait_for_remote=False, **kwargs)
    a.set_remote(*address(b))
    b.set_remote(*address(a))
    await until(lambda: a.latched_address is not None and b.latched_address is not None)
    return a, b


def prime(peer: RawPeer, session: MediaSession, ssrc: int, first_seq: int = 1) -> int:
    """Send the packets that latch `session` onto `peer` (probation); return the next seq."""
    for seq in range(first_seq, first_seq + PROBATION_PACKETS):
        peer.send(build_rtp(8, seq, seq * 160, ssrc, b"\xd5" * 160), address(session))
    return first_seq + PROBATION_PACKETS


async def collect(subscription: AudioSubscription, frames: int) -> bytes:
    """Read `frames` frames from a subscription."""
    return b"".join([await subscription.get() for _ in range(frames)])


async def until(predicate: object, timeout: float = 5.0) -> None:
    """Wait until a zero-argument callable returns true (the timeout is only a safety net)."""
    assert callable(predicate)
    async with asyncio.timeout(timeout):
        while not predicate():
            await settle()


@pytest.mark.parametrize("codec", [Codec.PCMA, Codec.PCMU])
async def test_tone_through_a_session_and_back(
    make_session: SessionFactory, codec: Codec
) -> None:
    """A 1 kHz tone goes A -> B, B echoes what it hears, and A gets it back with SNR >= 30 dB."""
    a, b = await pair(make_session, codec=codec)
    at_b = b.subscribe(16000)
    at_a = a.subscribe(8000)
    assert a.codec is codec

    async def echo() -> None:
        async for frame in at_b:
            b.enqueue_audio(frame, 16000)

    echo_task = asyncio.create_task(echo())
    a.enqueue_audio(tone_pcm(1000, 48000, 1.5), 48000)
    await until(lambda: a.stats.packets_received > 0)
    # Skip the start (silence, prebuffer, filter ramp) and measure 0.6 s of echoed tone.
    await collect(at_a, 25)
    echoed = await collect(at_a, 30)
    assert len(echoed) == 30 * 320
    assert tone_snr(echoed, 8000, 1000) >= 30
    await b.close()
    await echo_task
    stats = a.stats
    assert stats.packets_sent > 50
    assert stats.lost == 0


async def test_impaired_network_keeps_output_continuous(
    make_session: SessionFactory, running_clock: ManualClock
) -> None:
    """Loss, duplicates and reordering are repaired or concealed: a frame every 20 ms, no gaps."""
    a = await make_session(wait_for_remote=False)  # the far end: it speaks first
    b = await make_session()
    proxy = await open_peer(
        lambda: ImpairingProxy(
            address(b), drop_every=10, duplicate_every=7, swap_every=5
        )
    )
    try:
        # Both sides are told the proxy's address, as an answer would; latching keeps it.
        a.set_remote(*proxy.address)
        b.set_remote(*proxy.address)
        heard = b.subscribe()
        a.enqueue_audio(tone_pcm(1000, 8000, 2.0), 8000)
        await collect(heard, 10)
        started = running_clock.time()
        frames = [await heard.get() for _ in range(50)]
        elapsed = running_clock.time() - started
        assert 0.96 <= elapsed <= 1.04  # one frame per 20 ms tick
        levels = [audioop.rms(frame, 2) for frame in frames]
        assert min(levels) > 500  # concealment fills losses: never a silent gap
        assert sum(levels) / len(levels) > 4000
        stats = b.stats
        assert stats.lost > 0
        assert stats.duplicates > 0
        assert stats.concealed_frames > 0
        assert stats.packets_received > 45
    finally:
        proxy.close()


async def test_dtmf_round_trip(
    make_session: SessionFactory, running_clock: ManualClock
) -> None:
    """Digits sent by A arrive at B exactly once each, with their duration."""
    events: list[DtmfEvent] = []
    a, b = await pair(make_session, on_dtmf=events.append)
    await a.send_dtmf("1#a", duration_ms=60, gap_ms=20)
    await until(lambda: len(events) == 3)
    await wait(running_clock, 0.1)
    assert events == [DtmfEvent("1", 60), DtmfEvent("#", 60), DtmfEvent("A", 60)]
    assert a.stats.dtmf_sent == 3
    assert b.stats.dtmf_received == 3
    with pytest.raises(ValueError):
        await a.send_dtmf("X")
    with pytest.raises(ValueError):
        await a.send_dtmf("1", duration_ms=5)
    with pytest.raises(ValueError):
        await a.send_dtmf("1", gap_ms=-1)
    a.set_telephone_event_payload_type(None)
    with pytest.raises(MediaError):
        await a.send_dtmf("1")


async def test_retransmitted_end_packets_give_one_event(
    make_session: SessionFactory,
) -> None:
    """Six end packets (and a late update) of one event are reported once; PT 96 negotiated."""
    events: list[DtmfEvent] = []
    b = await make_session(on_dtmf=events.append, telephone_event_payload_type=96)
    async with raw_peer() as peer:
        b.set_remote(*peer.address)
        seq = prime(peer, b, 0x77)
        for duration, end, repeats in (
            (160, False, 1),
            (320, False, 1),
            (400, True, 6),
            (320, False, 1),
        ):
            for _ in range(repeats):
                payload = struct.pack("!BBH", 7, (0x80 if end else 0) | 10, duration)
                peer.send(
                    build_rtp(96, seq, 8000, 0x77, payload, marker=seq == 4), address(b)
                )
                seq += 1
        peer.send(
            build_rtp(96, seq, 8000, 0x77, b"\x01"), address(b)
        )  # short: malformed
        # The priming packet that ended probation, then the nine events.
        await until(lambda: b.stats.packets_received == 1 + 9)
        await until(lambda: b.stats.malformed_packets == 1)
    assert events == [DtmfEvent("7", 50)]


async def test_srtp_between_independently_keyed_sessions(
    make_session: SessionFactory,
) -> None:
    """Audio flows with SRTP both ways; tampered and replayed packets are dropped and counted."""
    a = await make_session(wait_for_remote=False)  # the far end: it speaks first
    b = await make_session()
    key_a, key_b = generate_crypto(1), generate_crypto(1)
    a.enable_srtp(local=key_a, remote=key_b)
    b.enable_srtp(local=key_b, remote=key_a)
    proxy = await open_peer(
        lambda: ImpairingProxy(address(b), corrupt_every=4, duplicate_every=5)
    )
    try:
        a.set_remote(*proxy.address)
        b.set_remote(*proxy.address)
        heard = b.subscribe()
        a.enqueue_audio(tone_pcm(1000, 8000, 2.0), 8000)
        await collect(heard, 15)
        assert tone_snr(await collect(heard, 25), 8000, 1000) >= 15
        stats = b.stats
        assert stats.srtp_auth_failures > 0
        assert stats.srtp_replays > 0
        assert stats.packets_received > 20
    finally:
        proxy.close()


async def test_srtp_rtcp_tamper_and_replay(make_session: SessionFactory) -> None:
    """SRTCP flows between keyed sessions; SRTCP that fails authentication or repeats is counted."""
    a, b = await pair(make_session, rtcp_interval=0.1)
    key_a, key_b = generate_crypto(), generate_crypto(suite=SUITE_32)
    a.enable_srtp(local=key_a, remote=key_b)
    b.enable_srtp(local=key_b, remote=key_a)
    await until(lambda: a.stats.round_trip_ms is not None and b.stats.rtcp_received > 0)
    # Protected with A's key by an outsider's context: valid for B until replayed or tampered.
    outsider = SrtpContext(local=key_a, remote=key_b)
    protected = outsider.protect_rtcp(build_rtcp(0x99, "x"))
    fresh = outsider.protect_rtcp(
        build_rtcp(0x99, "x")
    )  # a new index: tampering, not replay
    await a.close()
    received = b.stats.rtcp_received
    async with raw_peer() as peer:
        rtcp_b = ("127.0.0.1", b.local_port + 1)
        peer.send(protected, rtcp_b)
        await until(lambda: b.stats.foreign_packets == 1)  # B latched A's RTCP address
    async with raw_peer() as peer:
        b.set_remote(*peer.address)  # a new remote address drops the latch
        peer.send(protected, rtcp_b)
        await until(lambda: b.stats.foreign_packets == 2)  # no RTCP before RTP latched
        for seq in range(PROBATION_PACKETS):
            peer.send(
                outsider.protect(build_rtp(8, seq, seq * 160, 0x99, bytes(160))),
                address(b),
            )
        await until(lambda: b.latched_address == peer.address)
        peer.send(protected, rtcp_b)  # RTCP sent from the latched RTP port
        await until(lambda: b.stats.rtcp_received == received + 1)
        peer.send(protected, rtcp_b)
        peer.send(fresh[:-1] + bytes([fresh[-1] ^ 1]), rtcp_b)
        await until(
            lambda: b.stats.srtp_replays == 1 and b.stats.srtp_auth_failures == 1
        )


async def test_latching_with_foreign_senders(
    make_session: SessionFactory, running_clock: ManualClock
) -> None:
    """Nothing goes out before the advertised remote speaks; then only to it, whoever else sends."""
    b = await make_session()
    a = await make_session(wait_for_remote=False)  # the far end: it speaks first
    async with raw_peer() as same_ip, raw_peer("127.0.0.2") as other_ip:
        b.set_remote(*address(a))
        await wait(running_clock, 0.1)
        assert b.stats.packets_sent == 0  # no keep-alive: it could be aimed at a victim
        assert b.stats.packets_withheld > 0
        for seq in range(20):
            for intruder in (same_ip, other_ip):
                intruder.send(
                    build_rtp(8, seq, seq * 160, 0x1234, b"\xd5" * 160), address(b)
                )
        await until(lambda: b.stats.foreign_packets == 20)  # another IP
        # The advertised IP on another port: on probation until the advertised port has
        # been silent for long, and outranked by it once it speaks.
        await until(lambda: b.stats.probation_packets == 20)
        assert b.latched_address is None
        a.set_remote(*address(b))
        await until(lambda: b.latched_address == address(a))
        await until(lambda: a.stats.packets_received > 5)
        assert same_ip.received == []
        assert other_ip.received == []
        assert b.stats.packets_received > 0


async def test_hostile_bytes_never_raise_and_are_counted(
    make_session: SessionFactory,
) -> None:
    """Arbitrary datagrams (plain and SRTP) are dropped and counted, never raised."""
    from hypothesis import HealthCheck, given, settings, strategies as st

    plain = await make_session()
    secure = await make_session()
    theirs = generate_crypto()
    secure.enable_srtp(local=generate_crypto(), remote=theirs)
    sender = SrtpContext(local=theirs, remote=generate_crypto())
    source = ("127.0.0.1", 9)
    for session in (plain, secure):
        # Latch onto `source`, so hostile data is examined fully.
        session.set_remote(*source)
        for seq in range(PROBATION_PACKETS):
            valid = build_rtp(0, seq, seq * 160, 5, bytes(160))
            if session is secure:
                valid = sender.protect(valid)
            session._receiver.on_rtp(valid, source)  # noqa: SLF001  # the receive path, minus the socket
        assert session.latched_address == source

    def counted(session: MediaSession) -> int:
        stats = session.stats
        return (
            stats.packets_received
            + stats.rtcp_received
            + stats.malformed_packets
            + stats.foreign_packets
            + stats.probation_packets
            + stats.srtp_auth_failures
            + stats.srtp_replays
            + stats.duplicates
            + stats.sequence_jumps
        )

    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        st.one_of(
            st.binary(max_size=300),
            st.binary(min_size=12, max_size=200).map(
                lambda d: bytes([0x80 | d[0] & 0x3F]) + d[1:]
            ),
            st.binary(min_size=8, max_size=100).map(lambda d: b"\x80\xc8" + d),
        )
    )
    def feed(data: bytes) -> None:
        for session in (plain, secure):
            before = counted(session)
            session._receiver.on_rtp(data, source)  # noqa: SLF001
            session._rtcp.on_rtcp(data, source)  # noqa: SLF001
            assert counted(session) == before + 2

    feed()
    before = counted(plain)
    async with raw_peer() as peer, raw_peer("127.0.0.2") as stranger:
        for data in (b"", b"\x00" * 3, b"\xff" * 1400):
            peer.send(data, address(plain))
            stranger.send(data, address(plain))
        await until(lambda: counted(plain) == before + 6)
    assert plain.stats.foreign_packets >= 3


async def test_rtcp_exchange_feeds_stats(make_session: SessionFactory) -> None:
    """Reports flow both ways and carry loss, jitter and round-trip time."""
    a, b = await pair(make_session, rtcp_interval=0.1)
    await until(
        lambda: a.stats.round_trip_ms is not None and b.stats.round_trip_ms is not None
    )
    stats = a.stats
    assert stats.rtcp_sent > 0
    assert stats.rtcp_received > 0
    assert stats.remote_cumulative_lost == 0
    assert stats.remote_fraction_lost == 0
    assert stats.remote_jitter_ms >= 0


async def test_rtcp_muxed_and_malformed(make_session: SessionFactory) -> None:
    """RTCP on the RTP port switches us to muxing; junk on the RTCP port is counted."""
    b = await make_session(rtcp_interval=0.05)
    async with raw_peer() as peer:
        b.set_remote(*peer.address)
        peer.send(build_rtcp(0x55, "peer"), address(b))
        await until(lambda: b.stats.foreign_packets == 1)  # not before RTP latched
        prime(peer, b, 0x55)
        await until(lambda: b.latched_address == peer.address)
        peer.send(build_rtcp(0x55, "peer"), address(b))
        await until(lambda: b.stats.rtcp_received == 1)
        peer.send(b"\x80\xc9junk", ("127.0.0.1", b.local_port + 1))
        await until(lambda: b.stats.malformed_packets == 1)
        await until(lambda: any(data[1] in (200, 201) for data, _addr in peer.received))


async def test_ssrc_change_mid_call(
    make_session: SessionFactory, running_clock: ManualClock
) -> None:
    """A new SSRC restarts the statistics and the timeline, and audio keeps flowing."""
    b = await make_session()
    heard = b.subscribe()
    async with raw_peer() as peer:
        b.set_remote(*peer.address)
        for ssrc, base in ((0x11, 1000), (0x22, 999_000)):
            for index in range(5):
                payload = audioop.lin2ulaw(tone_pcm(1000, 8000, 0.02), 2)
                peer.send(
                    build_rtp(0, base + index, (base + index) * 160, ssrc, payload),
                    address(b),
                )
            # The old source must go quiet before a new SSRC takes over.
            await wait(running_clock, SSRC_SILENCE + 0.1)
        peer.send(build_rtp(0, 999_010 & 0xFFFF, 0, 0x22, b"\xff" * 160), address(b))
        peer.send(build_rtp(0, 30_000, 0, 0x22, b"\xff" * 160), address(b))  # far jump
        peer.send(
            build_rtp(9, 999_011 & 0xFFFF, 0, 0x22, b"x"), address(b)
        )  # G.722: unknown
        peer.send(build_rtp(13, 999_012 & 0xFFFF, 0, 0x22, b"\x40"), address(b))  # CN
        await until(lambda: b.stats.unknown_payload_packets == 1)
    stats = b.stats
    assert stats.ssrc_changes == 1
    assert stats.sequence_jumps == 1
    # Each SSRC's first packets are on probation: 2 * (5 - 2) + 3 after the change.
    assert stats.probation_packets == 2 * (PROBATION_PACKETS - 1)
    assert stats.packets_received == 9
    assert len(await heard.get()) == 320


async def test_inactivity_signalled_once_then_rearmed(
    make_session: SessionFactory, running_clock: ManualClock
) -> None:
    """No RTP for the timeout calls on_inactive once; RTP re-arms it."""
    calls: list[float] = []
    started = running_clock.time()
    b = await make_session(
        inactivity_timeout=0.1, on_inactive=lambda: calls.append(running_clock.time())
    )
    await until(lambda: len(calls) == 1)
    assert 0.1 <= calls[0] - started <= 0.14  # on the first tick after the timeout
    await wait(running_clock, 0.15)
    assert len(calls) == 1
    async with raw_peer() as peer:
        b.set_remote(*peer.address)
        prime(peer, b, 3)
        await until(lambda: b.last_packet_at is not None)
    await until(lambda: len(calls) == 2)


async def test_callback_errors_are_contained(
    make_session: SessionFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """A failing callback is logged, the clock keeps running."""

    def boom(*_args: object) -> None:
        raise RuntimeError("boom")

    a, b = await pair(
        make_session, inactivity_timeout=0.05, on_inactive=boom, on_dtmf=boom
    )
    await a.send_dtmf("5", duration_ms=20)
    await until(lambda: b.stats.dtmf_received == 1)
    await until(
        lambda: (
            "Inactivity callback failed" in caplog.text or b.stats.packets_received > 0
        )
    )
    sent = a.stats.packets_sent
    await until(lambda: a.stats.packets_sent > sent + 3)
    assert "DTMF callback failed" in caplog.text


async def test_play_clear_and_close(
    make_session: SessionFactory, running_clock: ManualClock
) -> None:
    """play_audio waits for the audio, clear_audio releases it, close ends everything."""
    a, b = await pair(make_session, comfort_noise=True)
    started = running_clock.time()
    await a.play_audio(tone_pcm(500, 16000, 0.2), 16000)
    assert 0.18 <= running_clock.time() - started <= 0.26
    long_play = asyncio.create_task(a.play_audio(bytes(48000 * 2 * 5), 48000))
    await wait(running_clock, 0.05)
    a.clear_audio()
    await asyncio.wait_for(long_play, 1)
    a.enqueue_audio(tone_pcm(500, 16000, 0.05), 16000)
    a.enqueue_audio(
        tone_pcm(500, 48000, 0.05), 48000
    )  # a rate change flushes the first
    a.enqueue_audio(tone_pcm(500, 8000, 0.05), 8000)
    a.set_codec(Codec.PCMU)
    a.set_codec(Codec.GSM)
    assert a.codec is Codec.GSM
    with pytest.raises(ValueError):
        a.enqueue_audio(b"\x00" * 4, 44100)
    with pytest.raises(ValueError):
        a.enqueue_audio(b"\x00" * 3, 8000)
    with pytest.raises(ValueError):
        a.subscribe(11025)
    pending_play = asyncio.create_task(a.play_audio(bytes(8000 * 2 * 5), 8000))
    pending_dtmf = asyncio.create_task(a.send_dtmf("123"))
    subscription = a.subscribe(48000)
    await wait(running_clock, 0.05)  # the first digit (7 packets, 140 ms) is being sent
    await a.close()
    await a.close()
    await asyncio.wait_for(pending_play, 1)
    with pytest.raises(MediaError):
        await pending_dtmf
    assert (
        len([frame async for frame in subscription]) <= 50
    )  # drained, then iteration ends
    assert a.subscribe().closed
    with pytest.raises(MediaError):
        await a.start()
    with pytest.raises(MediaError):
        await a.send_dtmf("1")
    await a.play_audio(b"\x00\x00", 8000)  # returns at once when closed
    assert b.stats.packets_received > 10


async def test_start_twice_and_unsubscribe(make_session: SessionFactory) -> None:
    """start() is idempotent; a closed subscription stops receiving and keeps its overruns."""
    a, b = await pair(make_session)
    port = a.local_port
    await a.start()
    assert a.local_port == port
    slow = b.subscribe(max_frames=1)
    await until(lambda: slow.overruns > 1)
    slow.close()
    assert b.stats.subscriber_overruns > 1


async def test_ports_are_even_and_exhaustion_raises(
    port_range: tuple[int, int],
) -> None:
    """The RTP port is even with RTCP on +1; a taken range raises NoFreePortError."""
    low = port_range[0]
    blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    blocker2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        blocker.bind(("127.0.0.1", low + 1))
        blocker2.bind(("127.0.0.1", low + 2))
        for ports in ((low, low + 1), (low, low + 3), (low + 1, low + 2)):
            session = MediaSession(
                codec=Codec.PCMU, bind_host="127.0.0.1", port_range=ports
            )
            with pytest.raises(NoFreePortError):
                await session.start()
            await session.close()
    finally:
        blocker.close()
        blocker2.close()
    session = MediaSession(
        codec=Codec.PCMU, bind_host="127.0.0.1", port_range=(low, low + 3)
    )
    await session.start()
    try:
        assert session.local_port in (low, low + 2)
    finally:
        await session.close()


async def test_blocked_loop_skips_ahead(
    make_session: SessionFactory, running_clock: ManualClock
) -> None:
    """After the loop was blocked, the clock jumps ahead instead of bursting old packets."""
    a, b = await pair(make_session)
    await until(lambda: b.stats.packets_received > 2)
    sent = a.stats.packets_sent
    running_clock.jump(0.3)  # the loop was blocked for 300 ms
    await wait(running_clock, 0.05)
    assert 1 <= a.stats.packets_sent - sent < 8


async def test_reading_stats_changes_nothing(make_session: SessionFactory) -> None:
    """The stats getter returns a snapshot; the session's own counters stay as they were."""
    a, b = await pair(make_session)
    await until(lambda: a.stats.packets_received > 10)
    counters = snapshot(a._stats)  # noqa: SLF001  # the shared counters themselves
    first, second = a.stats, a.stats
    assert first == second
    assert first is not second
    assert first.jitter_buffer_ms > 0
    assert snapshot(a._stats) == counters  # noqa: SLF001
    assert counters.jitter_buffer_ms == 0
    first.packets_received = -1
    assert a.stats.packets_received >= 0


async def test_subscriptions_let_go(make_session: SessionFactory) -> None:
    """A closed subscription leaves the session's list (what the intercom tests look at)."""
    session = await make_session()
    subscription = session.subscribe(16000)
    assert session._subscriptions == [subscription]  # noqa: SLF001
    subscription.close()
    assert session._subscriptions == []  # noqa: SLF001
