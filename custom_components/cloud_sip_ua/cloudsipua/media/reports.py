"""RTCP of a media session: periodic sender/receiver reports, BYE, and the remote's reports."""

from __future__ import annotations

import asyncio
import random
import secrets

from ..exceptions import MalformedPacketError  # noqa: TID252  # the library stays relocatable
from .clock import Cancellable, Timers
from .codecs import CLOCK_RATE
from .latching import Address, SourceGuard
from .receiver import RtpReceiver
from .rtcp import (
    ReportBlock,
    SenderInfo,
    build_rtcp,
    ntp_middle,
    ntp_now,
    parse_rtcp,
    round_trip_seconds,
)
from .sender import RtpSender
from .srtp import SrtpContext, unprotect_counted
from .stats import MediaStats


class RtcpReporter:
    """Reports what `sender` sent and `receiver` received, and folds the remote's reports in.

    Reports go only to the source the guard latched (or, for a far end that speaks first, to
    the advertised address), and RTCP is accepted only from where the guard allows.
    """

    def __init__(
        self,
        sender: RtpSender,
        receiver: RtpReceiver,
        *,
        guard: SourceGuard,
        stats: MediaStats | None = None,
        interval: float = 5.0,
        wait_for_remote: bool = True,
    ) -> None:
        """Remember the parts reported on; nothing is sent before start()."""
        self._sender = sender
        self._receiver = receiver
        self._guard = guard
        self.stats = stats if stats is not None else MediaStats()
        self._interval = interval
        self._wait_for_remote = wait_for_remote
        self.cname = f"{secrets.token_hex(6)}@cloudsipua"
        self.srtp: SrtpContext | None = None
        self._last_sr = 0  # middle 32 bits of the remote's last SR timestamp
        self._last_sr_at = 0.0
        self._clock: Timers | None = None
        self._rtp_transport: asyncio.DatagramTransport | None = None
        self._rtcp_transport: asyncio.DatagramTransport | None = None
        self._handle: Cancellable | None = None
        self._closed = False

    def start(
        self,
        clock: Timers,
        rtp_transport: asyncio.DatagramTransport,
        rtcp_transport: asyncio.DatagramTransport,
        now: float,
    ) -> None:
        """Schedule the first report half an interval after `now` on `clock` (the event loop)."""
        self._clock = clock
        self._rtp_transport = rtp_transport
        self._rtcp_transport = rtcp_transport
        self._handle = clock.call_at(now + self._delay() / 2, self._tick)

    def close(self) -> None:
        """Stop reporting and send BYE (if the transports were ever started)."""
        self._closed = True
        if self._handle is not None:
            self._handle.cancel()
        if self._rtp_transport is not None:
            self.send(bye=True)

    def _delay(self) -> float:
        """Return a randomised reporting interval (RFC 3550 section 6.3.1)."""
        return self._interval * random.uniform(0.5, 1.5)

    def _tick(self) -> None:
        """Send a report and schedule the next one."""
        clock = self._clock
        assert clock is not None
        try:
            self.send(bye=False)
        finally:
            if not self._closed:
                self._handle = clock.call_at(clock.time() + self._delay(), self._tick)

    def send(self, *, bye: bool) -> None:
        """Send SR (or RR if we have sent nothing) with a report about the remote source."""
        guard = self._guard
        target = guard.rtcp_target
        if (
            target is None
            and not self._wait_for_remote
            and guard.advertised is not None
        ):
            host, port = guard.advertised
            target = (host, port + 1)
        transport = self._rtp_transport if guard.rtcp_muxed else self._rtcp_transport
        if transport is None or target is None:
            return
        clock = self._clock
        assert clock is not None
        stats = self.stats
        sender = self._sender
        sender_info = None
        if stats.packets_sent:
            sender_info = SenderInfo(
                ntp_now(),
                sender.rtp_timestamp(clock.time()),
                stats.packets_sent,
                sender.payload_octets,
            )
        blocks: tuple[ReportBlock, ...] = ()
        reception = self._receiver.reception
        if reception is not None:
            delay = 0
            if self._last_sr:
                delay = int((clock.time() - self._last_sr_at) * 65536)
            blocks = (reception.report_block(self._last_sr, delay),)
        packet = build_rtcp(
            sender.ssrc, self.cname, sender_info=sender_info, blocks=blocks, bye=bye
        )
        if self.srtp is not None:
            packet = self.srtp.protect_rtcp(packet)
        transport.sendto(packet, target)
        stats.rtcp_sent += 1

    def on_muxed_rtcp(self, data: bytes, addr: Address) -> None:
        """Handle RTCP that arrived on the RTP port (RFC 5761)."""
        self.on_rtcp(data, addr, muxed=True)

    def on_rtcp(self, data: bytes, addr: Address, *, muxed: bool = False) -> None:
        """Handle one RTCP datagram: SRTCP, parse, and fold the reports into the statistics."""
        stats = self.stats
        if not self._guard.rtcp_accepts(addr, muxed=muxed):
            stats.foreign_packets += 1
            return
        if self.srtp is not None:
            plain = unprotect_counted(self.srtp.unprotect_rtcp, data, stats)
            if plain is None:
                return
            data = plain
        try:
            compound = parse_rtcp(data)
        except MalformedPacketError:
            stats.malformed_packets += 1
            return
        self._guard.rtcp_valid(addr, muxed=muxed)
        stats.rtcp_received += 1
        clock = self._clock
        assert clock is not None
        arrival = ntp_now()
        ssrc = self._sender.ssrc
        for report in compound.reports:
            if report.sender_info is not None:
                self._last_sr = ntp_middle(report.sender_info.ntp_timestamp)
                self._last_sr_at = clock.time()
            for block in report.blocks:
                if block.ssrc != ssrc:
                    continue
                stats.remote_fraction_lost = block.fraction_lost / 256
                stats.remote_cumulative_lost = block.cumulative_lost
                stats.remote_jitter_ms = block.jitter * 1000 / CLOCK_RATE
                rtt = round_trip_seconds(block, arrival)
                if rtt is not None:
                    stats.round_trip_ms = rtt * 1000
