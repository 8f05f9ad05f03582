"""Benchmark of the listen streams: CPU per listener, per-frame writes against batched ones, and latency.

Run: `.venv/bin/python -m benchmarks.listen_bench` from the repository root (loopback only;
`--modes` adds `mp3`, `mp3-own`, `wav-own` or `ws-pairs`, `--listeners`, `--seconds` and `--rounds`
size it).

Two processes, so the CPU figures are the server's alone. This process is Home Assistant's side:
the library's MediaSession and an aiohttp server that streams the session's audio with the
integration's own code (the call's `ListenFanout` for WAV and MP3, and the card's `_AudioStream`
on a real ActiveConnection behind Home Assistant's own WebSocket writer), next to copies of the
per-frame writers they replaced (`wav-frame`, `ws-frame`), of the batched writer with a task per
listener that came between (`wav-own`), of an MP3 encoder per listener (`mp3-own`, before the
fan-out), and the card's stream with two frames per event (`ws-pairs`, not used by the
integration). The floors (`floor-frame`, `floor-pair`) write a fixed chunk of one or two frames
straight to every listener's socket every 20 or 40 ms from one timer: what any writer pays the
kernel per write, the least a WAV listener can cost at that pace. A child process plays 20 ms
PCMA RTP (silence with a 200 ms tone burst every 1.02 s) into the session and runs the
listeners, which note when each burst's first loud sample reaches them. Latency is from sending
the burst's first RTP packet (loopback: arrival within microseconds) to that moment; it
includes the jitter buffer's playout delay.

Every round runs each case once: nobody listening (the baseline), then N listeners of each mode
in an order rotated by round. CPU per listener is this process's CPU (plus ffmpeg's) over the
case, less the round's baseline, per listener and second. Ratios (new / old writer) are taken
within a round and summarised over the rounds (median and range), so load from elsewhere on the
machine hits both sides alike.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
from collections.abc import Awaitable, Callable
import contextlib
from functools import partial
import json
import logging
import math
import os
from pathlib import Path
import resource
import secrets
import socket
import statistics
import struct
import sys
import time
from types import SimpleNamespace
from typing import Any, cast

from aiohttp import ClientSession, WSMsgType, web
import audioop
import av
import numpy as np

from custom_components.cloud_sip_ua.cloudsipua.media import (
    AudioSubscription,
    MediaSession,
)
from custom_components.cloud_sip_ua.cloudsipua.models import Codec
from custom_components.cloud_sip_ua.const import SAMPLE_RATE as CARD_RATE
from custom_components.cloud_sip_ua.http.websocket_api import _AudioStream
from custom_components.cloud_sip_ua.intercom.listen_fanout import (
    ListenFanouts,
    http_chunk,
)
from custom_components.cloud_sip_ua.intercom.listen_stream import (
    FrameBatches,
    encode_mp3,
    wav_stream_header,
)
from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.const import FEATURE_COALESCE_MESSAGES
from homeassistant.components.websocket_api.http import WebSocketHandler
from homeassistant.util.async_ import create_eager_task

RATE = 16000
FRAME_SECONDS = 0.02
# 51 frames, an odd number: a burst starts on the first frame of a two-frame write in one
# second and on the second in the next, so the latencies cover both cases.
BURST_EVERY = 1.02
BURST_SECONDS = 0.2
ONSET_LEVEL = 3000
REPO = Path(__file__).resolve().parent.parent


# ---- the writers the integration had before batching (the comparison) --------------------


async def stream_wav_per_frame(
    frames: AudioSubscription,
    sample_rate: int,
    write: Callable[[bytes], Awaitable[None]],
) -> None:
    """Write the header, then each 20 ms frame on its own: the writer before batching."""
    await write(wav_stream_header(sample_rate))
    async for frame in frames:
        await write(frame)


async def stream_wav_own_task(
    frames: AudioSubscription,
    sample_rate: int,
    write: Callable[[bytes], Awaitable[None]],
) -> None:
    """Write the header, then two frames per write from this listener's own task (before the fan-out)."""
    await write(wav_stream_header(sample_rate))
    async for batch in FrameBatches(frames):
        await write(batch)


async def stream_mp3_own_encoder(
    frames: AudioSubscription,
    sample_rate: int,
    write: Callable[[bytes], Awaitable[None]],
    ffmpeg: str,
) -> None:
    """Write this listener's own ffmpeg's MP3 as it comes (before the fan-out)."""
    async with contextlib.aclosing(encode_mp3(frames, sample_rate, ffmpeg)) as chunks:
        async for chunk in chunks:
            await write(chunk)


class PairedAudioStream(_AudioStream):
    """The card's stream with two frames per event (not used: see `_AudioStream`)."""

    frames_per_event = 2


class PerFrameAudioStream(_AudioStream):
    """The card's old stream: one WebSocket event per 20 ms frame."""

    async def run(self) -> None:
        """Forward every frame as its own event; tell the client when the call ends."""
        try:
            async for frame in self._subscription:
                self._connection.send_event(
                    self._msg_id,
                    {"type": "audio", "pcm": base64.b64encode(frame).decode("ascii")},
                )
        finally:
            ended_by_call = not self._stopped
            self._end()
        if ended_by_call:
            self._connection.send_event(self._msg_id, {"type": "end"})


class FloorWriter:
    """A WAV listener's floor: a fixed chunk to every listener's socket, no audio path.

    One timer for all listeners writes `frames` 20 ms frames of silence to each every
    `frames` x 20 ms, straight to the transports: what any writer must pay the kernel per write.
    It holds a subscription of the call (not read), so the call's resampling is paid as in the
    real modes, and it ends with the call.
    """

    def __init__(self, session: MediaSession, frames: int) -> None:
        """Start writing for `session`'s call."""
        self._subscription = session.subscribe(RATE)
        self._chunk = http_chunk(bytes(2 * RATE // 50 * frames))
        self._period = frames * FRAME_SECONDS
        self.transports: list[asyncio.WriteTransport] = []
        self.ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        while not self._subscription.closed:
            due += self._period
            await asyncio.sleep(due - loop.time())
            self._subscription.take_ready()
            for transport in self.transports:
                if not transport.is_closing():
                    transport.write(self._chunk)
        self.ended.set_result(None)


# ---- the server (this process) -------------------------------------------------------------


class _Hass:
    """What Home Assistant's WebSocket writer and ActiveConnection use of `hass`."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.data: dict[str, Any] = {"websocket_api": {}}


class Server:
    """Streams the current MediaSession's audio to listeners, counting the live handlers."""

    def __init__(self, ffmpeg: str) -> None:
        """Prepare; `start` opens the port."""
        self.ffmpeg = ffmpeg
        self.session: MediaSession | None = None
        self.active = 0
        self.idle = asyncio.Event()
        self.idle.set()
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._hass = _Hass()
        self._fanouts = ListenFanouts()
        self._floors: dict[str, FloorWriter] = {}

    async def start(self) -> None:
        """Listen on an ephemeral loopback port."""
        app = web.Application()
        app.router.add_get("/http/{mode}", self._http)
        app.router.add_get("/ws/{mode}", self._ws)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Close the port."""
        if self._runner is not None:
            await self._runner.cleanup()

    @contextlib.contextmanager
    def _live(self) -> Any:
        """Count a handler as live while it streams."""
        self.active += 1
        self.idle.clear()
        try:
            yield
        finally:
            self.active -= 1
            if not self.active:
                self.idle.set()

    async def _http(self, request: web.Request) -> web.StreamResponse:
        """Stream WAV or MP3 with the writer the mode names."""
        mode = request.match_info["mode"]
        assert self.session is not None  # noqa: S101 - a case is running
        with self._live():
            response = web.StreamResponse()
            response.enable_chunked_encoding()
            await response.prepare(request)
            try:
                if mode.startswith("floor"):
                    await response.write(wav_stream_header(RATE))
                    floor = self._floors.get(mode)
                    if floor is None or floor.ended.done():
                        floor = self._floors[mode] = FloorWriter(
                            self.session, 1 if mode == "floor-frame" else 2
                        )
                    assert request.transport is not None  # noqa: S101
                    floor.transports.append(request.transport)
                    await floor.ended
                    ended = True
                elif mode in {"wav", "mp3"}:
                    # As the listen view: headers (and the WAV header), then the fan-out.
                    await response.write(
                        wav_stream_header(RATE) if mode == "wav" else b""
                    )
                    assert request.transport is not None  # noqa: S101
                    listener = self._fanouts.join(
                        self.session, mode, RATE, request.transport, self.ffmpeg
                    )
                    try:
                        ended = await listener.done
                    finally:
                        listener.leave()
                else:
                    subscription = self.session.subscribe(RATE)
                    try:
                        if mode == "mp3-own":
                            await stream_mp3_own_encoder(
                                subscription, RATE, response.write, self.ffmpeg
                            )
                        elif mode == "wav-frame":
                            await stream_wav_per_frame(
                                subscription, RATE, response.write
                            )
                        else:
                            await stream_wav_own_task(
                                subscription, RATE, response.write
                            )
                    finally:
                        subscription.close()
                    ended = True
                if ended:
                    await response.write_eof()
            except ConnectionError:
                pass
            return response

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        """Stream to a WebSocket through Home Assistant's own writer and ActiveConnection."""
        mode = request.match_info["mode"]
        assert self.session is not None  # noqa: S101 - a case is running
        hass = cast("Any", self._hass)
        with self._live():
            # Home Assistant's handler minus the auth phase: the same queue, coalescing and writer.
            handler = WebSocketHandler(hass, request)
            wsock = handler._wsock  # noqa: SLF001
            await wsock.prepare(request)
            writer = wsock._writer  # noqa: SLF001
            assert writer is not None  # noqa: S101
            handler._async_increase_writer_limit(writer)  # noqa: SLF001
            user = cast("Any", SimpleNamespace(name="bench", id="bench"))
            connection = ActiveConnection(
                handler._logger,  # noqa: SLF001
                hass,
                handler._send_message,  # noqa: SLF001
                user,
                None,
                None,
            )
            # The frontend asks for coalescing; Home Assistant then joins queued messages.
            connection.set_supported_features({FEATURE_COALESCE_MESSAGES: 1})
            handler._writer_task = writer_task = create_eager_task(  # noqa: SLF001
                handler._writer(  # noqa: SLF001
                    connection, partial(writer.send_frame, opcode=WSMsgType.TEXT)
                )
            )
            stream_class = {
                "ws-frame": PerFrameAudioStream,
                "ws-pairs": PairedAudioStream,
            }.get(mode, _AudioStream)
            stream = stream_class(
                connection, 1, self.session.subscribe(CARD_RATE), None
            )
            try:
                await stream.run()
                while handler._message_queue:  # noqa: SLF001 - let "end" go out
                    await asyncio.sleep(0.001)
            finally:
                stream.stop()
                writer_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await writer_task
                await wsock.close()
            return wsock


def _cpu() -> float:
    """Return CPU seconds of this process and its finished children (ffmpeg)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class Client:
    """The child process that sends RTP and listens, driven by JSON lines."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        """Wrap the child."""
        self._process = process

    @classmethod
    async def spawn(cls) -> Client:
        """Start the child process."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "benchmarks.listen_bench",
            "--client",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=REPO,
        )
        return cls(process)

    async def ask(self, message: dict[str, Any]) -> dict[str, Any]:
        """Send one command; return the child's answer."""
        assert self._process.stdin is not None  # noqa: S101
        assert self._process.stdout is not None  # noqa: S101
        self._process.stdin.write(json.dumps(message).encode() + b"\n")
        await self._process.stdin.drain()
        line = await self._process.stdout.readline()
        if not line:
            raise RuntimeError("listener process died")
        answer: dict[str, Any] = json.loads(line)
        return answer

    async def close(self) -> None:
        """Stop the child."""
        assert self._process.stdin is not None  # noqa: S101
        self._process.stdin.close()
        await self._process.wait()


async def run_case(
    server: Server, client: Client, mode: str | None, listeners: int, seconds: float
) -> dict[str, Any]:
    """Stream for `seconds` to `listeners` clients of `mode` (None: nobody listens)."""
    session = MediaSession(
        codec=Codec.PCMA, bind_host="127.0.0.1", port_range=(42000, 42999)
    )
    await session.start()
    server.session = session
    answer = await client.ask({"cmd": "prepare", "rtp_port": session.local_port})
    session.set_remote(*answer["rtp_addr"])
    path = ""
    if mode is not None:
        path = f"/ws/{mode}" if mode.startswith("ws") else f"/http/{mode}"
    cpu_before = _cpu()
    started = time.perf_counter()
    result = await client.ask(
        {
            "cmd": "run",
            "url": f"http://127.0.0.1:{server.port}{path}" if mode else None,
            "kind": "ws" if mode and mode.startswith("ws") else "http",
            "fmt": "mp3" if mode and mode.startswith("mp3") else "wav",
            "listeners": listeners if mode else 0,
            "seconds": seconds,
        }
    )
    await session.close()  # ends every subscription: the streams end, ffmpeg exits
    await server.idle.wait()
    cpu = _cpu() - cpu_before
    elapsed = time.perf_counter() - started
    result.update(await client.ask({"cmd": "collect"}))
    result["cpu_s_per_s"] = cpu / elapsed
    result["jitter_buffer_ms"] = float(session.stats.jitter_buffer_ms)
    server.session = None
    return result


# ---- the listeners (child process) ---------------------------------------------------------


class RtpSender:
    """Sends PCMA RTP at a steady 20 ms pace: silence, with a tone burst every 1.02 s."""

    def __init__(self) -> None:
        """Open the socket."""
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.setblocking(False)
        self._sock.bind(("127.0.0.1", 0))
        self.address: tuple[str, int] = self._sock.getsockname()
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

    def start(self, target: tuple[str, int]) -> None:
        """Start sending."""
        self._task = asyncio.create_task(self._run(target))

    async def stop(self) -> None:
        """Stop sending."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._sock.close()

    async def _run(self, target: tuple[str, int]) -> None:
        """Send one packet per 20 ms, on a drift-free schedule."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        index = 0
        per_burst = round(BURST_EVERY / 0.02)
        while True:
            position = index % per_burst
            in_burst = 10 <= position < 10 + len(self._tone)
            payload = self._tone[position - 10] if in_burst else self._silence
            if position == 10:
                self.burst_sent_at.append(time.perf_counter())
            header = struct.pack("!BBHII", 0x80, 8, self._seq, self._ts, self._ssrc)
            self._sock.sendto(header + payload, target)
            self._seq = (self._seq + 1) & 0xFFFF
            self._ts = (self._ts + 160) & 0xFFFFFFFF
            index += 1
            await asyncio.sleep(max(0.0, start + index * 0.02 - loop.time()))


class OnsetListener:
    """Reads a stream and notes when each burst's first loud sample arrived."""

    def __init__(self, fmt: str, rate: int) -> None:
        """Prepare a decoder for the format."""
        self.rate = rate
        self.onsets: list[float] = []
        self.reads = 0
        self._quiet = True
        self._quiet_samples = 0
        self._header = 44 if fmt == "wav" else 0
        self._carry = b""
        self._codec = av.CodecContext.create("mp3", "r") if fmt == "mp3" else None
        self.first_byte_at: float | None = None

    def feed(self, data: bytes, now: float) -> None:
        """Decode what arrived and look for onsets."""
        self.reads += 1
        if self.first_byte_at is None:
            self.first_byte_at = now
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
            if self._quiet_samples > 0.3 * self.rate:
                self._quiet = True
            return
        if self._quiet:
            self.onsets.append(now)
            self._quiet = False
        self._quiet_samples = samples.size - int(loud[-1]) - 1


async def _listen_http(url: str, listener: OnsetListener) -> None:
    """Read a WAV or MP3 stream to its end."""
    async with ClientSession() as client, client.get(url) as response:
        async for chunk in response.content.iter_any():
            listener.feed(chunk, time.perf_counter())


async def _listen_ws(url: str, listener: OnsetListener) -> None:
    """Read the card's audio events to the end event, as the card does."""
    async with ClientSession() as client, client.ws_connect(url) as ws:
        async for message in ws:
            if message.type is not WSMsgType.TEXT:
                break
            now = time.perf_counter()
            data = json.loads(message.data)
            for item in data if isinstance(data, list) else [data]:
                event = item["event"]
                if event["type"] == "end":
                    return
                listener.feed(base64.b64decode(event["pcm"]), now)


async def client_main() -> None:
    """Serve the parent's commands (JSON lines on stdin), one case at a time."""
    loop = asyncio.get_running_loop()
    sender: RtpSender | None = None
    listeners: list[OnsetListener] = []
    tasks: list[asyncio.Task[None]] = []
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        command = json.loads(line)
        answer: dict[str, Any] = {}
        if command["cmd"] == "prepare":
            sender = RtpSender()
            answer["rtp_addr"] = sender.address
            rtp_port = command["rtp_port"]
        elif command["cmd"] == "run":
            assert sender is not None  # noqa: S101
            sender.start(("127.0.0.1", rtp_port))
            rate = CARD_RATE if command["kind"] == "ws" else RATE
            listeners = [
                OnsetListener(command["fmt"], rate) for _ in range(command["listeners"])
            ]
            listen = _listen_ws if command["kind"] == "ws" else _listen_http
            started = time.perf_counter()
            tasks = [
                asyncio.create_task(listen(command["url"], listener))
                for listener in listeners
            ]
            await asyncio.sleep(command["seconds"])
            await sender.stop()
            first = [
                (item.first_byte_at - started) * 1000
                for item in listeners
                if item.first_byte_at is not None
            ]
            answer["first_byte_ms"] = max(first) if first else math.nan
        elif command["cmd"] == "collect":
            assert sender is not None  # noqa: S101
            await asyncio.gather(*tasks, return_exceptions=True)
            latencies: list[float] = []
            for listener in listeners:
                for sent in sender.burst_sent_at:
                    after = [onset for onset in listener.onsets if onset >= sent]
                    if after and after[0] - sent < BURST_EVERY / 2:
                        latencies.append((after[0] - sent) * 1000)
            answer["latencies_ms"] = latencies
            answer["bursts_sent"] = len(sender.burst_sent_at) * len(listeners)
            answer["reads"] = sum(item.reads for item in listeners)
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


# ---- the report ----------------------------------------------------------------------------


def _spread(values: list[float]) -> str:
    """Median with the range over the rounds."""
    if not values:
        return "n/a"
    return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


async def main(
    seconds: float, listeners: int, rounds: int, modes: list[str], ffmpeg: str
) -> None:
    """Run every case once per round in a rotated order; print per-case figures and ratios."""
    server = Server(ffmpeg)
    await server.start()
    client = await Client.spawn()
    per_listener: dict[str, list[float]] = {mode: [] for mode in modes}
    latencies: dict[str, list[float]] = {mode: [] for mode in modes}
    heard: dict[str, list[int]] = {mode: [0, 0] for mode in modes}
    reads: dict[str, list[float]] = {mode: [] for mode in modes}
    first_byte: dict[str, list[float]] = {mode: [] for mode in modes}
    baselines: list[float] = []
    jitter: list[float] = []
    try:
        for round_index in range(rounds):
            shift = round_index % len(modes)
            order = modes[shift:] + modes[:shift]
            # The baseline of the round first, then the listening cases.
            figures: dict[str | None, dict[str, Any]] = {}
            for mode in [None, *order]:
                figures[mode] = await run_case(server, client, mode, listeners, seconds)
            base = figures[None]["cpu_s_per_s"]
            baselines.append(base)
            jitter.extend(result["jitter_buffer_ms"] for result in figures.values())
            for mode in modes:
                result = figures[mode]
                per_listener[mode].append(
                    (result["cpu_s_per_s"] - base) / listeners * 100
                )
                latencies[mode].extend(result["latencies_ms"])
                heard[mode][0] += len(result["latencies_ms"])
                heard[mode][1] += result["bursts_sent"]
                reads[mode].append(result["reads"] / listeners / seconds)
                first_byte[mode].append(result["first_byte_ms"])
            print(
                f"round {round_index + 1}: baseline {base * 100:.2f}%  "
                + "  ".join(f"{mode} {per_listener[mode][-1]:.3f}%" for mode in modes),
                flush=True,
            )
    finally:
        await client.close()
        await server.stop()
    print(
        f"\n{listeners} listeners x {seconds:.0f} s, {rounds} rounds; baseline (RTP in, nobody "
        f"listening) {statistics.median(baselines) * 100:.2f}% of a core, jitter buffer "
        f"{statistics.median(jitter):.0f} ms"
    )
    print(
        "case      CPU % of a core per listener  reads/s  latency ms: median  mean   p99"
        "  bursts heard  first byte ms"
    )
    for mode in modes:
        lat = latencies[mode] or [math.nan]
        print(
            f"{mode:9} {_spread(per_listener[mode]):28}  {statistics.median(reads[mode]):7.1f}"
            f"  {statistics.median(lat):18.1f}  {statistics.fmean(lat):4.1f}"
            f"  {float(np.percentile(lat, 99)):4.1f}  {heard[mode][0]:6}/{heard[mode][1]}"
            f"  {statistics.median(first_byte[mode]):13.1f}"
        )
    for new, old in (
        ("wav", "wav-frame"),
        ("wav", "wav-own"),
        ("wav-own", "wav-frame"),
        ("floor-pair", "floor-frame"),
        ("wav", "floor-pair"),
        ("wav-frame", "floor-frame"),
        ("mp3", "mp3-own"),
        ("ws", "ws-frame"),
        ("ws-pairs", "ws-frame"),
    ):
        if new in per_listener and old in per_listener:
            ratios = [
                a / b for a, b in zip(per_listener[new], per_listener[old], strict=True)
            ]
            print(f"ratio {new} / {old}: {_spread(ratios)}")


def _parse() -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--listeners", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--modes",
        nargs="+",
        default=["wav-frame", "wav", "floor-frame", "floor-pair", "ws-frame", "ws"],
        help="wav-frame, wav-own, wav, floor-frame, floor-pair, ws-frame, ws, ws-pairs, mp3,"
        " mp3-own",
    )
    parser.add_argument("--ffmpeg", default=os.environ.get("FFMPEG", "ffmpeg"))
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def run() -> None:
    """Entry point."""
    args = _parse()
    logging.basicConfig(level=logging.WARNING)
    if args.client:
        asyncio.run(client_main())
        return
    asyncio.run(
        main(args.seconds, args.listeners, args.rounds, args.modes, args.ffmpeg)
    )


if __name__ == "__main__":
    run()
