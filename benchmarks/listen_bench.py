"""Benchmark of the listen stream: latency from RTP arrival to bytes leaving, and CPU per listener.

Run: `.venv/bin/python -m benchmarks.listen_bench` from the repository root (loopback only).

A raw UDP sender plays 20 ms PCMA packets (silence with a 200 ms tone burst every second) into
the library's MediaSession; an aiohttp server streams the session's audio with the integration's
own `stream_wav` / `stream_mp3`; HTTP clients detect each burst's onset. Latency is the time from
sending the burst's first RTP packet (loopback: arrival within microseconds) to the client reading
the bytes that carry it. It includes the jitter buffer's playout delay, which is reported too.
CPU is this process's plus ffmpeg's, for a number of listeners, against a baseline in the same
process with the same RTP and no listener.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
import os
import resource
import secrets
import socket
import statistics
import struct
import time

from aiohttp import ClientSession, web
import audioop
import av
import numpy as np

from custom_components.cloud_sip_ua.cloudsipua.media import MediaSession
from custom_components.cloud_sip_ua.cloudsipua.models import Codec
from custom_components.cloud_sip_ua.intercom.listen_stream import stream_mp3, stream_wav

RATE = 16000
BURST_EVERY = 1.0
BURST_SECONDS = 0.2
ONSET_LEVEL = 3000


class RtpSender:
    """Sends PCMA RTP at a steady 20 ms pace: silence, with a tone burst every second."""

    def __init__(self, target: tuple[str, int]) -> None:
        """Open the socket."""
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.setblocking(False)
        self._sock.bind(("127.0.0.1", 0))
        self.address: tuple[str, int] = self._sock.getsockname()
        self._target = target
        self._seq = secrets.randbits(16)
        self._ts = secrets.randbits(32)
        self._ssrc = secrets.randbits(32)
        t = np.arange(160) / 8000
        self._tone = [
            audioop.lin2alaw(
                (np.sin(2 * np.pi * 440 * (t + k * 0.02)) * 16000)
                .astype("<i2")
                .tobytes(),
                2,
            )
            for k in range(int(BURST_SECONDS / 0.02))
        ]
        self._silence = bytes([0xD5]) * 160
        self.burst_sent_at: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start sending."""
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop sending."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._sock.close()

    async def _run(self) -> None:
        """Send one packet per 20 ms, on a drift-free schedule."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        index = 0
        per_burst = int(BURST_EVERY / 0.02)
        while True:
            position = index % per_burst
            in_burst = 10 <= position < 10 + len(self._tone)
            payload = self._tone[position - 10] if in_burst else self._silence
            if position == 10:
                self.burst_sent_at.append(time.perf_counter())
            header = struct.pack("!BBHII", 0x80, 8, self._seq, self._ts, self._ssrc)
            self._sock.sendto(header + payload, self._target)
            self._seq = (self._seq + 1) & 0xFFFF
            self._ts = (self._ts + 160) & 0xFFFFFFFF
            index += 1
            await asyncio.sleep(max(0.0, start + index * 0.02 - loop.time()))


class OnsetListener:
    """Reads a stream and notes when each burst's first loud sample arrived."""

    def __init__(self, fmt: str) -> None:
        """Prepare a decoder for the format."""
        self.fmt = fmt
        self.onsets: list[float] = []
        self._quiet = True
        self._quiet_samples = 0
        self._header = 44 if fmt == "wav" else 0
        self._carry = b""
        self._codec = av.CodecContext.create("mp3", "r") if fmt == "mp3" else None
        self.first_byte_after: float | None = None

    def feed(self, data: bytes, now: float) -> None:
        """Decode what arrived and look for onsets."""
        if self._codec is None:
            if self._header:
                skip = min(self._header, len(data))
                self._header -= skip
                data = data[skip:]
            data = self._carry + data
            usable = len(data) - len(data) % 2
            self._carry = data[usable:]
            self._scan(np.frombuffer(data[:usable], dtype="<i2"), now)
            return
        for packet in self._codec.parse(data):
            for frame in self._codec.decode(packet):
                samples = frame.to_ndarray().reshape(-1)
                if samples.dtype != np.int16:
                    samples = (samples * 32767).astype(np.int16)
                self._scan(samples, now)

    def _scan(self, samples: np.ndarray, now: float) -> None:
        """Note an onset: a loud sample after at least 300 ms of quiet."""
        loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > ONSET_LEVEL)
        if loud.size == 0:
            self._quiet_samples += samples.size
            if self._quiet_samples > 0.3 * RATE:
                self._quiet = True
            return
        if self._quiet:
            self.onsets.append(now)
            self._quiet = False
        self._quiet_samples = samples.size - int(loud[-1]) - 1


async def _serve(session: MediaSession, ffmpeg: str) -> tuple[web.AppRunner, int]:
    """Start the streaming server on an ephemeral loopback port."""

    async def handle(request: web.Request) -> web.StreamResponse:
        fmt = request.match_info["fmt"]
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        subscription = session.subscribe(RATE)
        try:
            if fmt == "mp3":
                await stream_mp3(subscription, RATE, response.write, ffmpeg)
            else:
                await stream_wav(subscription, RATE, response.write)
        except ConnectionError:
            pass
        finally:
            subscription.close()
        return response

    app = web.Application()
    app.router.add_get("/listen.{fmt}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = int(runner.addresses[0][1])
    return runner, port


async def _listen(url: str, listener: OnsetListener, started: float) -> None:
    """Read a stream to its end, feeding the listener."""
    async with ClientSession() as client, client.get(url) as response:
        async for chunk in response.content.iter_any():
            now = time.perf_counter()
            if listener.first_byte_after is None:
                listener.first_byte_after = now - started
            listener.feed(chunk, now)


def _cpu() -> float:
    """Return CPU seconds of this process and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


async def run_case(
    fmt: str | None, listeners: int, seconds: float, ffmpeg: str
) -> dict[str, float]:
    """Stream for `seconds` to `listeners` clients of `fmt` (None: baseline, nobody listens)."""
    session = MediaSession(
        codec=Codec.PCMA, bind_host="127.0.0.1", port_range=(42000, 42999)
    )
    await session.start()
    sender = RtpSender(("127.0.0.1", session.local_port))
    session.set_remote(*sender.address)
    runner, port = await _serve(session, ffmpeg)
    clients: list[OnsetListener] = []
    tasks: list[asyncio.Task[None]] = []
    cpu_before = _cpu()
    sender.start()
    started = time.perf_counter()
    for _ in range(listeners if fmt else 0):
        listener = OnsetListener(fmt or "wav")
        clients.append(listener)
        tasks.append(
            asyncio.create_task(
                _listen(f"http://127.0.0.1:{port}/listen.{fmt}", listener, started)
            )
        )
    await asyncio.sleep(seconds)
    jitter_ms = session.stats.jitter_buffer_ms
    await session.close()  # ends every subscription: the streams end, ffmpeg exits
    await asyncio.gather(*tasks, return_exceptions=True)
    cpu = _cpu() - cpu_before
    await sender.stop()
    await runner.cleanup()
    latencies: list[float] = []
    for listener in clients:
        for sent in sender.burst_sent_at:
            after = [onset for onset in listener.onsets if onset >= sent]
            if after and after[0] - sent < BURST_EVERY / 2:
                latencies.append((after[0] - sent) * 1000)
    first = [c.first_byte_after for c in clients if c.first_byte_after is not None]
    return {
        "cpu_s_per_s": cpu / seconds,
        "latency_median_ms": statistics.median(latencies)
        if latencies
        else float("nan"),
        "latency_p95_ms": float(np.percentile(latencies, 95))
        if latencies
        else float("nan"),
        "bursts_heard": len(latencies),
        "first_byte_ms": max(first) * 1000 if first else float("nan"),
        "jitter_buffer_ms": float(jitter_ms),
    }


async def main(seconds: float, listeners: tuple[int, ...], ffmpeg: str) -> None:
    """Run the baseline and each format with each listener count; print a table."""
    baseline = await run_case(None, 0, seconds, ffmpeg)
    print(
        f"baseline (RTP in, no listener): {baseline['cpu_s_per_s'] * 100:.2f}% of a core"
    )
    print(
        "format listeners  cpu%/listener  ratio/baseline  latency median/p95 ms  first byte ms  bursts"
    )
    for fmt in ("wav", "mp3"):
        for count in listeners:
            result = await run_case(fmt, count, seconds, ffmpeg)
            extra = max(result["cpu_s_per_s"] - baseline["cpu_s_per_s"], 0.0) / count
            ratio = (
                extra / baseline["cpu_s_per_s"]
                if baseline["cpu_s_per_s"]
                else float("nan")
            )
            print(
                f"{fmt:6} {count:9d}  {extra * 100:13.2f}  {ratio:14.2f}  "
                f"{result['latency_median_ms']:8.1f} / {result['latency_p95_ms']:6.1f}  "
                f"{result['first_byte_ms']:13.1f}  {result['bursts_heard']:6d}"
                f"  (jitter buffer {result['jitter_buffer_ms']:.0f} ms)"
            )


def _parse() -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--listeners", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--ffmpeg", default=os.environ.get("FFMPEG", "ffmpeg"))
    return parser.parse_args()


def run(argv_main: Callable[[float, tuple[int, ...], str], object] = main) -> None:
    """Entry point."""
    args = _parse()
    asyncio.run(main(args.seconds, tuple(args.listeners), args.ffmpeg))


if __name__ == "__main__":
    run()
