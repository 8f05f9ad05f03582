"""The media session: one call's RTP/RTCP endpoint with audio in and out, DTMF and statistics."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
import logging
import random
import secrets
import socket
import struct

from ..exceptions import (  # noqa: TID252  # the library stays relocatable
    MalformedPacketError,
    MediaError,
    NoFreePortError,
    SrtpError,
    SrtpReplayError,
)
from ..models import Codec, CryptoEntry  # noqa: TID252  # the library stays relocatable
from .addresses import RemoteAddressPolicy, private_remotes_allowed
from .codecs import CLOCK_RATE, FRAME_BYTES, FRAME_SAMPLES, VoiceCodec, create_codec
from .dtmf import DtmfEvent, DtmfPacket, DtmfReceiver, event_packets, validate_digits
from .jitter import JitterBuffer
from .latching import NEW_SOURCE, PROBATION, Address, SourceGuard
from .reception import ACCEPTED, DUPLICATE, ReceptionStats
from .resample import Resampler
from .rtcp import (
    ReportBlock,
    SenderInfo,
    build_rtcp,
    ntp_middle,
    ntp_now,
    parse_rtcp,
    round_trip_seconds,
)
from .rtp import RTP_HEADER_SIZE, parse_rtp
from .srtp import SrtpContext
from .stats import MediaStats, snapshot
from .subscription import DEFAULT_MAX_FRAMES, AudioSubscription

__all__ = ["AudioSubscription", "DtmfEvent", "FrameTap", "MediaSession"]

_LOGGER = logging.getLogger(__name__)

FRAME_SECONDS = 0.020
INPUT_RATES = (8000, 16000, 48000)
_COMFORT_NOISE_PT = 13  # RFC 3389: valid, carries no audio we play
_MAX_CATCH_UP_SECONDS = (
    0.1  # behind by more than this (loop blocked): skip instead of bursting
)
_RTP_HEADER = struct.Struct("!BBHII")

type FrameTap = Callable[[bytes | None, bytes | None], None]


class _Endpoint(asyncio.DatagramProtocol):
    """Hands datagrams of one socket to a session callback."""

    def __init__(self, on_datagram: Callable[[bytes, Address], None]) -> None:
        """Remember the callback."""
        self._on_datagram = on_datagram

    def datagram_received(self, data: bytes, addr: Address) -> None:
        """Pass the datagram on."""
        self._on_datagram(data, addr)

    def error_received(self, exc: Exception) -> None:
        """Ignore ICMP errors (e.g. port unreachable before the remote party listens)."""
        _LOGGER.debug("RTP socket error: %s", exc)


class MediaSession:
    """One call's media: binds an RTP/RTCP port pair and runs a steady 20 ms send/playout clock."""

    def __init__(
        self,
        *,
        codec: Codec,
        telephone_event_payload_type: int | None = 101,
        bind_host: str = "0.0.0.0",
        port_range: tuple[int, int] = (20000, 20999),
        inactivity_timeout: float | None = 30.0,
        on_dtmf: Callable[[DtmfEvent], None] | None = None,
        on_inactive: Callable[[], None] | None = None,
        comfort_noise: bool = False,
        rtcp_interval: float = 5.0,
        wait_for_remote: bool = True,
        allow_private_remote: bool | None = None,
        media_address: str | None = None,
    ) -> None:
        """Configure the session; `codec` is the one we send (PCMU, PCMA or GSM)."""
        # With `wait_for_remote` (the default) nothing is sent before the remote party's own
        # packets passed latching, so a forged address cannot aim our stream at a victim; the
        # far end of a test or the emulator, which must speak first, turns it off.
        # `allow_private_remote` None: allowed unless `media_address` (else a specific
        # `bind_host`) is public, so a public endpoint is not aimed at its own network.
        self._encoder = create_codec(codec)
        # Received audio is decoded by its payload type, whatever codec we send.
        self._decoders: dict[int, VoiceCodec] = {
            each.payload_type: create_codec(each) for each in Codec
        }
        self._te_pt = telephone_event_payload_type
        self._bind_host = bind_host
        self._port_range = port_range
        self._inactivity_timeout = inactivity_timeout
        self._on_dtmf = on_dtmf
        self._on_inactive = on_inactive
        self._comfort_noise = comfort_noise
        self._noise = self._encoder.comfort_noise() if comfort_noise else []
        self._noise_index = 0
        self._rtcp_interval = rtcp_interval

        self._ssrc = secrets.randbits(32)
        self._seq = secrets.randbits(16)
        self._ts = secrets.randbits(32)
        self._marker = True  # first packet of the stream
        self._cname = f"{secrets.token_hex(6)}@cloudsipua"
        self._stats = MediaStats()
        self._payload_octets_sent = 0
        self._wait_for_remote = wait_for_remote
        if allow_private_remote is None:
            allow_private_remote = private_remotes_allowed(media_address or bind_host)
        self._policy = RemoteAddressPolicy(allow_private=allow_private_remote)
        self._remote: Address | None = None  # as set_remote was given it
        self._remote_refusal: str | None = None
        self._guard = SourceGuard()
        self._srtp: SrtpContext | None = None
        self._jitter = JitterBuffer()
        self._reception: ReceptionStats | None = None
        self._dtmf_receiver = DtmfReceiver()
        self._last_sr = 0
        self._last_sr_at = 0.0

        self._out = bytearray()  # 8 kHz PCM waiting to be sent
        self._out_resampler: Resampler | None = None
        self._queued_total = 0
        self._consumed_total = 0
        self._play_waiters: deque[tuple[int, asyncio.Future[None]]] = deque()
        self._subscriptions: list[AudioSubscription] = []
        self._sub_resamplers: dict[int, Resampler] = {}
        self._taps: list[FrameTap] = []
        # 8 kHz audio of this tick's packet (None: silence, comfort noise or DTMF).
        self._sent_pcm: bytes | None = None
        self._dtmf_queue: deque[tuple[list[DtmfPacket], asyncio.Future[None]]] = deque()
        self._dtmf_current: (
            tuple[list[DtmfPacket], asyncio.Future[None], int] | None
        ) = None
        self._dtmf_index = 0
        self._dtmf_lock = asyncio.Lock()

        self._loop: asyncio.AbstractEventLoop | None = None
        self._rtp_transport: asyncio.DatagramTransport | None = None
        self._rtcp_transport: asyncio.DatagramTransport | None = None
        self._tick_handle: asyncio.TimerHandle | None = None
        self._rtcp_handle: asyncio.TimerHandle | None = None
        self._next_tick = 0.0
        self._started_at = 0.0
        self._last_packet_at: float | None = None
        self._inactive_signalled = False
        self._local_port = 0
        self._closed = False

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind an even RTP port from the range (RTCP on port + 1) and start the 20 ms clock."""
        if self._closed:
            raise MediaError("media session is closed")
        if self._loop is not None:
            return
        loop = asyncio.get_running_loop()
        rtp_sock, rtcp_sock = self._bind_pair()
        self._loop = loop
        self._local_port = rtp_sock.getsockname()[1]
        rtp_transport, _ = await loop.create_datagram_endpoint(
            lambda: _Endpoint(self._on_rtp), sock=rtp_sock
        )
        self._rtp_transport = rtp_transport
        rtcp_transport, _ = await loop.create_datagram_endpoint(
            lambda: _Endpoint(self._on_rtcp), sock=rtcp_sock
        )
        self._rtcp_transport = rtcp_transport
        now = loop.time()
        self._started_at = now
        self._guard.advertised_at = now  # the remote may have been set before the clock
        self._next_tick = now + FRAME_SECONDS
        self._tick_handle = loop.call_at(self._next_tick, self._tick)
        self._rtcp_handle = loop.call_at(now + self._rtcp_delay() / 2, self._rtcp_tick)

    def _bind_pair(self) -> tuple[socket.socket, socket.socket]:
        """Bind two UDP sockets on an even port and the next one, trying the range in turn."""
        low, high = self._port_range
        first = low + (low % 2)
        candidates = list(range(first, high, 2))  # port + 1 must stay within the range
        if not candidates:
            raise NoFreePortError(f"port range {low}-{high} holds no even port pair")
        # Start at a random place so concurrent sessions rarely race for the same pair.
        start = random.randrange(len(candidates))
        family = socket.AF_INET6 if ":" in self._bind_host else socket.AF_INET
        for port in candidates[start:] + candidates[:start]:
            rtp = self._try_bind(family, port)
            if rtp is None:
                continue
            rtcp = self._try_bind(family, port + 1)
            if rtcp is None:
                rtp.close()
                continue
            return rtp, rtcp
        raise NoFreePortError(f"no free RTP/RTCP port pair in {low}-{high}")

    def _try_bind(
        self, family: socket.AddressFamily, port: int
    ) -> socket.socket | None:
        """Return a non-blocking UDP socket bound to `port`, or None if taken."""
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.bind((self._bind_host, port))
        except OSError:
            sock.close()
            return None
        sock.setblocking(False)
        return sock

    async def close(self) -> None:
        """Stop the clock, send RTCP BYE, close both sockets and end every subscription."""
        if self._closed:
            return
        self._closed = True
        for handle in (self._tick_handle, self._rtcp_handle):
            if handle is not None:
                handle.cancel()
        if self._rtp_transport is not None:
            self._send_rtcp(bye=True)
        for transport in (self._rtp_transport, self._rtcp_transport):
            if transport is not None:
                transport.close()
        for subscription in self._subscriptions:
            subscription.end()
        self._subscriptions.clear()
        self._taps.clear()
        self._release_play_waiters()
        if self._dtmf_current is not None:
            self._dtmf_queue.appendleft((self._dtmf_current[0], self._dtmf_current[1]))
            self._dtmf_current = None
        while self._dtmf_queue:
            _packets, future = self._dtmf_queue.popleft()
            if not future.done():
                future.set_exception(
                    MediaError("media session closed before the DTMF was sent")
                )
        await asyncio.sleep(0)  # let the transports run connection_lost

    # ---- configuration ---------------------------------------------------------------------

    @property
    def local_port(self) -> int:
        """Return the bound RTP port (0 before start)."""
        return self._local_port

    @property
    def codec(self) -> Codec:
        """Return the codec we send."""
        return self._encoder.codec

    @property
    def ssrc(self) -> int:
        """Return our SSRC."""
        return self._ssrc

    @property
    def latched_address(self) -> Address | None:
        """Return the remote source we latched onto, if any."""
        return self._guard.latched

    @property
    def remote_refusal(self) -> str | None:
        """Return why the advertised remote address was refused (see addresses.py), if it was."""
        return self._remote_refusal

    @property
    def last_packet_at(self) -> float | None:
        """Return the loop time of the last valid RTP packet received."""
        return self._last_packet_at

    @property
    def stats(self) -> MediaStats:
        """Return a snapshot of the counters."""
        stats = self._stats
        reception = self._reception
        if reception is not None:
            stats.lost = reception.lost
            stats.jitter_ms = reception.jitter_ms
        jitter = self._jitter
        stats.late = jitter.late
        stats.concealed_frames = jitter.concealed_frames
        stats.trimmed_frames = jitter.trimmed_frames
        stats.jitter_buffer_ms = jitter.target_ms
        result = snapshot(stats)
        result.duplicates += jitter.duplicates
        result.subscriber_overruns += sum(sub.overruns for sub in self._subscriptions)
        return result

    def set_remote(self, host: str, port: int) -> None:
        """Set the advertised remote RTP address; a new address drops an earlier latch."""
        # An address the policy refuses is neither sent to nor listened to: the call stays
        # silent rather than reflect media at a network it must not reach.
        address = (host, port)
        if self._remote == address:
            return
        self._remote = address
        now = self._loop.time() if self._loop is not None else 0.0
        refusal = self._remote_refusal = self._policy.refusal(host, port)
        if refusal is not None:
            _LOGGER.warning(
                "Refusing remote media address %s port %s (%s)", host, port, refusal
            )
            self._guard.advertise(None, now)
            return
        self._guard.advertise(address, now)

    def set_codec(self, codec: Codec) -> None:
        """Switch the codec we send (we decode PCMU, PCMA and GSM whatever was negotiated)."""
        self._encoder = create_codec(codec)
        if self._comfort_noise:
            self._noise = self._encoder.comfort_noise()

    def set_telephone_event_payload_type(self, pt: int | None) -> None:
        """Set the negotiated telephone-event payload type (None: no DTMF events)."""
        self._te_pt = pt

    def enable_srtp(self, *, local: CryptoEntry, remote: CryptoEntry) -> None:
        """Protect what we send with `local` and verify what we receive with `remote`."""
        self._srtp = SrtpContext(local=local, remote=remote)

    # ---- sending ---------------------------------------------------------------------------

    def enqueue_audio(self, pcm: bytes, sample_rate: int) -> None:
        """Queue 16-bit mono PCM at 8, 16 or 48 kHz to be sent at the 20 ms pace."""
        if sample_rate not in INPUT_RATES:
            raise ValueError(
                f"unsupported sample rate {sample_rate}; use one of {INPUT_RATES}"
            )
        if len(pcm) % 2:
            raise ValueError("16-bit PCM must have an even number of bytes")
        resampler = self._out_resampler
        if resampler is not None and resampler.in_rate != sample_rate:
            self._append_out(resampler.flush())
            resampler = self._out_resampler = None
        if sample_rate != CLOCK_RATE:
            if resampler is None:
                resampler = self._out_resampler = Resampler(sample_rate, CLOCK_RATE)
            pcm = resampler.process(pcm)
        self._append_out(pcm)

    def _append_out(self, pcm: bytes) -> None:
        """Add 8 kHz PCM to the outbound queue."""
        self._out += pcm
        self._queued_total += len(pcm)

    async def play_audio(self, pcm: bytes, sample_rate: int) -> None:
        """Queue audio and wait until all of it has been sent (or cleared, or the session closed)."""
        self.enqueue_audio(pcm, sample_rate)
        if self._out_resampler is not None:
            self._append_out(self._out_resampler.flush())
            self._out_resampler = None
        if self._closed or self._consumed_total >= self._queued_total:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._play_waiters.append((self._queued_total, future))
        await future

    def clear_audio(self) -> None:
        """Drop queued outbound audio; pending play_audio calls return."""
        self._out.clear()
        self._out_resampler = None
        self._consumed_total = self._queued_total
        self._release_play_waiters()

    def _release_play_waiters(self) -> None:
        """Resolve play_audio waiters whose audio has gone out."""
        waiters = self._play_waiters
        while waiters and (self._closed or waiters[0][0] <= self._consumed_total):
            _mark, future = waiters.popleft()
            if not future.done():
                future.set_result(None)

    async def send_dtmf(
        self, digits: str, duration_ms: int = 100, gap_ms: int = 60
    ) -> None:
        """Send digits as RFC 4733 events, one after another with `gap_ms` of audio between."""
        digits = validate_digits(digits)
        if not 20 <= duration_ms <= 8000:
            raise ValueError("DTMF duration must be 20..8000 ms")
        if gap_ms < 0:
            raise ValueError("DTMF gap must not be negative")
        if self._te_pt is None:
            raise MediaError("no telephone-event payload type was negotiated")
        if self._loop is None or self._closed:
            raise MediaError("media session is not running")
        async with self._dtmf_lock:
            for index, digit in enumerate(digits):
                future: asyncio.Future[None] = self._loop.create_future()
                self._dtmf_queue.append((event_packets(digit, duration_ms), future))
                await future
                self._stats.dtmf_sent += 1
                if gap_ms and index < len(digits) - 1:
                    await asyncio.sleep(gap_ms / 1000)

    def _tick(self) -> None:
        """Send one packet and play out one frame, then schedule the next tick without drift."""
        loop = self._loop
        assert loop is not None
        now = loop.time()
        behind = now - self._next_tick
        if behind > _MAX_CATCH_UP_SECONDS:
            # The loop was blocked: jump ahead (timestamps follow real time) instead of bursting.
            skipped = int(behind / FRAME_SECONDS)
            self._next_tick += skipped * FRAME_SECONDS
            self._ts = (self._ts + skipped * FRAME_SAMPLES) & 0xFFFFFFFF
        try:
            self._send_frame()
            received = self._play_out()
            if self._taps:
                self._run_taps(received)
            self._check_inactivity(now)
        finally:
            self._next_tick += FRAME_SECONDS
            if not self._closed:
                self._tick_handle = loop.call_at(self._next_tick, self._tick)

    def _next_payload(self) -> tuple[int, int, bool, bytes]:
        """Return (payload type, timestamp, marker, payload) for this tick's packet."""
        self._sent_pcm = None
        current = self._dtmf_current
        if current is None and self._dtmf_queue:
            packets, future = self._dtmf_queue.popleft()
            current = self._dtmf_current = (packets, future, self._ts)
            self._dtmf_index = 0
        if current is not None and self._te_pt is not None:
            packets, future, event_ts = current
            packet = packets[self._dtmf_index]
            self._dtmf_index += 1
            if self._dtmf_index == len(packets):
                self._dtmf_current = None
                if not future.done():
                    future.set_result(None)
            return self._te_pt, event_ts, packet.marker, packet.payload
        out = self._out
        if len(out) < FRAME_BYTES and self._out_resampler is not None:
            self._append_out(self._out_resampler.flush())
            self._out_resampler = None
        marker = self._marker
        self._marker = False
        if out:
            chunk = bytes(out[:FRAME_BYTES])
            del out[:FRAME_BYTES]
            self._consumed_total += len(chunk)
            if len(chunk) < FRAME_BYTES:
                chunk += bytes(FRAME_BYTES - len(chunk))
            self._sent_pcm = chunk
            if self._play_waiters:
                self._release_play_waiters()
            return (
                self._encoder.payload_type,
                self._ts,
                marker,
                self._encoder.encode(chunk),
            )
        if self._noise:
            self._noise_index = (self._noise_index + 1) % len(self._noise)
            payload = self._noise[self._noise_index]
        else:
            payload = self._encoder.silence
        return self._encoder.payload_type, self._ts, marker, payload

    def _send_frame(self) -> None:
        """Build, protect and send this tick's RTP packet."""
        guard = self._guard
        target = guard.latched
        if target is None and not self._wait_for_remote:
            target = guard.advertised
        transport = self._rtp_transport
        if target is None or transport is None:
            # No remote proved itself yet: the clock runs, nothing reaches the wire (nor a
            # recording: nobody heard it). Queued audio and DTMF wait, so a greeting starts
            # whole and a stateful encoder (GSM) stays in step with the far end's decoder.
            self._ts = (self._ts + FRAME_SAMPLES) & 0xFFFFFFFF
            self._stats.packets_withheld += 1
            self._sent_pcm = None
            return
        payload_type, timestamp, marker, payload = self._next_payload()
        self._ts = (self._ts + FRAME_SAMPLES) & 0xFFFFFFFF
        packet = (
            _RTP_HEADER.pack(
                0x80,
                payload_type | 0x80 if marker else payload_type,
                self._seq,
                timestamp,
                self._ssrc,
            )
            + payload
        )
        self._seq = (self._seq + 1) & 0xFFFF
        if self._srtp is not None:
            packet = self._srtp.protect(packet)
        transport.sendto(packet, target)
        stats = self._stats
        stats.packets_sent += 1
        stats.bytes_sent += len(packet)
        self._payload_octets_sent += len(payload)

    # ---- receiving -------------------------------------------------------------------------

    def _on_rtp(self, data: bytes, addr: Address) -> None:
        """Handle one datagram on the RTP port: checks, SRTP, latching, then dispatch."""
        stats = self._stats
        guard = self._guard
        if not guard.admits(addr):
            stats.foreign_packets += 1
            return
        if len(data) < RTP_HEADER_SIZE or data[0] >> 6 != 2:
            stats.malformed_packets += 1
            return
        if 200 <= data[1] <= 204:  # RTCP multiplexed on the RTP port (RFC 5761)
            self._on_rtcp(data, addr, muxed=True)
            return
        size = len(data)
        srtp = self._srtp
        if srtp is not None:
            try:
                data = srtp.unprotect(data)
            except SrtpReplayError:
                stats.srtp_replays += 1
                return
            except SrtpError:
                stats.srtp_auth_failures += 1
                return
        try:
            packet = parse_rtp(data)
        except MalformedPacketError:
            stats.malformed_packets += 1
            return
        payload_type = packet.payload_type
        if payload_type == self._te_pt and len(packet.payload) < 4:
            stats.malformed_packets += 1
            return
        loop = self._loop
        assert loop is not None
        now = loop.time()
        verdict = guard.check(addr, packet.ssrc, packet.sequence, now)
        if verdict == PROBATION:
            # Not trusted yet: no audio, no DTMF, and the current source's state stays.
            stats.probation_packets += 1
            return
        reception = self._reception
        if verdict == NEW_SOURCE or reception is None:
            if reception is not None:
                if reception.ssrc != packet.ssrc:
                    stats.ssrc_changes += 1
                self._jitter.reset()
            self._reception = reception = ReceptionStats(packet.ssrc, packet.sequence)
        else:
            result = reception.update(packet.sequence)
            if result != ACCEPTED:
                if result == DUPLICATE:
                    stats.duplicates += 1
                else:
                    stats.sequence_jumps += 1
                return
        self._last_packet_at = now
        self._inactive_signalled = False
        stats.packets_received += 1
        stats.bytes_received += size
        decoder = self._decoders.get(payload_type)
        if decoder is not None:
            reception.update_jitter(packet.timestamp, now)
            if packet.payload:
                self._jitter.put(packet.timestamp, decoder.decode(packet.payload))
        elif payload_type == self._te_pt:
            # The sender pauses audio during an event: play silence, not concealment.
            self._jitter.mark_discontinuity()
            self._emit_dtmf(
                self._dtmf_receiver.feed(packet.timestamp, packet.payload, now)
            )
        elif payload_type != _COMFORT_NOISE_PT:
            stats.unknown_payload_packets += 1

    def _emit_dtmf(self, events: list[DtmfEvent]) -> None:
        """Count received digits and hand them to the callback."""
        for event in events:
            self._stats.dtmf_received += 1
            if self._on_dtmf is not None:
                try:
                    self._on_dtmf(event)
                except Exception:
                    _LOGGER.exception("DTMF callback failed")

    # ---- playout ---------------------------------------------------------------------------

    def subscribe(
        self, sample_rate: int = 8000, *, max_frames: int = DEFAULT_MAX_FRAMES
    ) -> AudioSubscription:
        """Return a new stream of decoded 20 ms frames at `sample_rate` (a multiple of 8 kHz).

        A consumer more than `max_frames` behind loses the oldest frames (counted as overruns).
        """
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
        self._subscriptions.append(subscription)
        return subscription

    def _unsubscribe(self, subscription: AudioSubscription) -> None:
        """Forget a subscription its consumer closed."""
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)
            self._stats.subscriber_overruns += subscription.overruns

    def add_tap(self, tap: FrameTap) -> Callable[[], None]:
        """Call `tap(received, sent)` every 20 ms with both directions' 8 kHz frames; return a remover.

        `received` is None before the first packet arrived, `sent` is None while nothing plays
        (silence, comfort noise or DTMF goes out). Both belong to the same tick, so a consumer
        such as a call recorder keeps the two directions aligned without buffering.
        """
        self._taps.append(tap)

        def remove() -> None:
            if tap in self._taps:
                self._taps.remove(tap)

        return remove

    def _run_taps(self, received: bytes | None) -> None:
        """Hand this tick's frames to every tap; a failing tap never stops the clock."""
        sent = self._sent_pcm
        for tap in list(self._taps):
            try:
                tap(received, sent)
            except Exception:
                _LOGGER.exception("Media tap failed")

    def _play_out(self) -> bytes | None:
        """Pull one frame from the jitter buffer, push it to every subscriber and return it."""
        reception = self._reception
        if reception is not None:
            self._jitter.set_jitter(reception.jitter)
        frame = self._jitter.pull()
        if self._dtmf_receiver.has_pending:
            assert self._loop is not None
            self._emit_dtmf(self._dtmf_receiver.expire(self._loop.time()))
        if frame is None or not self._subscriptions:
            return frame
        converted: dict[int, bytes] = {CLOCK_RATE: frame}
        for subscription in self._subscriptions:
            rate = subscription.sample_rate
            data = converted.get(rate)
            if data is None:
                data = converted[rate] = self._sub_resamplers[rate].process(frame)
            subscription.push(data)
        return frame

    def _check_inactivity(self, now: float) -> None:
        """Signal once when no valid RTP has arrived for the inactivity timeout."""
        timeout = self._inactivity_timeout
        if timeout is None or self._inactive_signalled:
            return
        last = (
            self._last_packet_at
            if self._last_packet_at is not None
            else self._started_at
        )
        if now - last >= timeout:
            self._inactive_signalled = True
            if self._on_inactive is not None:
                try:
                    self._on_inactive()
                except Exception:
                    _LOGGER.exception("Inactivity callback failed")

    # ---- RTCP ------------------------------------------------------------------------------

    def _rtcp_delay(self) -> float:
        """Return a randomised reporting interval (RFC 3550 section 6.3.1)."""
        return self._rtcp_interval * random.uniform(0.5, 1.5)

    def _rtcp_tick(self) -> None:
        """Send a report and schedule the next one."""
        loop = self._loop
        assert loop is not None
        try:
            self._send_rtcp(bye=False)
        finally:
            if not self._closed:
                self._rtcp_handle = loop.call_at(
                    loop.time() + self._rtcp_delay(), self._rtcp_tick
                )

    def _send_rtcp(self, *, bye: bool) -> None:
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
        loop = self._loop
        assert loop is not None
        stats = self._stats
        sender_info = None
        if stats.packets_sent:
            elapsed = loop.time() - (self._next_tick - FRAME_SECONDS)
            sender_info = SenderInfo(
                ntp_now(),
                self._ts + int(elapsed * CLOCK_RATE),
                stats.packets_sent,
                self._payload_octets_sent,
            )
        blocks: tuple[ReportBlock, ...] = ()
        if self._reception is not None:
            delay = 0
            if self._last_sr:
                delay = int((loop.time() - self._last_sr_at) * 65536)
            blocks = (self._reception.report_block(self._last_sr, delay),)
        packet = build_rtcp(
            self._ssrc, self._cname, sender_info=sender_info, blocks=blocks, bye=bye
        )
        if self._srtp is not None:
            packet = self._srtp.protect_rtcp(packet)
        transport.sendto(packet, target)
        stats.rtcp_sent += 1

    def _on_rtcp(self, data: bytes, addr: Address, *, muxed: bool = False) -> None:
        """Handle one RTCP datagram: SRTCP, parse, and fold the reports into the statistics."""
        stats = self._stats
        if not self._guard.rtcp_accepts(addr, muxed=muxed):
            stats.foreign_packets += 1
            return
        if self._srtp is not None:
            try:
                data = self._srtp.unprotect_rtcp(data)
            except SrtpReplayError:
                stats.srtp_replays += 1
                return
            except SrtpError:
                stats.srtp_auth_failures += 1
                return
        try:
            compound = parse_rtcp(data)
        except MalformedPacketError:
            stats.malformed_packets += 1
            return
        self._guard.rtcp_valid(addr, muxed=muxed)
        stats.rtcp_received += 1
        loop = self._loop
        assert loop is not None
        arrival = ntp_now()
        for report in compound.reports:
            if report.sender_info is not None:
                self._last_sr = ntp_middle(report.sender_info.ntp_timestamp)
                self._last_sr_at = loop.time()
            for block in report.blocks:
                if block.ssrc != self._ssrc:
                    continue
                stats.remote_fraction_lost = block.fraction_lost / 256
                stats.remote_cumulative_lost = block.cumulative_lost
                stats.remote_jitter_ms = block.jitter * 1000 / CLOCK_RATE
                rtt = round_trip_seconds(block, arrival)
                if rtt is not None:
                    stats.round_trip_ms = rtt * 1000
