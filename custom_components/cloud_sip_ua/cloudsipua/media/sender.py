"""The sending half of a media session: the 20 ms clock, the outgoing queue, DTMF and encoding."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
import logging
import secrets
import struct

from ..exceptions import MediaError  # noqa: TID252  # the library stays relocatable
from ..models import Codec  # noqa: TID252  # the library stays relocatable
from .clock import FRAME_SECONDS, MediaClock, Ticker, Timers, sleep
from .codecs import CLOCK_RATE, FRAME_BYTES, FRAME_SAMPLES, create_codec
from .dtmf import DtmfPacket, event_packets, validate_digits
from .latching import SourceGuard
from .resample import Resampler
from .srtp import SrtpContext
from .stats import MediaStats

_LOGGER = logging.getLogger(__name__)

INPUT_RATES = (8000, 16000, 48000)
# Behind by more than this (loop blocked): skip instead of bursting.
_MAX_CATCH_UP_SECONDS = 0.1
# Header and payload packed in one go, by payload size (we send only a few sizes).
_PACKETS: dict[int, struct.Struct] = {}


def _packet_struct(payload_size: int) -> struct.Struct:
    """Return the struct of an RTP packet (no CSRC or extension) with this payload size."""
    packer = struct.Struct(f"!BBHII{payload_size}s")
    if len(_PACKETS) < 64:
        _PACKETS[payload_size] = packer
    return packer


class RtpSender:
    """Sends one RTP packet every 20 ms: queued audio, DTMF events, or silence.

    Nothing reaches the wire before the guard latched a remote source (unless
    `wait_for_remote` is off), so a forged address cannot aim our stream at a victim.
    """

    # Fixed slots, what every tick reads first: over 30 attributes would otherwise spill the
    # instance into a dict of its own, looked up by hash on every tick.
    __slots__ = (
        "_next_tick",
        "_closed",
        "_on_tick",
        "_guard",
        "_wait_for_remote",
        "transport",
        "sent_pcm",
        "_queued",
        "_noise",
        "_marker",
        "_encoder",
        "_ts",
        "_seq",
        "ssrc",
        "srtp",
        "stats",
        "payload_octets",
        "_dtmf_current",
        "_dtmf_queue",
        "telephone_event_pt",
        "_out",
        "_out_resampler",
        "_comfort_noise",
        "_noise_index",
        "_queued_total",
        "_consumed_total",
        "_play_waiters",
        "_dtmf_index",
        "_dtmf_lock",
        "_clock",
        "_ticker",
    )

    def __init__(
        self,
        codec: Codec,
        *,
        guard: SourceGuard,
        stats: MediaStats | None = None,
        telephone_event_pt: int | None = 101,
        comfort_noise: bool = False,
        wait_for_remote: bool = True,
    ) -> None:
        """Prepare the encoder and a random SSRC, sequence number and timestamp."""
        self._next_tick = 0.0
        self._closed = False
        self._on_tick: Callable[[float, bytes | None], None] | None = None
        self._guard = guard
        self._wait_for_remote = wait_for_remote
        self.transport: asyncio.DatagramTransport | None = None
        # 8 kHz audio of this tick's packet (None: silence, comfort noise or DTMF).
        self.sent_pcm: bytes | None = None
        # DTMF or audio may be waiting (False: nothing is, a tick reads only this).
        self._queued = False
        self._dtmf_current: (
            tuple[list[DtmfPacket], asyncio.Future[None], int] | None
        ) = None
        self._dtmf_queue: deque[tuple[list[DtmfPacket], asyncio.Future[None]]] = deque()
        self.telephone_event_pt = telephone_event_pt
        self._out = bytearray()  # 8 kHz PCM waiting to be sent
        self._out_resampler: Resampler | None = None
        self._marker = True  # first packet of the stream
        self._encoder = create_codec(codec)
        # A tuple: the empty one is shared, so a silent tick reads no memory of its own here.
        self._noise = tuple(self._encoder.comfort_noise()) if comfort_noise else ()
        self.ssrc = secrets.randbits(32)
        self._seq = secrets.randbits(16)
        self._ts = secrets.randbits(32)
        self.srtp: SrtpContext | None = None
        self.stats = stats if stats is not None else MediaStats()
        self.payload_octets = 0  # RTP payload sent, for the sender report

        self._comfort_noise = comfort_noise
        self._noise_index = 0
        self._queued_total = 0
        self._consumed_total = 0
        self._play_waiters: deque[tuple[int, asyncio.Future[None]]] = deque()
        self._dtmf_index = 0
        self._dtmf_lock = asyncio.Lock()
        self._clock: MediaClock | None = None
        self._ticker: Ticker | None = None

    @property
    def codec(self) -> Codec:
        """Return the codec we send."""
        return self._encoder.codec

    def set_codec(self, codec: Codec) -> None:
        """Switch the codec we send."""
        self._encoder = create_codec(codec)
        if self._comfort_noise:
            self._noise = tuple(self._encoder.comfort_noise())

    # ---- the clock -------------------------------------------------------------------------

    def start(
        self,
        clock: Timers | MediaClock,
        transport: asyncio.DatagramTransport,
        now: float,
        on_tick: Callable[[float, bytes | None], None] | None = None,
    ) -> None:
        """Start the 20 ms clock at `now`; `on_tick(now, sent_pcm)` runs after each tick's packet.

        `clock` is a MediaClock, or the timers (the event loop) whose shared one to join.
        """
        media_clock = clock if isinstance(clock, MediaClock) else MediaClock.of(clock)
        self._clock = media_clock
        self.transport = transport
        self._on_tick = on_tick
        self._next_tick = media_clock.align(now + FRAME_SECONDS)
        self._ticker = media_clock.add(self._tick, self._next_tick)

    def _tick(self, now: float) -> float | None:
        """Send one packet and run the tick callback; return when the next tick is due."""
        behind = now - self._next_tick
        if behind > _MAX_CATCH_UP_SECONDS:
            # The loop was blocked: jump ahead (timestamps follow real time) instead of bursting.
            skipped = int(behind / FRAME_SECONDS)
            self._next_tick += skipped * FRAME_SECONDS
            self._ts = (self._ts + skipped * FRAME_SAMPLES) & 0xFFFFFFFF
        try:
            self.send_frame()
            on_tick = self._on_tick
            if on_tick is not None:
                on_tick(now, self.sent_pcm)
        except Exception:
            # As a timer callback would: report it, and keep the pace.
            _LOGGER.exception("Media tick failed")
        self._next_tick += FRAME_SECONDS
        return None if self._closed else self._next_tick

    def rtp_timestamp(self, now: float) -> int:
        """Return the RTP timestamp that corresponds to loop time `now` (for sender reports)."""
        elapsed = now - (self._next_tick - FRAME_SECONDS)
        return self._ts + int(elapsed * CLOCK_RATE)

    def close(self) -> None:
        """Stop the clock; pending play_audio calls return and pending DTMF fails."""
        self._closed = True
        if self._ticker is not None:
            self._ticker.cancel()
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

    # ---- what to send ----------------------------------------------------------------------

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
        self._queued = True
        self._out += pcm
        self._queued_total += len(pcm)

    async def play_audio(self, pcm: bytes, sample_rate: int) -> None:
        """Queue audio and wait until all of it has been sent (or cleared, or the sender closed)."""
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
        if self.telephone_event_pt is None:
            raise MediaError("no telephone-event payload type was negotiated")
        clock = self._clock
        if clock is None or self._closed:
            raise MediaError("media session is not running")
        async with self._dtmf_lock:
            for index, digit in enumerate(digits):
                future: asyncio.Future[None] = (
                    asyncio.get_running_loop().create_future()
                )
                self._dtmf_queue.append((event_packets(digit, duration_ms), future))
                self._queued = True
                await future
                self.stats.dtmf_sent += 1
                if gap_ms and index < len(digits) - 1:
                    await sleep(clock.timers, gap_ms / 1000)

    def _next_payload(self) -> tuple[int, int, bool, bytes]:
        """Return (payload type, timestamp, marker, payload) for this tick's packet."""
        self.sent_pcm = None
        current = self._dtmf_current
        if current is None and self._dtmf_queue:
            packets, future = self._dtmf_queue.popleft()
            current = self._dtmf_current = (packets, future, self._ts)
            self._dtmf_index = 0
        te_pt = self.telephone_event_pt
        if current is not None and te_pt is not None:
            packets, future, event_ts = current
            packet = packets[self._dtmf_index]
            self._dtmf_index += 1
            if self._dtmf_index == len(packets):
                self._dtmf_current = None
                if not future.done():
                    future.set_result(None)
            return te_pt, event_ts, packet.marker, packet.payload
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
            self.sent_pcm = chunk
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

    def send_frame(self) -> None:
        """Build, protect and send this tick's RTP packet (or withhold it: nobody latched)."""
        guard = self._guard
        target = guard.latched
        if target is None and not self._wait_for_remote:
            target = guard.advertised
        transport = self.transport
        if target is None or transport is None:
            # No remote proved itself yet: the clock runs, nothing reaches the wire (nor a
            # recording: nobody heard it). Queued audio and DTMF wait, so a greeting starts
            # whole and a stateful encoder (GSM) stays in step with the far end's decoder.
            self._ts = (self._ts + FRAME_SAMPLES) & 0xFFFFFFFF
            self.stats.packets_withheld += 1
            self.sent_pcm = None
            return
        if not self._queued and not self._noise:
            # Nothing queued, no comfort noise (the usual tick): _next_payload's silence.
            self.sent_pcm = None
            marker = self._marker
            self._marker = False
            encoder = self._encoder
            payload_type = encoder.payload_type
            payload = encoder.silence
            timestamp = self._ts
        else:
            payload_type, timestamp, marker, payload = self._next_payload()
            self._queued = not (
                not self._out
                and self._dtmf_current is None
                and not self._dtmf_queue
                and self._out_resampler is None
            )
        self._ts = (self._ts + FRAME_SAMPLES) & 0xFFFFFFFF
        size = len(payload)
        packet = (_PACKETS.get(size) or _packet_struct(size)).pack(
            0x80,
            payload_type | 0x80 if marker else payload_type,
            self._seq,
            timestamp,
            self.ssrc,
            payload,
        )
        self._seq = (self._seq + 1) & 0xFFFF
        if self.srtp is not None:
            packet = self.srtp.protect(packet)
        transport.sendto(packet, target)
        stats = self.stats
        stats.packets_sent += 1
        stats.bytes_sent += len(packet)
        self.payload_octets += size
