"""G.711 against the ITU-T G.711 tables, written out as the recommendation's reference algorithm.

The reference below is the table-equivalent code of ITU-T G.711 (and of the G.191 software tool
library's g711.c): segment search by thresholds, 4-bit mantissa, even bits inverted for A-law,
all bits inverted for mu-law. It shares nothing with audioop, which our codec uses.
"""

from __future__ import annotations

import struct

import pytest

from custom_components.cloud_sip_ua.cloudsipua.media.codecs import create_codec
from custom_components.cloud_sip_ua.cloudsipua.models import Codec

# Segment end points of the 13-bit (A-law) and 14-bit (mu-law) magnitudes, from the tables.
_ALAW_SEGMENT_ENDS = (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)
_ULAW_SEGMENT_ENDS = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)
_ULAW_BIAS = 0x21  # 33, in 14-bit units
_ULAW_CLIP = 8159


def _alaw_encode(sample: int) -> int:
    """Return the A-law code of a 16-bit sample (its top 13 bits are used)."""
    value = sample >> 3
    if value >= 0:
        mask = 0xD5
    else:
        mask = 0x55
        value = -value - 1
    segment = next((i for i, end in enumerate(_ALAW_SEGMENT_ENDS) if value <= end), 8)
    if segment >= 8:
        return 0x7F ^ mask
    code = segment << 4
    code |= (value >> 1) & 0x0F if segment < 2 else (value >> segment) & 0x0F
    return code ^ mask


def _alaw_decode(code: int) -> int:
    """Return the 16-bit sample of an A-law code (mid-point of its interval)."""
    code ^= 0x55
    mantissa = (code & 0x0F) << 4
    segment = (code & 0x70) >> 4
    if segment == 0:
        mantissa += 8
    elif segment == 1:
        mantissa += 0x108
    else:
        mantissa = (mantissa + 0x108) << (segment - 1)
    return mantissa if code & 0x80 else -mantissa


def _ulaw_encode(sample: int) -> int:
    """Return the mu-law code of a 16-bit sample (its top 14 bits are used)."""
    value = sample >> 2
    if value < 0:
        value = -value
        mask = 0x7F
    else:
        mask = 0xFF
    value = min(value, _ULAW_CLIP) + _ULAW_BIAS
    segment = next((i for i, end in enumerate(_ULAW_SEGMENT_ENDS) if value <= end), 8)
    if segment >= 8:
        return 0x7F ^ mask
    return ((segment << 4) | ((value >> (segment + 1)) & 0x0F)) ^ mask


def _ulaw_decode(code: int) -> int:
    """Return the 16-bit sample of a mu-law code."""
    code = ~code & 0xFF
    value = (((code & 0x0F) << 3) + 0x84) << ((code & 0x70) >> 4)
    return 0x84 - value if code & 0x80 else value - 0x84


@pytest.mark.parametrize(
    ("codec", "decode"), [(Codec.PCMA, _alaw_decode), (Codec.PCMU, _ulaw_decode)]
)
def test_every_code_decodes_to_the_table_value(codec: Codec, decode: object) -> None:
    """All 256 codes give the G.711 table's sample."""
    ours = create_codec(codec).decode(bytes(range(256)))
    samples = struct.unpack("<256h", ours)
    assert list(samples) == [decode(code) for code in range(256)]  # type: ignore[operator]


@pytest.mark.parametrize(
    ("codec", "encode"), [(Codec.PCMA, _alaw_encode), (Codec.PCMU, _ulaw_encode)]
)
def test_every_sample_encodes_to_the_table_code(codec: Codec, encode: object) -> None:
    """All 65,536 16-bit samples give the G.711 table's code."""
    pcm = struct.pack("<65536h", *range(-32768, 32768))
    expected = bytes(encode(s) for s in range(-32768, 32768))  # type: ignore[operator]
    encoder = create_codec(codec)
    ours = b"".join(encoder.encode(pcm[i : i + 320]) for i in range(0, len(pcm), 320))
    assert ours == expected


def test_well_known_values() -> None:
    """The values every G.711 implementation agrees on: silence and full scale."""
    assert _alaw_encode(0) == 0xD5
    assert _ulaw_encode(0) == 0xFF
    assert _alaw_decode(0xD5) == 8
    assert _alaw_decode(0x2A) == -32256
    assert _ulaw_decode(0x80) == 32124
    assert _ulaw_decode(0x00) == -32124
    assert _ulaw_decode(0x7F) == _ulaw_decode(0xFF) == 0
