"""Live call audio as an endless HTTP body: streaming WAV, or MP3 encoded by ffmpeg on the fly."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterable
import contextlib
import logging
import struct
import subprocess

from ..cloudsipua.exceptions import SubscriptionClosedError
from ..cloudsipua.media import AudioSubscription
from ..cloudsipua.media.clock import FRAME_SECONDS, MediaClock, Ticker, Timers
from .mp3_frames import Mp3Frames

_LOGGER = logging.getLogger(__name__)

WAV_RATES = (8000, 16000)
MP3_BITRATE = "48k"
# Bytes read from ffmpeg at a time: one read returns whatever is ready, so this only caps size.
_READ_SIZE = 4096
# The RIFF and data sizes of a stream whose end is unknown (what streaming servers send).
_UNKNOWN_SIZE = 0xFFFFFFFF
# 20 ms frames sent per write. Most of a listener's CPU is the kernel's work for each send(),
# whatever its size (about 19 us on loopback, benchmarks/listen_bench.py), so a write every 40 ms
# instead of 20 nearly halves it; the first frame of a pair waits for the second, 20 ms.
FRAMES_PER_WRITE = 2
# Batches between fresh locks onto the frame clock: a lock taken while the loop ran late would
# hold every later batch back by as much.
_RELOCK_BATCHES = 25


class FrameBatches:
    """Async iterator of a subscription's frames joined `frames` at a time, in order, none lost.

    Frames are pushed by the media clock's ticks. After locking onto a frame as it is pushed, a
    ticker on that clock wakes the writer once per batch, in the same wake-up as the session's
    tick that pushes the batch's last frame and right after it: no timer of its own, and a pair's
    first frame waits 20 ms. A batch that comes out short or long (the stream paused, caught up
    after a stall, or ended) is written as it is and the lock is taken anew, as it is every
    second. Frames already queued when unlocked (ready together) go out at once, in one batch.
    """

    def __init__(
        self,
        subscription: AudioSubscription,
        *,
        frames: int = FRAMES_PER_WRITE,
        clock: MediaClock | Timers | None = None,
    ) -> None:
        """Batch `subscription`'s frames; `clock` is what ticks its session (default: the loop's)."""
        self._subscription = subscription
        self._frames = frames
        self._clock = clock
        self._first: bytes | None = None
        self._ticker: Ticker | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._locked_batches = 0

    def __aiter__(self) -> FrameBatches:
        """Return self."""
        return self

    async def __anext__(self) -> bytes:
        """Return the next batch; end once the subscription is closed and drained."""
        subscription = self._subscription
        while True:
            if self._ticker is None or self._ticker.cancelled:
                # Unlocked: what is queued is late already and goes at once; then wait for the
                # next frame, so the lock is taken just after a tick pushed it.
                if ready := subscription.take_ready():
                    return self._join(ready)
                try:
                    first = await subscription.get()
                except SubscriptionClosedError:
                    raise StopAsyncIteration from None
                if self._frames == 1:
                    return first
                self._lock(first)
            self._waiter = waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                self._waiter = None
            frames = subscription.take_ready()
            if self._first is not None:
                frames.insert(0, self._first)
                self._first = None
            self._locked_batches += 1
            if len(frames) == self._frames and self._locked_batches < _RELOCK_BATCHES:
                return self._join(frames)
            self._unlock()
            if frames:
                return self._join(frames)

    def _lock(self, first: bytes) -> None:
        """Hold the frame just pushed; wake up with the tick that pushes the batch's last one."""
        clock = self._clock
        if not isinstance(clock, MediaClock):
            clock = MediaClock.of(clock or asyncio.get_running_loop())
        self._first = first
        # The tick that pushed `first` is on the clock's grid, a moment ago: the batch's last
        # frame comes frames - 1 ticks later. Half a grid step absorbs that moment.
        due = clock.align(
            clock.time() + (self._frames - 1) * FRAME_SECONDS - clock.resolution / 2
        )
        self._ticker = clock.add(self._on_tick, due)
        self._locked_batches = 0

    def _unlock(self) -> None:
        """Stop the ticker; the next batch takes the lock anew."""
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None

    def _on_tick(self, _now: float) -> float | None:
        """Wake the writer for its batch; stop once the writer is gone."""
        waiter = self._waiter
        if waiter is None:
            if self._subscription.closed:
                return None  # nobody will write again (a writer that returns relocks)
        elif not waiter.done():
            waiter.set_result(None)
        assert self._ticker is not None  # noqa: S101 - it is this ticker's callback
        return self._ticker.due + self._frames * FRAME_SECONDS

    @staticmethod
    def _join(frames: list[bytes]) -> bytes:
        """Join frames into one write."""
        return frames[0] if len(frames) == 1 else b"".join(frames)


def wav_stream_header(sample_rate: int) -> bytes:
    """Return a 16-bit mono WAV header whose sizes say "until the stream ends"."""
    byte_rate = sample_rate * 2
    return (
        b"RIFF"
        + struct.pack("<I", _UNKNOWN_SIZE)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, sample_rate, byte_rate, 2, 16)
        + b"data"
        + struct.pack("<I", _UNKNOWN_SIZE - 36)
    )


def mp3_command(ffmpeg: str, sample_rate: int) -> list[str]:
    """Return the ffmpeg command that turns raw PCM on stdin into a low-delay MP3 stream."""
    return [
        ffmpeg,
        "-hide_banner",
        "-loglevel",
        "error",
        # Raw input needs no probing; every probe byte would be latency.
        "-fflags",
        "+nobuffer",
        "-probesize",
        "32",
        "-analyzeduration",
        "0",
        "-f",
        "s16le",
        "-ar",
        str(sample_rate),
        "-ac",
        "1",
        "-i",
        "pipe:0",
        "-c:a",
        "libmp3lame",
        "-b:a",
        MP3_BITRATE,
        # No Xing/ID3 headers: they describe a finished file, which a live stream never is.
        "-write_xing",
        "0",
        "-id3v2_version",
        "0",
        "-flush_packets",
        "1",
        "-f",
        "mp3",
        "pipe:1",
    ]


async def encode_mp3(
    frames: AsyncIterable[bytes], sample_rate: int, ffmpeg: str
) -> AsyncGenerator[bytes]:
    """Pipe the frames through ffmpeg; yield its MP3 in whole frames as it comes, until the end.

    Each chunk starts at a frame, so a listener may join the stream at any chunk.
    """
    loop = asyncio.get_running_loop()
    # Started in the executor: spawning blocks its caller until the child runs (0.5 ms idle,
    # 3-6 ms on a busy machine, benchmarks/loop_health.py), which must not be the event loop.
    process = await loop.run_in_executor(
        None, spawn_piped, mp3_command(ffmpeg, sample_rate)
    )
    try:
        stdin, stdout = await _connect_pipes(loop, process)
        feeder = asyncio.create_task(_feed(frames, stdin))
        splitter = Mp3Frames()
        try:
            while chunk := await stdout.read(_READ_SIZE):
                if whole := splitter.feed(chunk):
                    yield whole
            await feeder
        finally:
            feeder.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await feeder
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        await loop.run_in_executor(None, process.wait)
        # Closes whatever a transport did not take over (a failed connect).
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                pipe.close()


def spawn_piped(command: list[str]) -> subprocess.Popen[bytes]:
    """Start `command` with pipes to its stdin and from its stdout."""
    return subprocess.Popen(  # noqa: S603 - Home Assistant's own ffmpeg, fixed arguments
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )


async def _connect_pipes(
    loop: asyncio.AbstractEventLoop, process: subprocess.Popen[bytes]
) -> tuple[asyncio.StreamWriter, asyncio.StreamReader]:
    """Wrap the child's stdin and stdout in asyncio streams (non-blocking, on the loop)."""
    assert process.stdin is not None  # noqa: S101 - both pipes were requested
    assert process.stdout is not None  # noqa: S101
    reader = asyncio.StreamReader(limit=_READ_SIZE * 16)
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), process.stdout
    )
    transport, protocol = await loop.connect_write_pipe(
        lambda: asyncio.StreamReaderProtocol(asyncio.StreamReader()), process.stdin
    )
    return asyncio.StreamWriter(transport, protocol, None, loop), reader


async def _feed(frames: AsyncIterable[bytes], stdin: asyncio.StreamWriter) -> None:
    """Copy the frames into ffmpeg, then close its input so it flushes and exits."""
    try:
        async for frame in frames:
            stdin.write(frame)
            await stdin.drain()
    finally:
        stdin.close()
        with contextlib.suppress(ConnectionError):
            await stdin.wait_closed()
