"""The receiving half of a media session: checks, SRTP, jitter buffer, decoding and fan-out."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import logging
import time

from ..exceptions import MalformedPacketError  # noqa: TID252  # the library stays relocatable
from .codecs import CLOCK_RATE, G711_DECODERS, create_decoders
from .dtmf import DtmfEvent, DtmfReceiver
from .jitter import JitterBuffer
from .latching import NEW_SOURCE, PROBATION, Address, SourceGuard
from .reception import ACCEPTED, DUPLICATE, ReceptionStats
from .resample import Resampler
from .rtp import PLAIN_FIRST_OCTET, RTP_HEADER, RTP_HEADER_SIZE, parse_rtp
from .srtp import SrtpContext, unprotect_counted
from .stats import MediaStats
from .subscription import DEFAULT_MAX_FRAMES, AudioSubscription

_LOGGER = logging.getLogger(__name__)

_COMFORT_NOISE_PT = 13  # RFC 3389: valid, carries no audio we play

type FrameTap = Callable[[bytes | None, bytes | None], None]


class RtpReceiver(asyncio.BaseProtocol):
    """Takes RTP from the socket and hands decoded 20 ms frames to subscribers and taps.

    Packets pass the source guard (only a proven remote is played), SRTP and the sequence
    checks before they reach the jitter buffer; RTCP multiplexed on the RTP port goes to
    `on_rtcp`. Received audio is decoded by its payload type (PCMU, PCMA or GSM). It is the
    RTP socket's datagram protocol itself: asyncio calls the packet path directly.
    """

    # Fixed slots, what every packet and tick reads first: adjacent in memory, few cache lines.
    __slots__ = (
        "stats",
        "_guard",
        "srtp",
        "telephone_event_pt",
        "clock",
        "reception",
        "last_packet_at",
        "_inactive_signalled",
        "_decoders",
        "jitter",
        "_dtmf_pending",
        "_sole",
        "subscriptions",
        "_tapped",
        "_inactivity_timeout",
        "started_at",
        "taps",
        "_dtmf",
        "_on_dtmf",
        "_on_inactive",
        "on_rtcp",
        "_sub_resamplers",
        "_closed",
    )

    def __init__(
        self,
        *,
        guard: SourceGuard,
        stats: MediaStats | None = None,
        telephone_event_pt: int | None = 101,
        inactivity_timeout: float | None = 30.0,
        on_dtmf: Callable[[DtmfEvent], None] | None = None,
        on_inactive: Callable[[], None] | None = None,
        on_rtcp: Callable[[bytes, Address], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Prepare a decoder per payload type; `clock` gives arrival times (the loop's)."""
        self.stats = stats if stats is not None else MediaStats()
        self._guard = guard
        self.srtp: SrtpContext | None = None
        self.telephone_event_pt = telephone_event_pt
        self.clock = clock
        self.reception: ReceptionStats | None = None  # of the current remote source
        self.last_packet_at: float | None = None
        self._inactive_signalled = False
        self._decoders = create_decoders()
        self.jitter = JitterBuffer()
        self._dtmf_pending = False  # the DTMF receiver has an event in progress
        # The only subscriber, when there is one at 8 kHz (the usual case; else None).
        self._sole: AudioSubscription | None = None
        self.subscriptions: list[AudioSubscription] = []
        self._tapped = False  # any taps (read per tick instead of the list)
        self._inactivity_timeout = inactivity_timeout
        self.started_at = 0.0  # inactivity counts from here until the first packet
        self.taps: list[FrameTap] = []
        self._dtmf = DtmfReceiver()
        self._on_dtmf = on_dtmf
        self._on_inactive = on_inactive
        self.on_rtcp = on_rtcp  # RTCP multiplexed on the RTP port
        self._sub_resamplers: dict[int, Resampler] = {}
        self._closed = False

    # ---- the packet path -------------------------------------------------------------------

    def on_rtp(self, data: bytes, addr: Address) -> None:
        """Handle one datagram on the RTP port: checks, SRTP, latching, then dispatch."""
        # Runs for every datagram: no logging, no objects beyond the header's fields, and the
        # guard's host compared inline before its full check.
        stats = self.stats
        guard = self._guard
        if addr[0] != guard.host and not guard.admits(addr):
            stats.foreign_packets += 1
            return
        size = len(data)
        if size < RTP_HEADER_SIZE:
            stats.malformed_packets += 1
            return
        first, second, sequence, timestamp, ssrc = RTP_HEADER.unpack_from(data)
        if first >> 6 != 2:
            stats.malformed_packets += 1
            return
        if 200 <= second <= 204:  # RTCP multiplexed on the RTP port (RFC 5761)
            if self.on_rtcp is not None:
                self.on_rtcp(data, addr)
            return
        srtp = self.srtp
        if srtp is not None:
            if (plain := unprotect_counted(srtp.unprotect, data, stats)) is None:
                return
            data = plain
            if len(data) < RTP_HEADER_SIZE:
                first = -1  # parse_rtp tells why
            else:
                first, second, sequence, timestamp, ssrc = RTP_HEADER.unpack_from(data)
        if first == PLAIN_FIRST_OCTET:
            # The usual packet (no padding, extension or CSRC): as parse_rtp, without a call.
            payload_type = second & 0x7F
            payload = data[RTP_HEADER_SIZE:]
        else:
            try:
                packet = parse_rtp(data)
            except MalformedPacketError:
                stats.malformed_packets += 1
                return
            payload_type = packet.payload_type
            sequence = packet.sequence
            timestamp = packet.timestamp
            ssrc = packet.ssrc
            payload = packet.payload
        te_pt = self.telephone_event_pt
        if payload_type == te_pt and len(payload) < 4:
            stats.malformed_packets += 1
            return
        now = self.clock()
        verdict = guard.check(addr, ssrc, sequence, now)
        if verdict == PROBATION:
            # Not trusted yet: no audio, no DTMF, and the current source's state stays.
            stats.probation_packets += 1
            return
        decode = G711_DECODERS.get(payload_type) or self._decoders.get(payload_type)
        reception = self.reception
        if verdict == NEW_SOURCE or reception is None:
            if reception is not None:
                if reception.ssrc != ssrc:
                    stats.ssrc_changes += 1
                self.jitter.reset()
            self.reception = reception = ReceptionStats(ssrc, sequence)
            self.jitter.measured_jitter = reception.jitter
            if decode is not None:
                reception.update_jitter(timestamp, now)
        else:
            # Audio also folds its transit time into the jitter (in the same call).
            result = reception.update(
                sequence, None if decode is None else timestamp, now
            )
            if result != ACCEPTED:
                if result == DUPLICATE:
                    stats.duplicates += 1
                else:
                    stats.sequence_jumps += 1
                return
        self.last_packet_at = now
        self._inactive_signalled = False
        stats.packets_received += 1
        stats.bytes_received += size
        if decode is not None:
            jitter = self.jitter
            # Read by the next pull: play-out does not touch the reception statistics.
            jitter.measured_jitter = reception.jitter
            if payload:
                jitter.put(timestamp, decode(payload, 2))
        elif payload_type == te_pt:
            # The sender pauses audio during an event: play silence, not concealment.
            self.jitter.mark_discontinuity()
            dtmf = self._dtmf
            events = dtmf.feed(timestamp, payload, now)
            self._dtmf_pending = dtmf.has_pending
            self._emit_dtmf(events)
        elif payload_type != _COMFORT_NOISE_PT:
            stats.unknown_payload_packets += 1

    datagram_received = on_rtp  # as the RTP socket's protocol

    def error_received(self, exc: Exception) -> None:
        """Ignore ICMP errors (e.g. port unreachable before the remote party listens)."""
        _LOGGER.debug("RTP socket error: %s", exc)

    def _emit_dtmf(self, events: list[DtmfEvent]) -> None:
        """Count received digits and hand them to the callback."""
        for event in events:
            self.stats.dtmf_received += 1
            if self._on_dtmf is not None:
                try:
                    self._on_dtmf(event)
                except Exception:
                    _LOGGER.exception("DTMF callback failed")

    # ---- every 20 ms -----------------------------------------------------------------------

    def tick(self, now: float, sent: bytes | None) -> None:
        """Play out one frame, hand it with the `sent` frame to the taps, check inactivity."""
        received = self.play_out()
        if self._tapped:
            self.run_taps(received, sent)
        timeout = self._inactivity_timeout
        if timeout is not None and not self._inactive_signalled:
            last = self.last_packet_at
            if now - (self.started_at if last is None else last) >= timeout:
                self.check_inactivity(now)

    def play_out(self) -> bytes | None:
        """Pull one frame from the jitter buffer, push it to every subscriber and return it."""
        frame = self.jitter.pull()  # its depth follows the jitter the packets measured
        if self._dtmf_pending:
            dtmf = self._dtmf
            events = dtmf.expire(self.clock())
            self._dtmf_pending = dtmf.has_pending
            self._emit_dtmf(events)
        if frame is None:
            return frame
        sole = self._sole
        if sole is not None:
            # Every tick: the list, its array and the rate stay untouched.
            sole.push(frame)
            return frame
        converted: dict[int, bytes] | None = None
        for subscription in self.subscriptions:
            rate = subscription.sample_rate
            if rate == CLOCK_RATE:
                subscription.push(frame)
                continue
            if converted is None:
                converted = {}
            data = converted.get(rate)
            if data is None:
                data = converted[rate] = self._sub_resamplers[rate].process(frame)
            subscription.push(data)
        return frame

    def run_taps(self, received: bytes | None, sent: bytes | None) -> None:
        """Hand one tick's frames to every tap; a failing tap never stops the clock."""
        for tap in list(self.taps):
            try:
                tap(received, sent)
            except Exception:
                _LOGGER.exception("Media tap failed")

    def check_inactivity(self, now: float) -> None:
        """Signal once when no valid RTP has arrived for the inactivity timeout."""
        timeout = self._inactivity_timeout
        if timeout is None or self._inactive_signalled:
            return
        last = (
            self.last_packet_at if self.last_packet_at is not None else self.started_at
        )
        if now - last >= timeout:
            self._inactive_signalled = True
            if self._on_inactive is not None:
                try:
                    self._on_inactive()
                except Exception:
                    _LOGGER.exception("Inactivity callback failed")

    # ---- consumers -------------------------------------------------------------------------

    def subscribe(
        self, sample_rate: int = 8000, *, max_frames: int = DEFAULT_MAX_FRAMES
    ) -> AudioSubscription:
        """Return a new stream of decoded 20 ms frames at `sample_rate` (a multiple of 8 kHz)."""
        if sample_rate % CLOCK_RATE:
            raise ValueError("subscription rate must be a multiple of 8000 Hz")
        subscription = AudioSubscription(
            sample_rate, max_frames=max_frames, on_close=self._unsubscribe
        )
        if self._closed:
            subscription.end()
            return subscription
        if sample_rate != CLOCK_RATE and sample_rate not in self._sub_resamplers:
            self._sub_resamplers[sample_rate] = Resampler(
                CLOCK_RATE, sample_rate, compensate_delay=False
            )
        self.subscriptions.append(subscription)
        self._find_sole()
        return subscription

    def _find_sole(self) -> None:
        """Note the only subscriber if there is one at 8 kHz (play_out's shortcut)."""
        subscriptions = self.subscriptions
        self._sole = (
            subscriptions[0]
            if len(subscriptions) == 1 and subscriptions[0].sample_rate == CLOCK_RATE
            else None
        )

    def _unsubscribe(self, subscription: AudioSubscription) -> None:
        """Forget a subscription its consumer closed."""
        if subscription in self.subscriptions:
            self.subscriptions.remove(subscription)
            self._find_sole()
            self.stats.subscriber_overruns += subscription.overruns

    def add_tap(self, tap: FrameTap) -> Callable[[], None]:
        """Add a tap called every tick with (received, sent) frames; return a remover."""
        self.taps.append(tap)
        self._tapped = True

        def remove() -> None:
            if tap in self.taps:
                self.taps.remove(tap)
                self._tapped = bool(self.taps)

        return remove

    def close(self) -> None:
        """End every subscription and drop the taps; later subscriptions start ended."""
        self._closed = True
        for subscription in self.subscriptions:
            subscription.end()
        self.subscriptions.clear()
        self._sole = None
        self.taps.clear()
        self._tapped = False

    def add_stats(self, stats: MediaStats) -> None:
        """Write the reception, jitter buffer and subscriber figures into a stats snapshot."""
        reception = self.reception
        if reception is not None:
            stats.lost = reception.lost
            stats.jitter_ms = reception.jitter_ms
        jitter = self.jitter
        stats.late = jitter.late
        stats.concealed_frames = jitter.concealed_frames
        stats.trimmed_frames = jitter.trimmed_frames
        stats.jitter_buffer_ms = jitter.target_ms
        stats.duplicates += jitter.duplicates
        stats.subscriber_overruns += sum(sub.overruns for sub in self.subscriptions)
