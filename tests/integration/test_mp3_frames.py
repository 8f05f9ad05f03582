"""Cutting ffmpeg's MP3 into whole frames: every chunk starts at a frame, nothing is lost."""

from __future__ import annotations

import random
import subprocess

import numpy as np
import pytest

from custom_components.cloud_sip_ua.intercom.listen_stream import mp3_command
from custom_components.cloud_sip_ua.intercom.mp3_frames import Mp3Frames, frame_length


@pytest.fixture(scope="module")
def encoded() -> bytes:
    """Return two seconds of a 440 Hz tone as the listen stream's ffmpeg encodes it."""
    tone = (np.sin(2 * np.pi * 440 * np.arange(32000) / 16000) * 8000).astype("<i2")
    return subprocess.run(  # noqa: S603 - the test's own ffmpeg, fixed arguments
        mp3_command("ffmpeg", 16000),
        input=tone.tobytes(),
        capture_output=True,
        check=True,
    ).stdout


def frames_of(data: bytes) -> list[int]:
    """Return the lengths of the frames that tile `data` from its start (asserting they do)."""
    lengths = []
    at = 0
    while at < len(data):
        length = frame_length(data, at)
        assert length is not None, at
        lengths.append(length)
        at += length
    assert at == len(data)
    return lengths


def test_frame_length_reads_the_listen_streams_frames(encoded: bytes) -> None:
    """16 kHz, 48 kbit/s MPEG-2 Layer III: 216 bytes, 217 with padding."""
    lengths = frames_of(encoded)
    assert len(lengths) >= 50  # 576 samples a frame: about 55 in two seconds
    assert set(lengths) <= {216, 217}


@pytest.mark.parametrize(
    ("header", "length"),
    [
        (b"\xff\xfb\x90\x00", 417),  # MPEG-1, 128 kbit/s, 44.1 kHz
        (b"\xff\xfb\x92\x00", 418),  # ... with padding
        (b"\xff\xf3\x68\x00", 216),  # MPEG-2, 48 kbit/s, 16 kHz (ours)
        (b"\xff\xe3\x18\x00", 72),  # MPEG-2.5, 8 kbit/s, 8 kHz
    ],
)
def test_frame_length_follows_the_standard(header: bytes, length: int) -> None:
    """Lengths as ISO 11172-3 / 13818-3 give them."""
    assert frame_length(header, 0) == length


@pytest.mark.parametrize(
    "header",
    [
        b"\xfe\xfb\x90\x00",  # no sync
        b"\xff\xeb\x90\x00",  # reserved version
        b"\xff\xfd\x90\x00",  # Layer I
        b"\xff\xfb\x00\x00",  # free format
        b"\xff\xfb\xf0\x00",  # bad bitrate index
        b"\xff\xfb\x9c\x00",  # reserved sample rate
        b"\xff\xfb\x90",  # too short
    ],
)
def test_what_is_not_a_layer_iii_header(header: bytes) -> None:
    """Anything else is not a frame start."""
    assert frame_length(header, 0) is None


def test_pieces_of_any_size_come_out_as_whole_frames(encoded: bytes) -> None:
    """Ffmpeg's reads split frames anywhere; each chunk out starts and ends at a frame."""
    rng = random.Random(7)
    splitter = Mp3Frames()
    out = []
    at = 0
    while at < len(encoded):
        size = rng.randint(1, 700)
        if chunk := splitter.feed(encoded[at : at + size]):
            frames_of(chunk)
            out.append(chunk)
        at += size
    assert b"".join(out) == encoded  # the last frame is complete too
    assert splitter.skipped == 0


def test_bytes_between_frames_are_dropped(encoded: bytes) -> None:
    """A tag, garbage or a false sync before or between frames does not reach a listener."""
    first = frame_length(encoded, 0)
    assert first is not None
    splitter = Mp3Frames()
    junk = b"ID3\x04\x00\xff\x00junk\xff"
    out = splitter.feed(junk + encoded[:first] + b"\x00\xff\xfa" + encoded[first:])
    assert out == encoded
    assert splitter.skipped == len(junk) + 3
