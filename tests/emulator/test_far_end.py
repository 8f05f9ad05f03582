"""The emulator's far end stands on code we did not write, and handles what a peer may send."""

from __future__ import annotations

import ast
import base64
from pathlib import Path
import socket

from aiortc.rtp import RtpPacket
import pylibsrtp
import pytest

from custom_components.cloud_sip_ua.cloudsipua.models import Codec, CryptoEntry
from emulator.far_end import voice
from emulator.far_end.endpoint import RtpEndpoint
from emulator.far_end.errors import (
    CryptoKeyError,
    DtmfUnavailableError,
    EndpointError,
    VoiceUnavailableError,
)
from emulator.far_end.sdes import answer, key_and_salt, new_crypto
from emulator.far_end.telephone_events import DigitDetector, event_packets
from tests.waiting import wait_until

EMULATOR = Path(__file__).parent.parent.parent / "emulator"


def test_the_emulator_never_imports_our_media_stack() -> None:
    """No module of emulator/ imports anything under cloudsipua.media."""
    offenders = []
    for path in EMULATOR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            offenders += [f"{path.name}: {n}" for n in names if "cloudsipua.media" in n]
    assert offenders == []


def test_sdes_keys() -> None:
    """Fresh keys are 30 bytes; answers keep tag and suite; bad entries are refused."""
    entry = new_crypto(7, "AES_CM_128_HMAC_SHA1_32")
    assert len(key_and_salt(entry)) == 30
    bad = [
        CryptoEntry("F8_128_HMAC_SHA1_80", 1, entry.config),
        CryptoEntry("AES_CM_128_HMAC_SHA1_80", 1, "uri:http://x"),
        CryptoEntry("AES_CM_128_HMAC_SHA1_80", 1, "inline:%%%"),
        CryptoEntry(
            "AES_CM_128_HMAC_SHA1_80", 1, "inline:" + base64.b64encode(b"x").decode()
        ),
    ]
    for entry_ in bad:
        with pytest.raises(CryptoKeyError):
            key_and_salt(entry_)
    taken = answer([*bad, entry])
    assert taken is not None
    assert taken[0] is entry
    assert (taken[1].tag, taken[1].suite) == (7, "AES_CM_128_HMAC_SHA1_32")
    assert answer(bad) is None


def test_digit_detector() -> None:
    """One digit per event however many end packets; short or non-digit payloads are ignored."""
    detector = DigitDetector()
    packets = event_packets("#", 60)
    assert [detector.feed(100, p.payload) for p in packets] == [
        None,
        None,
        "#",
        None,
        None,
    ]
    assert detector.feed(200, b"\x01") is None
    assert detector.feed(300, bytes.fromhex("108a0320")) is None


def test_gsm_needs_libgsm(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without libgsm a GSM call is refused with a clear error, G.711 still works."""
    monkeypatch.setattr(voice, "_LIBGSM", None)
    with pytest.raises(VoiceUnavailableError):
        voice.encoder(Codec.GSM)
    assert (
        voice.Decoders().decode(8, b"\xd5" * 160) == b"\x08\x00" * 160
    )  # A-law "zero"
    assert voice.Decoders().decode(96, b"x") is None


def test_gsm_bad_frames_play_as_silence() -> None:
    """A frame without the GSM signature decodes to 160 silent samples."""
    pcm = voice.Decoders().decode(3, bytes(33))
    assert pcm == bytes(320)


async def test_no_free_port_pair() -> None:
    """A range with no free pair is an EndpointError."""
    blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    blocker.bind(("127.0.0.1", 0))
    port = blocker.getsockname()[1] & ~1
    blocker.close()
    holders = []
    for p in (port, port + 1):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind(("127.0.0.1", p))
        except OSError:
            sock.close()
            pytest.skip("port taken meanwhile")
        holders.append(sock)
    endpoint = _endpoint((port, port + 1))
    with pytest.raises(EndpointError):
        await endpoint.start()
    for sock in holders:
        sock.close()


def _endpoint(port_range: tuple[int, int] = (47000, 47999)) -> RtpEndpoint:
    heard: list[bytes] = []
    return RtpEndpoint(
        codec=Codec.PCMA,
        host="127.0.0.1",
        port_range=port_range,
        telephone_event_payload_type=None,
        on_audio=heard.append,
        on_digit=lambda digit: None,
    )


async def test_hostile_packets_are_counted() -> None:
    """Foreign, malformed, forged SRTP, replayed, unknown and RTCP packets are each counted."""
    endpoint = _endpoint()
    await endpoint.start()
    device = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    device.bind(("127.0.0.1", 0))
    stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    stranger.bind(("127.0.0.2", 0))
    endpoint.connect("127.0.0.1", device.getsockname()[1])
    ours, theirs = new_crypto(), new_crypto()
    endpoint.enable_srtp(local=ours, remote=theirs)
    policy = pylibsrtp.Policy(
        key=key_and_salt(theirs),
        ssrc_type=pylibsrtp.Policy.SSRC_ANY_OUTBOUND,
        srtp_profile=pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80,
    )
    sender = pylibsrtp.Session(policy=policy)
    target = ("127.0.0.1", endpoint.port)

    def rtp(seq: int, pt: int = 8) -> bytes:
        return RtpPacket(
            payload_type=pt, sequence_number=seq, ssrc=9, payload=b"\xd5" * 160
        ).serialize()

    good = sender.protect(rtp(1))
    stranger.sendto(good, target)
    device.sendto(b"\x80" + bytes(30), target)  # no SRTP tag that verifies
    device.sendto(good, target)
    device.sendto(good, target)  # replay
    device.sendto(sender.protect(rtp(3)), target)
    device.sendto(sender.protect(rtp(4, pt=96)), target)
    device.sendto(b"rtcp", ("127.0.0.1", endpoint.port + 1))
    stats = endpoint.stats
    await wait_until(
        lambda: stats.rtcp_packets_received >= 1 and stats.unknown_payload_packets >= 1,
        3,
    )
    assert stats.foreign_packets == 1
    assert stats.srtp_auth_failures == 1
    assert stats.srtp_replays == 1
    assert stats.packets_received == 3
    assert stats.lost == 1  # sequence 2 never came
    with pytest.raises(DtmfUnavailableError):
        await endpoint.send_dtmf("1", 100)
    await endpoint.close()
    device.close()
    stranger.close()


async def test_malformed_plain_rtp_is_counted() -> None:
    """Without SRTP, bytes that are not RTP are counted as malformed."""
    endpoint = _endpoint()
    await endpoint.start()
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    endpoint.connect("127.0.0.1", peer.getsockname()[1])
    peer.sendto(b"\x00\x01", ("127.0.0.1", endpoint.port))
    await wait_until(lambda: endpoint.stats.malformed_packets >= 1, 3)
    await endpoint.close()
    peer.close()


def test_libgsm_missing_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine without libgsm gives None, not an exception at import."""

    def missing(name: str) -> None:
        raise OSError(name)

    monkeypatch.setattr(voice.ctypes.util, "find_library", lambda name: None)
    monkeypatch.setattr(voice.ctypes, "CDLL", missing)
    assert voice.load_libgsm() is None
