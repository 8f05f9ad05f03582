"""The far end's RTP endpoint: aiortc's packets, libsrtp through pylibsrtp, a 20 ms send clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
from dataclasses import dataclass
import secrets
import socket

from aiortc.rtp import RtpPacket
import pylibsrtp

from custom_components.cloud_sip_ua.cloudsipua.models import Codec, CryptoEntry

from .errors import DtmfUnavailableError, EndpointError
from .sdes import SUITES, key_and_salt
from .telephone_events import DigitDetector, EventPacket, event_packets
from .voice import FRAME_SAMPLES, PAYLOAD_TYPES, Decoders, encoder

FRAME_BYTES = FRAME_SAMPLES * 2
FRAME_SECONDS = 0.02
type Address = tuple[str, int]


@dataclass(slots=True)
class PartyStats:
    """What the far end sent and received."""

    packets_sent: int = 0
    bytes_sent: int = 0
    packets_received: int = 0
    bytes_received: int = 0
    # RFC 3550 A.3: packets expected from the sequence numbers seen, less those received.
    lost: int = 0
    malformed_packets: int = 0
    foreign_packets: int = 0
    srtp_auth_failures: int = 0
    srtp_replays: int = 0
    unknown_payload_packets: int = 0
    rtcp_packets_received: int = 0
    dtmf_sent: int = 0
    dtmf_received: int = 0


class _Socket(asyncio.DatagramProtocol):
    """Hands datagrams to a callback."""

    def __init__(self, receive: Callable[[bytes, Address], None]) -> None:
        self._receive = receive

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self._receive(data, addr)

    def error_received(self, exc: Exception) -> None:
        """Ignore ICMP errors: the device may not listen yet."""


def _protocol_factory(
    receive: Callable[[bytes, Address], None],
) -> Callable[[], _Socket]:
    """Return a protocol factory that hands datagrams to `receive`."""
    return lambda: _Socket(receive)


def _srtp(entry: CryptoEntry, ssrc_type: int) -> pylibsrtp.Session:
    """Return a libsrtp session keyed with an SDES entry."""
    profile = getattr(pylibsrtp.Policy, SUITES[entry.suite.upper()])
    policy = pylibsrtp.Policy(
        key=key_and_salt(entry), ssrc_type=ssrc_type, srtp_profile=profile
    )
    return pylibsrtp.Session(policy=policy)


class RtpEndpoint:
    """Sends 20 ms frames (audio, silence or DTMF) once connected; decodes what arrives."""

    def __init__(
        self,
        *,
        codec: Codec,
        host: str,
        port_range: tuple[int, int],
        telephone_event_payload_type: int | None,
        on_audio: Callable[[bytes], None],
        on_digit: Callable[[str], None],
        now: Callable[[], float] | None = None,
    ) -> None:
        """Prepare; nothing is bound until start(); packets are timed by `now` (or the loop)."""
        self.host = host
        self.stats = PartyStats()
        self.last_packet_at: float | None = None
        self._now = now
        self._port_range = port_range
        self._te_pt = telephone_event_payload_type
        self._on_audio = on_audio
        self._on_digit = on_digit
        self._transports: list[asyncio.DatagramTransport] = []
        self._port = 0
        self._remote: Address | None = None
        self._encode = encoder(codec)
        self._payload_type = PAYLOAD_TYPES[codec]
        self._decoders = Decoders()
        self._detector = DigitDetector()
        self._tx: pylibsrtp.Session | None = None
        self._rx: pylibsrtp.Session | None = None
        self._ssrc = secrets.randbits(32)
        self._seq = secrets.randbits(16)
        self._ts = secrets.randbits(32)
        self._first = True
        self._event_ts = 0
        self._rx_ssrc: int | None = None
        self._base = 0
        self._highest: int | None = None
        self._received = 0
        self.outgoing = bytearray()
        self._events: list[tuple[EventPacket, int, asyncio.Future[None] | None]] = []
        self._clock: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        """Return the RTP port (0 before start)."""
        return self._port

    async def start(self) -> None:
        """Bind an even RTP port and the RTCP port above it."""
        loop = asyncio.get_running_loop()
        low, high = self._port_range
        for port in range(low + (low & 1), high, 2):
            try:
                rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                rtp.bind((self.host, port))
                rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                try:
                    rtcp.bind((self.host, port + 1))
                except OSError:
                    rtp.close()
                    rtcp.close()
                    continue
            except OSError:
                rtp.close()
                continue
            for sock, receive in ((rtp, self._on_rtp), (rtcp, self._on_rtcp)):
                transport, _ = await loop.create_datagram_endpoint(
                    _protocol_factory(receive), sock=sock
                )
                self._transports.append(transport)
            self._port = port
            return
        raise EndpointError(f"no free RTP port pair in {low}-{high}")

    def connect(self, host: str, port: int) -> None:
        """Send to the device from now on (the far end speaks first)."""
        self._remote = (host, port)
        if self._clock is None:
            self._clock = asyncio.get_running_loop().create_task(self._run_clock())

    def set_codec(self, codec: Codec) -> None:
        """Send with another codec from the next frame on."""
        self._encode = encoder(codec)
        self._payload_type = PAYLOAD_TYPES[codec]

    def set_telephone_event_payload_type(self, payload_type: int | None) -> None:
        """Use the negotiated RFC 4733 payload type."""
        self._te_pt = payload_type

    def enable_srtp(self, *, local: CryptoEntry, remote: CryptoEntry) -> None:
        """Protect what we send with `local`; unprotect what arrives with `remote`."""
        self._tx = _srtp(local, pylibsrtp.Policy.SSRC_ANY_OUTBOUND)
        self._rx = _srtp(remote, pylibsrtp.Policy.SSRC_ANY_INBOUND)

    async def send_dtmf(self, digits: str, duration_ms: int) -> None:
        """Queue the digits' events and wait until they are sent, 40 ms apart."""
        if self._te_pt is None:
            raise DtmfUnavailableError("no telephone-event payload type was negotiated")
        loop = asyncio.get_running_loop()
        for digit in digits:
            packets = event_packets(digit, duration_ms)
            done: asyncio.Future[None] = loop.create_future()
            self._events += [
                (packet, index, done if index == len(packets) - 1 else None)
                for index, packet in enumerate(packets)
            ]
            await done
            self.stats.dtmf_sent += 1
            await asyncio.sleep(0.04)

    async def close(self) -> None:
        """Stop the clock and release the ports."""
        if self._clock is not None:
            self._clock.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._clock
            self._clock = None
        for transport in self._transports:
            transport.close()
        self._transports.clear()
        for _, _, done in self._events:
            if done is not None and not done.done():
                done.cancel()
        self._events.clear()

    # ---- sending

    async def _run_clock(self) -> None:
        """Send one packet every 20 ms, on a schedule that does not drift."""
        loop = asyncio.get_running_loop()
        next_tick = loop.time()
        while True:
            self._send_frame()
            next_tick += FRAME_SECONDS
            await asyncio.sleep(max(0.0, next_tick - loop.time()))

    def _send_frame(self) -> None:
        """Send this tick's packet: a DTMF event, else audio, else silence."""
        if self._events and self._te_pt is not None:
            packet, index, done = self._events.pop(0)
            if index == 0:
                self._event_ts = self._ts
            self._send(self._te_pt, self._event_ts, packet.marker, packet.payload)
            if done is not None and not done.done():
                done.set_result(None)
        else:
            chunk = bytes(self.outgoing[:FRAME_BYTES]).ljust(FRAME_BYTES, b"\0")
            del self.outgoing[:FRAME_BYTES]
            self._send(self._payload_type, self._ts, self._first, self._encode(chunk))
            self._first = False
        self._ts = (self._ts + FRAME_SAMPLES) & 0xFFFFFFFF

    def _send(
        self, payload_type: int, timestamp: int, marker: bool, payload: bytes
    ) -> None:
        """Build, protect and send one packet."""
        if self._remote is None or not self._transports:
            return
        packet = RtpPacket(
            payload_type=payload_type,
            marker=int(marker),
            sequence_number=self._seq,
            timestamp=timestamp,
            ssrc=self._ssrc,
            payload=payload,
        ).serialize()
        self._seq = (self._seq + 1) & 0xFFFF
        if self._tx is not None:
            packet = self._tx.protect(packet)
        self._transports[0].sendto(packet, self._remote)
        self.stats.packets_sent += 1
        self.stats.bytes_sent += len(packet)

    # ---- receiving

    def _on_rtp(self, data: bytes, addr: Address) -> None:
        """Check, unprotect, parse and dispatch one datagram."""
        stats = self.stats
        if self._remote is not None and addr[0] != self._remote[0]:
            stats.foreign_packets += 1
            return
        if self._rx is not None:
            try:
                data = self._rx.unprotect(data)
            except pylibsrtp.Error as err:
                if "replay" in str(err):
                    stats.srtp_replays += 1
                else:
                    stats.srtp_auth_failures += 1
                return
        try:
            packet = RtpPacket.parse(data)
        except ValueError:
            stats.malformed_packets += 1
            return
        stats.packets_received += 1
        stats.bytes_received += len(data)
        self._count_loss(packet.ssrc, packet.sequence_number)
        self.last_packet_at = (
            self._now() if self._now is not None else asyncio.get_running_loop().time()
        )
        if packet.payload_type == self._te_pt:
            if (
                digit := self._detector.feed(packet.timestamp, packet.payload)
            ) is not None:
                stats.dtmf_received += 1
                self._on_digit(digit)
            return
        pcm = self._decoders.decode(packet.payload_type, packet.payload)
        if pcm is None:
            stats.unknown_payload_packets += 1
            return
        self._on_audio(pcm)

    def _count_loss(self, ssrc: int, sequence: int) -> None:
        """Track the extended highest sequence number of the current source."""
        if ssrc != self._rx_ssrc or self._highest is None:
            self._rx_ssrc, self._base, self._highest, self._received = (
                ssrc,
                sequence,
                sequence,
                0,
            )
        else:
            delta = (sequence - self._highest) & 0xFFFF
            if 0 < delta < 0x8000:
                self._highest += delta
        self._received += 1
        self.stats.lost = max(0, self._highest - self._base + 1 - self._received)

    def _on_rtcp(self, data: bytes, addr: Address) -> None:
        """Count RTCP; the far end does not act on it."""
        self.stats.rtcp_packets_received += 1
