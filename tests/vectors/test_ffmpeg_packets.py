"""RTP and RTCP packets captured from ffmpeg, read by our parsers and our G.711 decoder.

tests/vectors/ffmpeg_pcma.txt was made with tests/vectors/capture_ffmpeg_rtp.py (ffmpeg 5.1
streaming a 1 kHz sine as PCMA, 160 samples a packet, RTCP on the next port).
"""

from __future__ import annotations

from pathlib import Path

from custom_components.cloud_sip_ua.cloudsipua.media.codecs import create_codec
from custom_components.cloud_sip_ua.cloudsipua.media.rtcp import parse_rtcp
from custom_components.cloud_sip_ua.cloudsipua.media.rtp import parse_rtp
from custom_components.cloud_sip_ua.cloudsipua.models import Codec
from tests.audio_check import tone_report

CAPTURE = Path(__file__).parent / "ffmpeg_pcma.txt"


def _datagrams(kind: str) -> list[bytes]:
    """Return the captured datagrams of one kind, in arrival order."""
    return [
        bytes.fromhex(line.split()[1])
        for line in CAPTURE.read_text(encoding="utf-8").splitlines()
        if line.startswith(f"{kind} ")
    ]


def test_ffmpeg_rtp_parses_as_one_continuous_pcma_stream() -> None:
    """Version 2, PT 8, one SSRC, sequence +1 per packet, timestamp + the samples before.

    ffmpeg cuts its 1024-sample frames into packets of at most 160 bytes: 6 x 160 + 64.
    """
    packets = [parse_rtp(data) for data in _datagrams("rtp")]
    assert len(packets) == 50
    assert {p.payload_type for p in packets} == {8}
    assert len({p.ssrc for p in packets}) == 1
    assert [len(p.payload) for p in packets[:7]] == [160] * 6 + [64]
    for before, after in zip(packets, packets[1:], strict=False):
        assert after.sequence == (before.sequence + 1) & 0xFFFF
        assert after.timestamp == (before.timestamp + len(before.payload)) & 0xFFFFFFFF


def test_ffmpeg_audio_decodes_to_its_1_khz_tone() -> None:
    """Our PCMA decoder turns ffmpeg's payloads back into the 1 kHz sine it encoded."""
    decoder = create_codec(Codec.PCMA)
    pcm = b"".join(decoder.decode(parse_rtp(d).payload) for d in _datagrams("rtp"))
    frequency, snr = tone_report(pcm)
    assert abs(frequency - 1000.0) <= 10, frequency
    assert snr >= 30, snr


def test_ffmpeg_rtcp_sender_reports() -> None:
    """Ffmpeg's SRs parse: its SSRC, 0 then 273 packets sent, NTP time moving forward."""
    ssrc = parse_rtp(_datagrams("rtp")[0]).ssrc
    reports = [parse_rtcp(data).reports for data in _datagrams("rtcp")]
    assert [len(r) for r in reports] == [1, 1]
    first, second = reports[0][0], reports[1][0]
    assert first.ssrc == second.ssrc == ssrc
    assert first.sender_info is not None
    assert second.sender_info is not None
    assert (first.sender_info.packet_count, first.sender_info.octet_count) == (0, 0)
    assert (second.sender_info.packet_count, second.sender_info.octet_count) == (
        273,
        39936,
    )
    assert second.sender_info.ntp_timestamp > first.sender_info.ntp_timestamp
    assert first.blocks == second.blocks == ()
