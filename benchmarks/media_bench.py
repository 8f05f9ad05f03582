"""Benchmark of the RTP media stack: per-packet cost, concurrent sessions, resampler quality.

Run: .venv/bin/python benchmarks/media_bench.py [--quick]
Every figure is measured side by side with its baseline in this same process. The baseline
of the concurrent sessions is bare asyncio: per session a UDP socket that counts what arrives
and sends a fixed 172-byte datagram every 20 ms, at the same phases as the media sessions.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from dataclasses import dataclass
import fractions
from functools import partial
import gc
import math
import os
from pathlib import Path
import statistics
import sys
import time
from typing import Any

import audioop
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from custom_components.cloud_sip_ua.cloudsipua.media import (  # noqa: E402
    MediaSession,
    generate_crypto,
)

try:  # absent before the shared clock: the benchmark still runs an older tree
    from custom_components.cloud_sip_ua.cloudsipua.media.clock import MediaClock
except ImportError:  # pragma: no cover
    MediaClock = None  # type: ignore[assignment,misc]
from custom_components.cloud_sip_ua.cloudsipua.media.resample import Resampler, resample  # noqa: E402
from custom_components.cloud_sip_ua.cloudsipua.media.rtp import build_rtp  # noqa: E402
from custom_components.cloud_sip_ua.cloudsipua.media.srtp import SrtpContext  # noqa: E402
from custom_components.cloud_sip_ua.cloudsipua.models import Codec  # noqa: E402

try:  # aiortc comes with requirements_test.txt (the emulator's far end uses it)
    from aiortc.codecs.g711 import PcmaDecoder, PcmaEncoder
    from aiortc.jitterbuffer import JitterFrame
    from aiortc.rtp import RtpPacket as AiortcRtpPacket
    from av import AudioFrame

    HAVE_AIORTC = True
except ImportError:
    HAVE_AIORTC = False

PACKETS = 20_000
HOST = "127.0.0.1"
PORTS = (40000, 49999)


def per_call_us(func: Callable[[], Any], repeat: int) -> float:
    """Return the mean time of `func` in microseconds (GC paused, best of three runs)."""
    best = float("inf")
    gc.disable()
    try:
        for _ in range(3):
            start = time.perf_counter()
            for _ in range(repeat):
                func()
            best = min(best, (time.perf_counter() - start) / repeat * 1e6)
    finally:
        gc.enable()
    return best


def rtp_stream(count: int, srtp: SrtpContext | None = None) -> list[bytes]:
    """Return `count` consecutive 20 ms PCMA packets of a tone, SRTP-protected if asked."""
    t = np.arange(160) / 8000
    payload = audioop.lin2alaw(
        (8000 * np.sin(2 * np.pi * 1000 * t)).astype("<i2").tobytes(), 2
    )
    packets = [
        build_rtp(8, i & 0xFFFF, (i * 160) & 0xFFFFFFFF, 0x1234, payload)
        for i in range(count)
    ]
    if srtp is not None:
        packets = [srtp.protect(packet) for packet in packets]
    return packets


class _Counter(asyncio.DatagramProtocol):
    """The floor: an asyncio protocol that only counts datagrams."""

    def __init__(self) -> None:
        self.count = 0

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.count += 1


def _advertise(session: MediaSession, address: tuple[str, int]) -> None:
    """Tell a session the sender's address, as an answer names the remote party."""
    session.set_remote(*address)


async def _blast(
    packets: list[bytes],
    target: tuple[str, int],
    received: Callable[[], int],
    on_bound: Callable[[tuple[str, int]], None] | None = None,
) -> float:
    """Send packets over loopback in bursts the socket buffer holds; return us per packet."""
    # `on_bound` learns the sender's address first: a session must be told whom to accept.
    loop = asyncio.get_running_loop()
    sender, _ = await loop.create_datagram_endpoint(
        asyncio.DatagramProtocol, local_addr=(HOST, 0)
    )
    if on_bound is not None:
        on_bound(sender.get_extra_info("sockname")[:2])
    start_count = received()
    start = time.perf_counter()
    for offset in range(0, len(packets), 100):
        for packet in packets[offset : offset + 100]:
            sender.sendto(packet, target)
        while received() - start_count < min(offset + 100, len(packets)) - 2:
            await asyncio.sleep(0)
            if time.perf_counter() - start > 30:
                break
    elapsed = time.perf_counter() - start
    sender.close()
    return elapsed / len(packets) * 1e6


async def receive_path() -> dict[str, float]:
    """Measure the receive path in-process and over a real socket, against the bare floor."""
    results: dict[str, float] = {}
    loop = asyncio.get_running_loop()
    floor_transport, floor = await loop.create_datagram_endpoint(
        _Counter, local_addr=(HOST, 0)
    )
    plain = rtp_stream(PACKETS)
    results["floor: bare asyncio UDP receive (socket, incl. send)"] = await _blast(
        plain, floor_transport.get_extra_info("sockname"), lambda: floor.count
    )
    floor_transport.close()
    for label, secure in (("plain", False), ("SRTP", True)):
        session = MediaSession(
            codec=Codec.PCMA, bind_host=HOST, port_range=PORTS, inactivity_timeout=None
        )
        await session.start()
        packets = plain
        if secure:
            theirs, ours = generate_crypto(), generate_crypto()
            session.enable_srtp(local=ours, remote=theirs)
            packets = rtp_stream(PACKETS, SrtpContext(local=theirs, remote=ours))

        def accepted(session: MediaSession = session) -> int:
            return session._stats.packets_received  # noqa: SLF001  # cheap, unlike .stats

        # Only the advertised address is accepted: advertise the sender, as an answer would.
        results[f"ours {label}: socket receive (incl. send)"] = await _blast(
            packets,
            (HOST, session.local_port),
            accepted,
            partial(_advertise, session),
        )
        await session.close()
        # Pure processing: parse, SRTP, stats, jitter buffer put, decode; one playout per packet.
        session = MediaSession(
            codec=Codec.PCMA, bind_host=HOST, port_range=PORTS, inactivity_timeout=None
        )
        await session.start()
        if secure:
            session.enable_srtp(local=ours, remote=theirs)
            packets = rtp_stream(PACKETS, SrtpContext(local=theirs, remote=ours))
        source = (HOST, 9)
        session.set_remote(*source)
        handler = session._receiver.on_rtp  # noqa: SLF001
        pull = session._receiver.jitter.pull  # noqa: SLF001
        iterator = iter(packets)

        def one(
            handler: Any = handler,
            pull: Any = pull,
            iterator: Any = iterator,
            source: tuple[str, int] = source,
        ) -> None:
            handler(next(iterator), source)
            pull()

        results[
            f"ours {label}: parse+{'SRTP+' if secure else ''}jitter+decode (no socket)"
        ] = per_call_us(one, PACKETS // 3 - 10)
        stats = session.stats
        assert stats.packets_received > 0 and stats.malformed_packets == 0, stats
        await session.close()
    if not HAVE_AIORTC:
        results["aiortc: not installed"] = float("nan")
    else:
        decoder = PcmaDecoder()
        iterator = iter(plain * 3)

        def aiortc_one() -> None:
            packet = AiortcRtpPacket.parse(next(iterator))
            decoder.decode(JitterFrame(packet.payload, packet.timestamp))

        results["aiortc: RtpPacket.parse + PcmaDecoder (no socket)"] = per_call_us(
            aiortc_one, PACKETS - 10
        )
    return results


async def send_path() -> dict[str, float]:
    """Measure the send path (encode, pack, SRTP, sendto) against a bare sendto."""
    results: dict[str, float] = {}
    loop = asyncio.get_running_loop()
    sink, _ = await loop.create_datagram_endpoint(
        asyncio.DatagramProtocol, local_addr=(HOST, 0)
    )
    target = sink.get_extra_info("sockname")
    packet = rtp_stream(1)[0]
    results["floor: bare transport.sendto of a 172-byte packet"] = per_call_us(
        partial(sink.sendto, packet, target), 5000
    )
    for label, secure in (("plain", False), ("SRTP", True)):
        # Sending before the sink spoke (as the far end does): the cost of the send path.
        session = MediaSession(
            codec=Codec.PCMA,
            bind_host=HOST,
            port_range=PORTS,
            inactivity_timeout=None,
            wait_for_remote=False,
        )
        await session.start()
        session.set_remote(*target)
        if secure:
            session.enable_srtp(local=generate_crypto(), remote=generate_crypto())
        session.enqueue_audio(bytes(320 * 20_000), 8000)
        results[
            f"ours {label}: take 20 ms, encode, pack, {'SRTP, ' if secure else ''}sendto"
        ] = per_call_us(session._sender.send_frame, 5000)  # noqa: SLF001
        await session.close()
        await asyncio.sleep(0.05)  # let the sink drain
    if not HAVE_AIORTC:
        results["aiortc: not installed"] = float("nan")
    else:
        encoder = PcmaEncoder()
        pcm = np.zeros((1, 160), dtype=np.int16)
        state = {"pts": 0}

        def aiortc_one() -> None:
            frame = AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
            frame.sample_rate = 8000
            frame.pts = state["pts"]
            frame.time_base = fractions.Fraction(1, 8000)
            state["pts"] += 160
            payloads, timestamp = encoder.encode(frame)
            for payload in payloads:
                rtp = AiortcRtpPacket(
                    payload_type=8, sequence_number=1, timestamp=timestamp, ssrc=1
                )
                rtp.payload = payload
                sink.sendto(rtp.serialize(), target)

        results["aiortc: PcmaEncoder + RtpPacket.serialize + sendto"] = per_call_us(
            aiortc_one, 3000
        )
    sink.close()
    return results


class _BarePeer(asyncio.DatagramProtocol):
    """The floor of a session: a socket that sends 172 bytes every 20 ms and counts what arrives.

    Per packet it does only what any endpoint must: asyncio hands it a datagram
    (`datagram_received` counts it), and a timer makes it send a fixed 172-byte datagram
    (`transport.sendto`) to its pair every 20 ms. No parsing, no checks, no audio.
    """

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.target: tuple[str, int] | None = None
        self.sent = 0
        self.received = 0
        self._handle: asyncio.TimerHandle | None = None
        self._ticker: Any = None
        self._next = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.DatagramTransport)
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received += 1

    def start(self, loop: asyncio.AbstractEventLoop, due: float) -> None:
        """Send at `due` and every 20 ms after it, on a timer of its own (plain asyncio)."""
        self._next = due
        self._handle = loop.call_at(due, self._tick, loop)

    def start_on(self, clock: Any, due: float) -> None:
        """Send at `due` and every 20 ms after it, ticked by a shared MediaClock."""
        self._next = due
        self._ticker = clock.add(self._clock_tick, due)

    def _send(self) -> None:
        assert self.transport is not None and self.target is not None
        self.transport.sendto(_BARE_PACKET, self.target)
        self.sent += 1
        self._next += 0.02

    def _tick(self, loop: asyncio.AbstractEventLoop) -> None:
        self._send()
        self._handle = loop.call_at(self._next, self._tick, loop)

    def _clock_tick(self, _now: float) -> float:
        self._send()
        return self._next

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        if self._ticker is not None:
            self._ticker.cancel()
        if self.transport is not None:
            self.transport.close()


_BARE_PACKET = bytes(172)


class _LagProbe:
    """Measures how late a 20 ms timer fires: a stalled loop shows here before CPU does."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.lags: list[float] = []
        self._next = loop.time() + 0.02
        self._handle = loop.call_at(self._next, self._tick)

    def _tick(self) -> None:
        self.lags.append(self._loop.time() - self._next)
        self._next += 0.02
        self._handle = self._loop.call_at(self._next, self._tick)

    def close(self) -> tuple[float, float]:
        """Stop; return the 99th percentile and the largest lateness in milliseconds."""
        self._handle.cancel()
        lags = sorted(self.lags) or [0.0]
        return lags[int(len(lags) * 0.99)] * 1000, lags[-1] * 1000


@dataclass(frozen=True, slots=True)
class Run:
    """One concurrency run's figures."""

    count: int
    loss: float
    cpu: float
    rate: float
    lag_p99: float
    lag_max: float
    wakeups: float

    @property
    def cpu_per_session(self) -> float:
        """Return CPU % of one core per session."""
        return self.cpu / self.count

    @property
    def verdict(self) -> str:
        """Tell a held pace from a CPU limit and from a scheduling stall."""
        if held(self.loss, self.rate):
            return "held"
        if self.cpu >= 90:
            return "CPU limit"
        return "stall" if self.lag_max > 100 else "loss"


async def _measure(
    count: int,
    seconds: float,
    totals: Callable[[], tuple[int, int, int]],
    wakeups: Callable[[], int],
) -> Run:
    """Measure pace, loss, CPU and timer lateness over `seconds` after a warm-up."""
    loop = asyncio.get_running_loop()
    gc.collect()  # before the warm-up: a collection stalls every timer
    await asyncio.sleep(1.0)  # warm up
    sent0, received0, lost0 = totals()
    wake0 = wakeups()
    probe = _LagProbe(loop)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.sleep(seconds)
    wall = time.perf_counter() - wall0
    cpu = (time.process_time() - cpu0) / wall * 100
    lag_p99, lag_max = probe.close()
    sent1, received1, lost1 = totals()
    received = received1 - received0
    lost = max(lost1 - lost0, 0)  # bare: packets in flight at the start are not lost
    expected = max(received + lost, 1)
    return Run(
        count,
        lost / expected * 100,
        cpu,
        (sent1 - sent0) / wall / count,
        lag_p99,
        lag_max,
        (wakeups() - wake0) / wall,
    )


async def _run_bare(count: int, seconds: float, phases: list[float], timer: str) -> Run:
    """Run `count` bare asyncio sessions in pairs: the floor a media session is compared with.

    Session i sends at the same phase of the 20 ms frame (and so on the same 1 ms grid step)
    as media session i did, so both sets wake the loop equally often and batch equally; the
    bare sessions' timers are their own (`timer` "own", plain asyncio) or one MediaClock
    ("clock").
    """
    loop = asyncio.get_running_loop()
    peers: list[_BarePeer] = []
    for _ in range(count // 2):
        a = await open_bare(loop)
        b = await open_bare(loop)
        assert a.transport is not None and b.transport is not None
        a.target = b.transport.get_extra_info("sockname")[:2]
        b.target = a.transport.get_extra_info("sockname")[:2]
        peers += [a, b]
    clock = MediaClock(loop) if timer == "clock" and MediaClock is not None else None
    start = loop.time() + 0.02
    for peer, phase in zip(peers, phases, strict=True):
        # The same phase, in the future.
        due = phase + math.ceil((start - phase) / 0.02) * 0.02
        if clock is None:
            peer.start(loop, due)
        else:
            peer.start_on(clock, due)

    def totals() -> tuple[int, int, int]:
        sent = sum(peer.sent for peer in peers)
        received = sum(peer.received for peer in peers)
        return sent, received, max(sent - received, 0)

    run = await _measure(
        count, seconds, totals, (lambda: clock.wakeups) if clock else lambda: 0
    )
    for peer in peers:
        peer.close()
    await asyncio.sleep(0.05)
    return run


async def open_bare(loop: asyncio.AbstractEventLoop) -> _BarePeer:
    """Bind one bare peer on loopback."""
    _transport, peer = await loop.create_datagram_endpoint(
        _BarePeer, local_addr=(HOST, 0)
    )
    return peer


RESOLUTION: list[float | None] = [None]  # the shared clock's grid (--resolution)
# The bare floor's timers (--bare-timers).
_BARE_TIMERS = {
    "own": "one loop.call_at per session, as plain asyncio",
    "clock": "one shared MediaClock, as the media sessions",
}


async def _run_sessions(
    count: int, seconds: float, clock: str
) -> tuple[Run, list[float]]:
    """Run `count` media sessions in pairs (`clock`: "shared" timer or one "own" per session).

    Return the figures and each session's next send time (its phase, for the bare run).
    """
    loop = asyncio.get_running_loop()
    sessions = []
    clocks: list[Any] = []

    def session_clock() -> dict[str, Any]:
        if clock == "default" or MediaClock is None:
            return {}
        if clock == "shared":
            if not clocks:
                grid = RESOLUTION[0]
                clocks.append(
                    MediaClock(loop)
                    if grid is None
                    else MediaClock(loop, resolution=grid)
                )
            return {"clock": clocks[0]}
        clocks.append(MediaClock(loop))  # one timer handle per session, as before
        return {"clock": clocks[-1]}

    for _ in range(count // 2):
        a = MediaSession(
            codec=Codec.PCMA,
            bind_host=HOST,
            port_range=PORTS,
            inactivity_timeout=None,
            **session_clock(),
        )
        b = MediaSession(  # the far end, which speaks first
            codec=Codec.PCMU,
            bind_host=HOST,
            port_range=PORTS,
            inactivity_timeout=None,
            wait_for_remote=False,
            **session_clock(),
        )
        await a.start()
        await b.start()
        a.set_remote(HOST, b.local_port)
        b.set_remote(HOST, a.local_port)
        sessions += [a, b]
    for session in sessions:
        session.subscribe()  # consumers are not read: overruns are cheap and bounded

    def totals() -> tuple[int, int, int]:
        snapshots = [session.stats for session in sessions]
        return (
            sum(stats.packets_sent for stats in snapshots),
            sum(stats.packets_received for stats in snapshots),
            # RFC 3550: sequence gaps, timing-proof
            sum(stats.lost for stats in snapshots),
        )

    def wakeups() -> int:
        if clock == "default" and MediaClock is not None:
            return MediaClock.of(loop).wakeups
        return sum(each.wakeups for each in clocks)

    run = await _measure(count, seconds, totals, wakeups)
    phases = [session._sender._next_tick for session in sessions]  # noqa: SLF001
    for session in sessions:
        await session.close()
    return run, phases


def held(loss: float, rate: float) -> bool:
    """Tell whether a run kept its pace (>= 99 % of 50 pps) with under 0.1 % loss."""
    return loss < 0.1 and rate >= 49.5


async def concurrency(
    counts: tuple[int, ...], seconds: float, clock: str, bare_timer: str, rounds: int
) -> list[list[tuple[Run, Run]]]:
    """Run each count as media then bare sessions, `rounds` times in turn; stop when one fails.

    Interleaving spreads drifts of the machine (other load, frequency) over both kinds, and
    the spread of the per-round ratios shows how far one run may stray.
    """
    results = []
    for count in counts:
        pairs = []
        for _ in range(rounds):
            media, phases = await _run_sessions(count, seconds, clock)
            bare = await _run_bare(count, seconds, phases, bare_timer)
            pairs.append((bare, media))
        results.append(pairs)
        if not all(held(media.loss, media.rate) for _bare, media in pairs) or any(
            media.cpu > 95 for _bare, media in pairs
        ):
            break
    return results


def ratio(bare: Run, media: Run) -> float:
    """Return a round's CPU per media session over the bare floor's."""
    return media.cpu_per_session / max(bare.cpu_per_session, 1e-9)


def print_concurrency(
    counts: tuple[int, ...], seconds: float, clock: str, bare_timer: str, rounds: int
) -> None:
    """Print the concurrent-sessions table: every round, then each count's summary."""
    print(
        "\nConcurrent sessions over loopback (pairs, each session 50 pps out and 50 pps in),"
        f" media clock: {clock}, bare timers: {bare_timer},"
        f" {rounds} rounds of {seconds:g} s per count; load average {os.getloadavg()[0]:.2f}"
    )
    print(
        f"  {'sessions':>8} {'round':>5} {'kind':>6} {'loss %':>7} {'CPU %':>6} {'CPU/s %':>8}"
        f" {'x bare':>7} {'pps/s':>6} {'lag p99':>8} {'lag max':>8} {'wake/s':>7}  verdict"
    )
    results = asyncio.run(concurrency(counts, seconds, clock, bare_timer, rounds))
    for pairs in results:
        for number, (bare, media) in enumerate(pairs, 1):
            for kind, run in (("media", media), ("bare", bare)):
                print(
                    f"  {run.count:>8} {number:>5} {kind:>6} {run.loss:>7.3f} {run.cpu:>6.1f}"
                    f" {run.cpu_per_session:>8.3f} {ratio(bare, run):>7.2f} {run.rate:>6.1f}"
                    f" {run.lag_p99:>8.1f} {run.lag_max:>8.1f} {run.wakeups:>7.0f}"
                    f"  {run.verdict}"
                )
    print(
        "  summary per count (x bare of each round: median, min-max; held in how many rounds)"
    )
    kept = []
    for pairs in results:
        ratios = sorted(ratio(bare, media) for bare, media in pairs)
        held_rounds = sum(held(media.loss, media.rate) for _bare, media in pairs)
        count = pairs[0][1].count
        if held_rounds == len(pairs):
            kept.append(count)
        print(
            f"  {count:>8} sessions: x bare median {statistics.median(ratios):.2f},"
            f" range {ratios[0]:.2f}-{ratios[-1]:.2f} over {len(pairs)} rounds;"
            f" {'held' if held_rounds == len(pairs) else 'NOT held'}"
            f" ({held_rounds}/{len(pairs)} rounds held)"
        )
    searched_to = results[-1][0][1].count if results else 0
    print(
        "  largest count held in every round (< 0.1 % loss, pace >= 49.5 pps):"
        f" {max(kept) if kept else 0}"
        f"{' (search bound reached)' if kept and kept[-1] == searched_to else ''}"
    )
    print(
        "  (rounds: per count a media run then a bare run, in turn; CPU/s: % of one core per"
        " session; x bare: that over the bare asyncio floor of the same round and count (bare"
        " rows: 1.00); lag: lateness of a 20 ms probe timer in ms; verdict: held, CPU limit"
        " (CPU >= 90 %), stall (pace lost, lag > 100 ms, CPU to spare) or loss)\n"
        "  (bare: per session one asyncio UDP socket whose datagram_received counts, and a"
        " timer that sends a fixed 172-byte datagram to its pair every 20 ms, at the phase"
        " the media session of the same index had in the round's media run; its timers:"
        f" {_BARE_TIMERS[bare_timer]})"
    )


def resampler_quality() -> list[tuple[str, float, float, float, float, float, float]]:
    """Compare passband SNR, stop-band rejection and CPU with audioop.ratecv."""

    def tone(freq: float, rate: int, seconds: float = 1.0) -> bytes:
        t = np.arange(int(rate * seconds)) / rate
        return (12000 * np.sin(2 * np.pi * freq * t)).astype("<i2").tobytes()

    def snr(pcm: bytes, rate: int, freq: float) -> float:
        x = np.frombuffer(pcm, dtype="<i2").astype(np.float64)[rate // 10 : -rate // 10]
        spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
        band = np.abs(np.fft.rfftfreq(len(x), 1 / rate) - freq) <= 10
        return float(
            10 * np.log10(spectrum[band].sum() / max(spectrum[~band].sum(), 1e-9))
        )

    def level(pcm: bytes) -> float:
        x = np.frombuffer(pcm, dtype="<i2").astype(np.float64)[500:-500]
        return float(
            20 * np.log10(max(np.sqrt(np.mean(x**2)), 0.5))
        )  # 0.5 LSB: 16-bit floor

    rows = []
    for in_rate, out_rate in (
        (8000, 16000),
        (8000, 48000),
        (16000, 8000),
        (48000, 8000),
        (48000, 16000),
    ):
        pcm = tone(1000, in_rate)
        ours = resample(pcm, in_rate, out_rate)
        theirs = audioop.ratecv(pcm, 2, 1, in_rate, out_rate, None)[0]
        if out_rate < in_rate:
            alias = tone(out_rate * 0.75, in_rate)  # above the new Nyquist frequency
        else:
            alias = tone(in_rate * 0.45, in_rate)  # images appear at in_rate - f
        if out_rate < in_rate:
            rej_ours = level(alias) - level(resample(alias, in_rate, out_rate))
            rej_theirs = level(alias) - level(
                audioop.ratecv(alias, 2, 1, in_rate, out_rate, None)[0]
            )
        else:
            image = in_rate - in_rate * 0.45

            def image_rejection(
                out: bytes,
                rate: int = out_rate,
                image: float = image,
                tone_hz: float = in_rate * 0.45,
            ) -> float:
                x = np.frombuffer(out, dtype="<i2").astype(np.float64)
                spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
                freqs = np.fft.rfftfreq(len(x), 1 / rate)
                wanted = spectrum[np.abs(freqs - tone_hz) <= 10].max()
                unwanted = spectrum[np.abs(freqs - image) <= 10].max()
                return float(20 * np.log10(wanted / max(unwanted, 1e-9)))

            rej_ours = image_rejection(resample(alias, in_rate, out_rate))
            rej_theirs = image_rejection(
                audioop.ratecv(alias, 2, 1, in_rate, out_rate, None)[0]
            )
        bulk_ours = per_call_us(partial(resample, pcm, in_rate, out_rate), 30)
        bulk_theirs = per_call_us(
            partial(audioop.ratecv, pcm, 2, 1, in_rate, out_rate, None), 30
        )
        frame = pcm[: in_rate // 50 * 2]
        streaming = Resampler(in_rate, out_rate, compensate_delay=False)
        frame_ours = per_call_us(partial(streaming.process, frame), 2000)
        state: list[Any] = [None]

        def ratecv_frame(
            f: bytes = frame, i: int = in_rate, o: int = out_rate, st: list[Any] = state
        ) -> None:
            st[0] = audioop.ratecv(f, 2, 1, i, o, st[0])[1]

        frame_theirs = per_call_us(ratecv_frame, 2000)
        rows.append(
            (
                f"{in_rate // 1000}k->{out_rate // 1000}k",
                snr(ours, out_rate, 1000),
                snr(theirs, out_rate, 1000),
                rej_ours,
                rej_theirs,
                bulk_ours / bulk_theirs,
                frame_ours / frame_theirs,
            )
        )
    return rows


def main() -> None:
    """Run every section and print tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="shorter concurrency search (up to 200 sessions, at most 2 rounds)",
    )
    parser.add_argument(
        "--sessions",
        type=int,
        nargs="+",
        help="session counts to run (default: 50 100 200, or up to 1000 without --quick)",
    )
    parser.add_argument(
        "--clock",
        choices=("default", "shared", "own"),
        default="default",
        help="media clock of the sessions: the loop's shared one (default), one made for the"
        " run (shared), or one timer per session (own, as before the shared clock)",
    )
    parser.add_argument(
        "--resolution",
        type=float,
        help="grid of the shared clock in seconds (with --clock shared)",
    )
    parser.add_argument(
        "--bare-timers",
        choices=tuple(_BARE_TIMERS),
        default="own",
        help="timers of the bare floor: one loop.call_at per session (own, plain asyncio) or"
        " one shared MediaClock (clock, isolating the per-packet work)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="media and bare runs per session count, in turn (default 5)",
    )
    parser.add_argument(
        "--round-seconds",
        type=float,
        default=3.0,
        help="measured seconds of each run, after 1 s of warm-up (default 3)",
    )
    parser.add_argument(
        "--only-concurrency",
        action="store_true",
        help="run only the concurrent-sessions section",
    )
    args = parser.parse_args()
    RESOLUTION[0] = args.resolution
    print(
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, one event loop (one core)\n"
    )
    counts = tuple(
        args.sessions
        or ((50, 100, 200) if args.quick else (50, 100, 200, 300, 500, 700, 1000))
    )
    if args.rounds < 1 or args.round_seconds <= 0:
        parser.error("--rounds must be at least 1 and --round-seconds positive")
    rounds = min(args.rounds, 2) if args.quick else args.rounds
    concurrency_args = (
        counts,
        args.round_seconds,
        args.clock,
        args.bare_timers,
        rounds,
    )
    if args.only_concurrency:
        print_concurrency(*concurrency_args)
        return

    print("Receive path, microseconds per packet (PCMA 20 ms, 172 bytes)")
    for label, value in asyncio.run(receive_path()).items():
        print(f"  {label:<62} {value:8.2f}")
    print("\nSend path, microseconds per packet")
    for label, value in asyncio.run(send_path()).items():
        print(f"  {label:<62} {value:8.2f}")

    print_concurrency(*concurrency_args)

    print(
        "\nResampler vs audioop.ratecv (SNR of a 1 kHz tone; rejection of an alias/image tone)"
    )
    print(
        f"  {'':<9} {'SNR ours':>9} {'ratecv':>7} {'rej ours':>9} {'ratecv':>7} {'CPU x 1s':>9} {'x 20ms':>7}"
    )
    for name, snr_o, snr_t, rej_o, rej_t, bulk, frame in resampler_quality():
        print(
            f"  {name:<9} {snr_o:>9.1f} {snr_t:>7.1f} {rej_o:>9.1f} {rej_t:>7.1f} {bulk:>9.2f} {frame:>7.2f}"
        )
    print(
        "  (dB; rejection of 90+ dB means the tone fell below 16-bit quantisation; CPU = ours/ratecv)"
    )


if __name__ == "__main__":
    main()
