"""A hostile internet (issue 19): latching races, spoofed SSRCs, reflection, private remotes."""

# Real UDP sockets on loopback; 127.0.0.2 and 127.0.0.3 are loopback addresses of their own on
# Linux, so the attacker can sit on another IP than the remote party, or on the same one.

import asyncio
from collections.abc import AsyncIterator, Iterator
import contextlib
import itertools
import random
import struct

import audioop
import pytest

from custom_components.cloud_sip_ua.cloudsipua.media import DtmfEvent, MediaSession
from custom_components.cloud_sip_ua.cloudsipua.media.clock import ManualClock
from custom_components.cloud_sip_ua.cloudsipua.media.jitter import JitterBuffer
from custom_components.cloud_sip_ua.cloudsipua.media.latching import ALTERNATE_PORT_WAIT
from custom_components.cloud_sip_ua.cloudsipua.media.rtcp import build_rtcp
from custom_components.cloud_sip_ua.cloudsipua.media.rtp import build_rtp, parse_rtp

from .conftest import SessionFactory, settle, tone_pcm, tone_snr, wait
from .peers import RawPeer, open_peer, raw_peer

REMOTE_HOST = "127.0.0.3"
OTHER_HOST = "127.0.0.2"
REMOTE_SSRC = 0x600D
ATTACKER_SSRC = 0xBAD
TE_PT = 101
DIGIT_ONE = 1
RACES = 20

type Address = tuple[str, int]


@pytest.fixture
def make_session(make_virtual_session: SessionFactory) -> SessionFactory:
    """Run every session of this module on a virtual clock: no test waits on wall time."""
    return make_virtual_session


def tone_payloads(freq: float) -> Iterator[bytes]:
    """Yield 20 ms A-law frames of an endless tone."""
    second = audioop.lin2alaw(tone_pcm(freq, 8000, 1.0), 2)
    for index in itertools.count():
        start = (index % 50) * 160
        yield second[start : start + 160]


def remote_packets(freq: float, ssrc: int = REMOTE_SSRC) -> Iterator[bytes]:
    """Yield the remote party's RTP: a tone, 20 ms per packet, in sequence."""
    seq = random.randrange(0x10000)
    ts = random.randrange(1 << 32)
    for index, payload in enumerate(tone_payloads(freq)):
        yield build_rtp(
            8, (seq + index) & 0xFFFF, (ts + index * 160) & 0xFFFFFFFF, ssrc, payload
        )


def attack_packets(ssrc: int = ATTACKER_SSRC) -> Iterator[bytes]:
    """Yield valid-looking RTP in sequence: loud audio, then a whole RFC 4733 "1" event, again."""
    seq = random.randrange(0x10000)
    ts = random.randrange(1 << 32)
    noise = tone_payloads(3000)
    while True:
        for _ in range(2):
            yield build_rtp(8, seq, ts, ssrc, next(noise))
            seq, ts = (seq + 1) & 0xFFFF, (ts + 160) & 0xFFFFFFFF
        for index, (duration, end) in enumerate(
            [(160, False), (320, False), (480, True), (480, True), (480, True)]
        ):
            payload = struct.pack(
                "!BBH", DIGIT_ONE, (0x80 if end else 0) | 10, duration
            )
            yield build_rtp(TE_PT, seq, ts, ssrc, payload, marker=index == 0)
            seq = (seq + 1) & 0xFFFF
        ts = (ts + 480) & 0xFFFFFFFF


async def spray(attacker: RawPeer, session: MediaSession) -> None:
    """Send forged RTP and RTCP at the session's ports, a burst every few turns of the loop."""
    rtp = ("127.0.0.1", session.local_port)
    rtcp = ("127.0.0.1", session.local_port + 1)
    packets = attack_packets()
    report = build_rtcp(ATTACKER_SSRC, "attacker")
    while True:
        for _ in range(3):
            attacker.send(next(packets), rtp)
        attacker.send(report, rtcp)
        attacker.send(report, rtp)
        # The loop reads one datagram per socket per turn: leave it turns to drain the burst.
        for _ in range(5):
            await asyncio.sleep(0)


async def talk(
    remote: RawPeer, session: MediaSession, seconds: float, clock: ManualClock
) -> None:
    """Send the remote party's tone to the session at the 20 ms pace of `clock`."""
    target = ("127.0.0.1", session.local_port)
    packets = remote_packets(500)
    for _ in range(int(seconds / 0.02)):
        remote.send(next(packets), target)
        await wait(clock, 0.02)


def rtp_from(peer: RawPeer) -> list[bytes]:
    """Return the RTP packets (not RTCP) a peer received."""
    return [data for data, _addr in peer.received if not 200 <= data[1] <= 204]


class CountingJitterBuffer(JitterBuffer):
    """A jitter buffer that counts its resets."""

    __slots__ = ("resets",)

    def __init__(self) -> None:
        """Start with no reset."""
        super().__init__()
        self.resets = 0

    def reset(self) -> None:
        """Count, then reset."""
        self.resets += 1
        super().reset()


@contextlib.asynccontextmanager
async def peer_pair(host: str) -> AsyncIterator[tuple[RawPeer, RawPeer]]:
    """Yield two RawPeers on `host` whose ports are p and p + 1 (RTP and RTCP)."""
    loop = asyncio.get_running_loop()
    for _ in range(50):
        rtp = await open_peer(RawPeer, host)
        try:
            _transport, rtcp = await loop.create_datagram_endpoint(
                RawPeer, local_addr=(host, rtp.address[1] + 1)
            )
        except OSError:
            rtp.close()
            continue
        try:
            yield rtp, rtcp
        finally:
            rtp.close()
            rtcp.close()
        return
    raise AssertionError("no free port pair")  # pragma: no cover


def recorder(session: MediaSession) -> list[bytes]:
    """Return a list that fills with every frame the session plays out."""
    frames: list[bytes] = []
    session.add_tap(
        lambda received, _sent: frames.append(received) if received else None
    )
    return frames


@pytest.mark.parametrize("run", range(RACES))
async def test_latching_race(
    make_session: SessionFactory, running_clock: ManualClock, run: int
) -> None:
    """An attacker spraying before and while the remote starts captures nothing, injects nothing."""
    # Even runs: the attacker is on another IP. Odd runs: on the remote's own IP, another port.
    events: list[DtmfEvent] = []
    session = await make_session(on_dtmf=events.append, rtcp_interval=0.05)
    heard = recorder(session)
    attacker_host = OTHER_HOST if run % 2 == 0 else REMOTE_HOST
    async with raw_peer(REMOTE_HOST) as remote, raw_peer(attacker_host) as attacker:
        session.set_remote(*remote.address)
        session.enqueue_audio(tone_pcm(1000, 8000, 3.0), 8000)
        sprayer = asyncio.create_task(spray(attacker, session))
        try:
            await wait(running_clock, 0.02 + 0.01 * run)  # the attacker's head start
            await talk(remote, session, 0.5, running_clock)
        finally:
            sprayer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sprayer
    assert attacker.received == []  # no RTP, no RTCP: nothing captured
    assert events == []  # no DTMF injected
    assert session.latched_address == remote.address
    ours = rtp_from(remote)
    assert len(ours) > 10  # our audio went to the real remote
    assert all(parse_rtp(data).ssrc == session.ssrc for data in ours)
    stats = session.stats
    assert stats.probation_packets + stats.foreign_packets > 100
    assert stats.ssrc_changes == 0
    # The remote's 500 Hz tone was played, never the attacker's 3 kHz (a loaded machine may
    # make the remote's pace uneven, so concealment lowers the first figure a little).
    played = b"".join(heard)
    assert len(heard) > 10
    assert tone_snr(played, 8000, 500) >= 5
    assert tone_snr(played, 8000, 3000) <= -30


async def test_spoofed_ssrcs_mid_call(
    make_session: SessionFactory, running_clock: ManualClock
) -> None:
    """Wrong-SSRC packets from the remote's own address: no reset, no DTMF, no takeover."""
    events: list[DtmfEvent] = []
    session = await make_session(on_dtmf=events.append)
    heard = recorder(session)
    jitter = session._receiver.jitter = CountingJitterBuffer()  # noqa: SLF001
    async with raw_peer(REMOTE_HOST) as remote:
        session.set_remote(*remote.address)
        target = ("127.0.0.1", session.local_port)
        genuine = remote_packets(1000)
        forged = attack_packets()
        for tick in range(60):
            remote.send(next(genuine), target)
            if tick > 5:  # spoofed: same address, another SSRC, in sequence
                for _ in range(3):
                    remote.send(next(forged), target)
            if tick % 10 == 7:  # a stray packet with yet another SSRC
                remote.send(build_rtp(8, tick, 0, 0x5EED + tick, b"\xd5" * 160), target)
            await wait(running_clock, 0.02)
    stats = session.stats
    assert jitter.resets == 0  # the old code reset it for every stray SSRC
    assert events == []
    assert stats.ssrc_changes == 0
    assert stats.probation_packets >= 54 * 3
    assert stats.packets_received >= 55
    assert tone_snr(b"".join(heard[10:50]), 8000, 1000) >= 25


async def test_no_reflection_to_a_silent_remote(
    make_session: SessionFactory, running_clock: ManualClock
) -> None:
    """A forged address that never sends receives nothing; once it speaks, audio flows both ways."""
    session = await make_session(rtcp_interval=0.05)
    heard = recorder(session)
    async with peer_pair(REMOTE_HOST) as (victim, victim_rtcp):
        session.set_remote(*victim.address)
        session.enqueue_audio(tone_pcm(1000, 8000, 5.0), 8000)
        await wait(running_clock, 1.5)
        assert victim.received == []
        assert victim_rtcp.received == []
        stats = session.stats
        assert stats.packets_sent == 0
        assert stats.rtcp_sent == 0
        assert stats.packets_withheld >= 60
        # The remote speaks: we answer it, RTP to its port and RTCP to port + 1.
        await talk(victim, session, 0.4, running_clock)
        sent = session.stats.packets_sent
        await settle()
        ours = rtp_from(victim)
        assert sent > 5
        assert len(ours) >= sent
        assert all(parse_rtp(data).ssrc == session.ssrc for data in ours)
        assert session.stats.rtcp_sent > 0
        assert victim_rtcp.received
        session.set_remote(*victim.address)  # the answer repeats it: nothing changes
        assert session.latched_address == victim.address
    assert len(heard) > 5


async def test_refused_remotes_get_nothing(
    make_session: SessionFactory, running_clock: ManualClock
) -> None:
    """A public session refuses a loopback remote: its packets are foreign, nothing is sent."""
    session = await make_session(allow_private_remote=False, rtcp_interval=0.05)
    async with raw_peer(REMOTE_HOST) as remote:
        session.set_remote(*remote.address)
        assert session.remote_refusal == "private"
        await talk(remote, session, 0.3, running_clock)
        await wait(running_clock, 0.05)
        assert remote.received == []
    stats = session.stats
    assert stats.foreign_packets == 15
    assert stats.packets_received == 0
    assert stats.packets_sent == 0
    assert session.latched_address is None
    session.set_remote("239.1.2.3", 5004)
    assert session.remote_refusal == "multicast"


@pytest.mark.parametrize(
    ("kwargs", "refusal"),
    [
        ({"media_address": "8.8.8.8"}, "private"),
        ({"media_address": "192.168.1.2"}, None),
        ({}, None),  # bound to loopback: a private session
        ({"media_address": "8.8.8.8", "allow_private_remote": True}, None),
    ],
)
async def test_policy_default_follows_the_media_address(
    make_session: SessionFactory, kwargs: dict[str, object], refusal: str | None
) -> None:
    """Without an explicit setting, a public media address refuses private remotes."""
    session = await make_session(**kwargs)
    session.set_remote(REMOTE_HOST, 40000)
    assert session.remote_refusal == refusal


async def test_nat_remote_latches_after_the_wait(
    make_session: SessionFactory, running_clock: ManualClock
) -> None:
    """A remote sending from another port than advertised (NAT) is answered after the wait."""
    session = await make_session()
    async with raw_peer(REMOTE_HOST) as advertised, raw_peer(REMOTE_HOST) as natted:
        session.set_remote(*advertised.address)
        started = running_clock.time()
        talker = asyncio.create_task(
            talk(natted, session, ALTERNATE_PORT_WAIT + 0.5, running_clock)
        )
        async with asyncio.timeout(10):  # a safety net: virtual time runs fast
            while session.latched_address is None:
                await settle()
        assert running_clock.time() - started >= ALTERNATE_PORT_WAIT
        assert session.latched_address == natted.address
        await talker
        assert advertised.received == []
        assert len(rtp_from(natted)) > 5
