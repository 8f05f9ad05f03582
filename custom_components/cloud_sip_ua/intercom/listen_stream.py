"""Live call audio as an endless HTTP body: streaming WAV, or MP3 encoded by ffmpeg on the fly."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Awaitable, Callable
import contextlib
import logging
import struct

_LOGGER = logging.getLogger(__name__)

WAV_RATES = (8000, 16000)
MP3_BITRATE = "48k"
# Bytes read from ffmpeg at a time: one read returns whatever is ready, so this only caps size.
_READ_SIZE = 4096
# The RIFF and data sizes of a stream whose end is unknown (what streaming servers send).
_UNKNOWN_SIZE = 0xFFFFFFFF

type Write = Callable[[bytes], Awaitable[None]]


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


async def stream_wav(
    frames: AsyncIterable[bytes], sample_rate: int, write: Write
) -> None:
    """Write the header at once, then every PCM frame as it arrives, until `frames` ends."""
    await write(wav_stream_header(sample_rate))
    async for frame in frames:
        await write(frame)


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


async def stream_mp3(
    frames: AsyncIterable[bytes], sample_rate: int, write: Write, ffmpeg: str
) -> None:
    """Pipe the frames through ffmpeg and write its MP3 output as it comes, until `frames` ends."""
    process = await asyncio.create_subprocess_exec(
        *mp3_command(ffmpeg, sample_rate),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdin is not None  # noqa: S101 - both pipes were requested
    assert process.stdout is not None  # noqa: S101
    feeder = asyncio.create_task(_feed(frames, process.stdin))
    try:
        while chunk := await process.stdout.read(_READ_SIZE):
            await write(chunk)
        await feeder
    finally:
        feeder.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await feeder
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        await process.wait()


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
