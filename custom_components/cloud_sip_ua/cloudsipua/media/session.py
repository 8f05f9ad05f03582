"""The media session: one call's RTP/RTCP endpoint, a facade over its sender, receiver and RTCP."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import logging

from ..exceptions import MediaError  # noqa: TID252  # the library stays relocatable
from ..models import Codec, CryptoEntry  # noqa: TID252  # the library stays relocatable
from .addresses import RemoteAddressPolicy, private_remotes_allowed
from .clock import MediaClock, Timers
from .dtmf import DtmfEvent
from .latching import Address, SourceGuard
from .ports import Endpoint, bind_pair
from .receiver import FrameTap, RtpReceiver
from .reports import RtcpReporter
from .sender import RtpSender
from .srtp import SrtpContext
from .stats import MediaStats, snapshot
from .subscription import DEFAULT_MAX_FRAMES, AudioSubscription

__all__ = ["AudioSubscription", "DtmfEvent", "FrameTap", "MediaSession"]

_LOGGER = logging.getLogger(__name__)


class MediaSession:
    """One call's media: binds an RTP/RTCP port pair and runs a steady 20 ms send/playout clock.

    The work is done by an `RtpSender` (clock, queue, DTMF, encoding), an `RtpReceiver`
    (guard, SRTP, jitter buffer, decoding, fan-out) and an `RtcpReporter`; they share one
    `SourceGuard` and one set of counters.
    """

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
        clock: Timers | MediaClock | None = None,
    ) -> None:
        """Configure the session; `codec` is the one we send (PCMU, PCMA or GSM).

        `clock` paces the session: a MediaClock, or timers (e.g. a ManualClock in tests) whose
        shared MediaClock to join. Default: the running event loop's shared MediaClock, so
        all sessions of a loop are ticked by one timer.
        """
        # With `wait_for_remote` (the default) nothing is sent before the remote party's own
        # packets passed latching, so a forged address cannot aim our stream at a victim; the
        # far end of a test or the emulator, which must speak first, turns it off.
        # `allow_private_remote` None: allowed unless `media_address` (else a specific
        # `bind_host`) is public, so a public endpoint is not aimed at its own network.
        self._bind_host = bind_host
        self._port_range = port_range
        if allow_private_remote is None:
            allow_private_remote = private_remotes_allowed(media_address or bind_host)
        self._policy = RemoteAddressPolicy(allow_private=allow_private_remote)
        self._remote: Address | None = None  # as set_remote was given it
        self._remote_refusal: str | None = None
        self._guard = guard = SourceGuard()
        self._stats = stats = MediaStats()
        self._sender = RtpSender(
            codec,
            guard=guard,
            stats=stats,
            telephone_event_pt=telephone_event_payload_type,
            comfort_noise=comfort_noise,
            wait_for_remote=wait_for_remote,
        )
        self._receiver = RtpReceiver(
            guard=guard,
            stats=stats,
            telephone_event_pt=telephone_event_payload_type,
            inactivity_timeout=inactivity_timeout,
            on_dtmf=on_dtmf,
            on_inactive=on_inactive,
        )
        self._rtcp = RtcpReporter(
            self._sender,
            self._receiver,
            guard=guard,
            stats=stats,
            interval=rtcp_interval,
            wait_for_remote=wait_for_remote,
        )
        self._receiver.on_rtcp = self._rtcp.on_muxed_rtcp
        self._clock = clock
        self._timers: Timers | None = None  # set by start()
        self._transports: tuple[asyncio.DatagramTransport, ...] = ()
        self._local_port = 0
        self._closed = False

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind an even RTP port from the range (RTCP on port + 1) and start the 20 ms clock."""
        if self._closed:
            raise MediaError("media session is closed")
        if self._timers is not None:
            return
        loop = asyncio.get_running_loop()
        clock = self._clock
        media_clock = (
            clock if isinstance(clock, MediaClock) else MediaClock.of(clock or loop)
        )
        rtp_sock, rtcp_sock = bind_pair(self._bind_host, self._port_range)
        self._timers = timers = media_clock.timers
        self._local_port = rtp_sock.getsockname()[1]
        receiver = self._receiver
        rtp_transport, _ = await loop.create_datagram_endpoint(
            lambda: receiver, sock=rtp_sock
        )
        rtcp_transport, _ = await loop.create_datagram_endpoint(
            lambda: Endpoint(self._rtcp.on_rtcp), sock=rtcp_sock
        )
        self._transports = (rtp_transport, rtcp_transport)
        now = timers.time()
        receiver.clock = media_clock.now
        receiver.started_at = now
        self._guard.advertised_at = now  # the remote may have been set before the clock
        # After each packet sent: play out a frame, feed the taps, check inactivity.
        self._sender.start(media_clock, rtp_transport, now, receiver.tick)
        self._rtcp.start(timers, rtp_transport, rtcp_transport, now)

    async def close(self) -> None:
        """Stop the clock, send RTCP BYE, close both sockets and end every subscription."""
        if self._closed:
            return
        self._closed = True
        self._sender.close()
        self._rtcp.close()
        for transport in self._transports:
            transport.close()
        self._receiver.close()
        await asyncio.sleep(0)  # let the transports run connection_lost

    # ---- state -----------------------------------------------------------------------------

    @property
    def local_port(self) -> int:
        """Return the bound RTP port (0 before start)."""
        return self._local_port

    @property
    def codec(self) -> Codec:
        """Return the codec we send."""
        return self._sender.codec

    @property
    def ssrc(self) -> int:
        """Return our SSRC."""
        return self._sender.ssrc

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
        """Return the clock time (the loop's by default) of the last valid RTP packet received."""
        return self._receiver.last_packet_at

    @property
    def stats(self) -> MediaStats:
        """Return a snapshot of the counters (reading it changes nothing)."""
        result = snapshot(self._stats)
        self._receiver.add_stats(result)
        return result

    @property
    def _subscriptions(self) -> list[AudioSubscription]:
        """Return the live subscriptions (tests check that consumers let go)."""
        return self._receiver.subscriptions

    # ---- configuration ---------------------------------------------------------------------

    def set_remote(self, host: str, port: int) -> None:
        """Set the advertised remote RTP address; a new address drops an earlier latch."""
        # An address the policy refuses is neither sent to nor listened to: the call stays
        # silent rather than reflect media at a network it must not reach.
        address = (host, port)
        if self._remote == address:
            return
        self._remote = address
        now = self._timers.time() if self._timers is not None else 0.0
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
        self._sender.set_codec(codec)

    def set_telephone_event_payload_type(self, pt: int | None) -> None:
        """Set the negotiated telephone-event payload type (None: no DTMF events)."""
        self._sender.telephone_event_pt = pt
        self._receiver.telephone_event_pt = pt

    def enable_srtp(self, *, local: CryptoEntry, remote: CryptoEntry) -> None:
        """Protect what we send with `local` and verify what we receive with `remote`."""
        context = SrtpContext(local=local, remote=remote)
        self._sender.srtp = self._receiver.srtp = self._rtcp.srtp = context

    # ---- audio and DTMF --------------------------------------------------------------------

    def enqueue_audio(self, pcm: bytes, sample_rate: int) -> None:
        """Queue 16-bit mono PCM at 8, 16 or 48 kHz to be sent at the 20 ms pace."""
        self._sender.enqueue_audio(pcm, sample_rate)

    async def play_audio(self, pcm: bytes, sample_rate: int) -> None:
        """Queue audio and wait until all of it has been sent (or cleared, or the session closed)."""
        await self._sender.play_audio(pcm, sample_rate)

    def clear_audio(self) -> None:
        """Drop queued outbound audio; pending play_audio calls return."""
        self._sender.clear_audio()

    async def send_dtmf(
        self, digits: str, duration_ms: int = 100, gap_ms: int = 60
    ) -> None:
        """Send digits as RFC 4733 events, one after another with `gap_ms` of audio between."""
        await self._sender.send_dtmf(digits, duration_ms, gap_ms)

    def subscribe(
        self, sample_rate: int = 8000, *, max_frames: int = DEFAULT_MAX_FRAMES
    ) -> AudioSubscription:
        """Return a new stream of decoded 20 ms frames at `sample_rate` (a multiple of 8 kHz).

        A consumer more than `max_frames` behind loses the oldest frames (counted as overruns).
        """
        return self._receiver.subscribe(sample_rate, max_frames=max_frames)

    def add_tap(self, tap: FrameTap) -> Callable[[], None]:
        """Call `tap(received, sent)` every 20 ms with both directions' 8 kHz frames; return a remover.

        `received` is None before the first packet arrived, `sent` is None while nothing plays
        (silence, comfort noise or DTMF goes out). Both belong to the same tick, so a consumer
        such as a call recorder keeps the two directions aligned without buffering.
        """
        return self._receiver.add_tap(tap)
