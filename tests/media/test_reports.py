"""Tests of RtcpReporter alone: where reports go, what they say, and the remote's reports."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from custom_components.cloud_sip_ua.cloudsipua.media import generate_crypto
from custom_components.cloud_sip_ua.cloudsipua.media.clock import ManualClock
from custom_components.cloud_sip_ua.cloudsipua.media.latching import (
    PROBATION_PACKETS,
    SourceGuard,
)
from custom_components.cloud_sip_ua.cloudsipua.media.receiver import RtpReceiver
from custom_components.cloud_sip_ua.cloudsipua.media.reports import RtcpReporter
from custom_components.cloud_sip_ua.cloudsipua.media.rtcp import (
    ReportBlock,
    SenderInfo,
    build_rtcp,
    ntp_middle,
    ntp_now,
    parse_rtcp,
)
from custom_components.cloud_sip_ua.cloudsipua.media.rtp import build_rtp
from custom_components.cloud_sip_ua.cloudsipua.media.sender import RtpSender
from custom_components.cloud_sip_ua.cloudsipua.media.srtp import SrtpContext
from custom_components.cloud_sip_ua.cloudsipua.media.stats import MediaStats
from custom_components.cloud_sip_ua.cloudsipua.models import Codec

from .conftest import run_for, run_until, settle
from .peers import RawPeer, open_peer

REMOTE_SSRC = 0xFEED


@dataclass
class Rig:
    """A reporter with its sender and receiver, two bound sockets and a raw remote pair."""

    reporter: RtcpReporter
    sender: RtpSender
    receiver: RtpReceiver
    guard: SourceGuard
    stats: MediaStats
    rtp: asyncio.DatagramTransport
    rtcp: asyncio.DatagramTransport
    remote_rtp: RawPeer
    remote_rtcp: RawPeer
    clock: ManualClock

    @property
    def rtcp_address(self) -> tuple[str, int]:
        """Return our RTCP socket's address."""
        host, port = self.rtcp.get_extra_info("sockname")[:2]
        return host, port

    def latch(self) -> None:
        """Let the remote's RTP pass probation, as the receiver would."""
        for seq in range(PROBATION_PACKETS):
            self.receiver.on_rtp(
                build_rtp(8, seq, seq * 160, REMOTE_SSRC, b"\xd5" * 160),
                self.remote_rtp.address,
            )

    async def reports(self, peer: RawPeer, count: int) -> list[bytes]:
        """Wait until `peer` received `count` datagrams and return them."""
        async with asyncio.timeout(3):  # a safety net: loopback delivers at once
            while len(peer.received) < count:
                await settle()
        return [data for data, _addr in peer.received]


async def make_rig(*, wait_for_remote: bool = True, interval: float = 60.0) -> Rig:
    """Bind our two sockets and a remote pair whose RTCP port is its RTP port + 1."""
    loop = asyncio.get_running_loop()
    clock = ManualClock()
    remote_rtp = await open_peer(RawPeer)
    for _ in range(50):  # find a free port + 1 for the remote's RTCP
        try:
            remote_rtcp_transport, remote_rtcp = await loop.create_datagram_endpoint(
                RawPeer, local_addr=("127.0.0.1", remote_rtp.address[1] + 1)
            )
            break
        except OSError:
            remote_rtp.close()
            remote_rtp = await open_peer(RawPeer)
    else:  # pragma: no cover - the loopback ran out of port pairs
        pytest.fail("no free port pair")
    guard = SourceGuard()
    guard.advertise(remote_rtp.address, clock.time())
    stats = MediaStats()
    sender = RtpSender(Codec.PCMA, guard=guard, stats=stats)
    receiver = RtpReceiver(guard=guard, stats=stats, clock=clock.time)
    reporter = RtcpReporter(
        sender,
        receiver,
        guard=guard,
        stats=stats,
        interval=interval,
        wait_for_remote=wait_for_remote,
    )
    receiver.on_rtcp = reporter.on_muxed_rtcp
    rtp, _ = await loop.create_datagram_endpoint(
        asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0)
    )
    rtcp, _ = await loop.create_datagram_endpoint(
        lambda: _Forward(reporter), local_addr=("127.0.0.1", 0)
    )
    reporter.start(clock, rtp, rtcp, clock.time())
    return Rig(
        reporter,
        sender,
        receiver,
        guard,
        stats,
        rtp,
        rtcp,
        remote_rtp,
        remote_rtcp,
        clock,
    )


class _Forward(asyncio.DatagramProtocol):
    """Hands RTCP datagrams to a reporter."""

    def __init__(self, reporter: RtcpReporter) -> None:
        self.reporter = reporter

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.reporter.on_rtcp(data, addr)


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    """Yield a started rig and close everything afterwards."""
    rig = await make_rig()
    yield rig
    rig.reporter.close()
    for transport in (rig.rtp, rig.rtcp):
        transport.close()
    rig.remote_rtp.close()
    rig.remote_rtcp.close()
    await asyncio.sleep(0)


async def test_no_report_before_the_remote_latched(rig: Rig) -> None:
    """RTCP waits for a latched source; then an RR about it goes to its RTP port + 1."""
    rig.reporter.send(bye=False)
    await settle()
    assert rig.remote_rtcp.received == []
    assert rig.stats.rtcp_sent == 0
    rig.latch()
    rig.reporter.send(bye=False)
    (data,) = await rig.reports(rig.remote_rtcp, 1)
    (report,) = parse_rtcp(data).reports
    assert report.ssrc == rig.sender.ssrc
    assert report.sender_info is None  # nothing sent yet: a receiver report
    assert report.blocks[0].ssrc == REMOTE_SSRC
    assert report.blocks[0].last_sr == 0
    assert rig.stats.rtcp_sent == 1


async def test_sender_report_and_round_trip(rig: Rig) -> None:
    """After sending, an SR goes out; the remote's SR and block give loss, jitter and RTT."""
    rig.latch()
    rig.sender.transport = rig.rtp
    rig.sender.send_frame()
    remote_sr = SenderInfo(ntp_now(), 1000, 5, 800)
    ours = ntp_middle(ntp_now())
    block = ReportBlock(rig.sender.ssrc, 64, 3, 100, 80, ours, 0)
    other = ReportBlock(0x1, 128, 9, 100, 80, 0, 0)  # about someone else: ignored
    packet = build_rtcp(
        REMOTE_SSRC, "far@end", sender_info=remote_sr, blocks=(block, other)
    )
    rig.remote_rtcp.send(packet, rig.rtcp_address)
    async with asyncio.timeout(3):  # a safety net: loopback delivers at once
        while rig.stats.rtcp_received < 1:
            await settle()
    assert rig.stats.remote_fraction_lost == 0.25
    assert rig.stats.remote_cumulative_lost == 3
    assert rig.stats.remote_jitter_ms == 10.0
    assert rig.stats.round_trip_ms is not None and rig.stats.round_trip_ms < 1000
    rig.clock.advance(0.01)
    rig.reporter.send(bye=True)
    (data,) = await rig.reports(rig.remote_rtcp, 1)
    compound = parse_rtcp(data)
    (report,) = compound.reports
    assert report.sender_info is not None
    assert report.sender_info.packet_count == 1
    assert report.sender_info.octet_count == 160
    assert report.blocks[0].last_sr == ntp_middle(remote_sr.ntp_timestamp)
    assert report.blocks[0].delay_since_last_sr == int(0.01 * 65536)
    assert compound.bye_ssrcs == (rig.sender.ssrc,)


async def test_only_the_latched_source_reports(rig: Rig) -> None:
    """RTCP from elsewhere, malformed RTCP and SRTCP failures are counted, not used."""
    report = build_rtcp(REMOTE_SSRC, "far@end")
    rig.reporter.on_rtcp(report, rig.remote_rtcp.address)  # nothing latched yet
    rig.latch()
    rig.reporter.on_rtcp(report, ("127.0.0.2", rig.remote_rtcp.address[1]))
    rig.reporter.on_rtcp(b"\x80\xc9\x00", rig.remote_rtcp.address)
    assert rig.stats.foreign_packets == 2
    assert rig.stats.malformed_packets == 1
    ours, theirs = generate_crypto(), generate_crypto()
    rig.reporter.srtp = SrtpContext(local=ours, remote=theirs)
    remote = SrtpContext(local=theirs, remote=ours)
    protected = remote.protect_rtcp(report)
    rig.reporter.on_rtcp(protected, rig.remote_rtcp.address)
    rig.reporter.on_rtcp(protected, rig.remote_rtcp.address)
    fresh = remote.protect_rtcp(report)
    rig.reporter.on_rtcp(fresh[:-1] + bytes([fresh[-1] ^ 1]), rig.remote_rtcp.address)
    assert rig.stats.rtcp_received == 1
    assert rig.stats.srtp_replays == 1
    assert rig.stats.srtp_auth_failures == 1
    # What we send is SRTCP now.
    rig.reporter.send(bye=False)
    (data,) = await rig.reports(rig.remote_rtcp, 1)
    assert parse_rtcp(remote.unprotect_rtcp(data)).reports[0].ssrc == rig.sender.ssrc


async def test_muxed_rtcp_is_answered_on_the_rtp_port(rig: Rig) -> None:
    """RTCP arriving on the RTP port (RFC 5761) switches our reports to the RTP sockets."""
    rig.latch()
    rig.receiver.on_rtp(build_rtcp(REMOTE_SSRC, "far@end"), rig.remote_rtp.address)
    assert rig.stats.rtcp_received == 1
    assert rig.guard.rtcp_muxed
    rig.reporter.send(bye=False)
    await rig.reports(rig.remote_rtp, 1)
    assert rig.remote_rtcp.received == []


async def test_far_end_reports_before_latching_and_on_its_clock() -> None:
    """A far end that speaks first reports to the advertised port + 1, every interval."""
    rig = await make_rig(wait_for_remote=False, interval=0.05)
    try:
        await run_until(rig.clock, lambda: len(rig.remote_rtcp.received) >= 2, 0.2)
    finally:
        rig.reporter.close()  # BYE, and no more reports
        await settle()  # the BYE arrives
        count = len(rig.remote_rtcp.received)
        await run_for(rig.clock, 0.15)
        for transport in (rig.rtp, rig.rtcp):
            transport.close()
        rig.remote_rtp.close()
        rig.remote_rtcp.close()
    assert len(rig.remote_rtcp.received) == count
    assert parse_rtcp(rig.remote_rtcp.received[-1][0]).bye_ssrcs == (rig.sender.ssrc,)


def test_close_before_start_sends_nothing() -> None:
    """A reporter that never started has nothing to say goodbye with."""
    guard = SourceGuard()
    sender = RtpSender(Codec.PCMA, guard=guard)
    reporter = RtcpReporter(sender, RtpReceiver(guard=guard), guard=guard)
    reporter.close()
    assert reporter.stats.rtcp_sent == 0
    assert reporter.cname.endswith("@cloudsipua")
