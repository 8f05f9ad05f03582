"""GSM 06.10: bit-exact with libgsm (through ctypes) and a tone through two media sessions."""

from __future__ import annotations

import asyncio
import hashlib

import numpy as np
import pytest

from custom_components.cloud_sip_ua.cloudsipua.media.codecs import (
    FRAME_BYTES,
    GsmCodec,
    create_codec,
)
from custom_components.cloud_sip_ua.cloudsipua.media.gsm import (
    FRAME_SIZE,
    GsmDecoder,
    GsmEncoder,
)
from custom_components.cloud_sip_ua.cloudsipua.media.gsm.arith import (
    div,
    norm,
    saturate,
)
from custom_components.cloud_sip_ua.cloudsipua.media.gsm.bits import (
    Parameters,
    pack,
    unpack,
)
from custom_components.cloud_sip_ua.cloudsipua.media.gsm.lpc import (
    reflection_coefficients,
)
from custom_components.cloud_sip_ua.cloudsipua.media.subscription import (
    AudioSubscription,
)
from custom_components.cloud_sip_ua.cloudsipua.models import Codec
from tests.audio_check import tone_report

from .conftest import SessionFactory, settle, tone_pcm
from .gsm_signals import frames, framewise_tone_snr, varied_stream
from .libgsm import LIBGSM, LibGsmDecoder, LibGsmEncoder

needs_libgsm = pytest.mark.skipif(LIBGSM is None, reason="libgsm1 is not installed")

# SHA-256 of libgsm 1.0.19's frames for varied_stream() and of its decoding of them, so the
# known answers are checked even where the library is missing.
STREAM_FRAMES_SHA256 = (
    "1a2e655af8fa72efea03afc3f280ef1e336fb079d1f3100f41b863971e83e844"
)
STREAM_PCM_SHA256 = "516d36e9bf1361e751418b52b4fd4d587f1988ad66f767f40d6c26fb5d7a0d12"
RANDOM_FRAMES = 10_000


@pytest.fixture(scope="module")
def stream() -> list[bytes]:
    """Return the 64 s test stream as 320-byte PCM frames."""
    return frames(varied_stream())


@pytest.fixture(scope="module")
def our_frames(stream: list[bytes]) -> list[bytes]:
    """Return our encoding of the stream, one encoder state throughout."""
    encoder = GsmEncoder()
    return [encoder.encode(pcm) for pcm in stream]


def random_frames(count: int, seed: int = 14) -> list[bytes]:
    """Return random valid frames: random bits under the 0xD signature nibble."""
    rng = np.random.default_rng(seed)
    raw = rng.integers(0, 256, (count, FRAME_SIZE), dtype=np.uint8)
    raw[:, 0] = 0xD0 | (raw[:, 0] & 0x0F)
    return [row.tobytes() for row in raw]


def decode_all(decoder: GsmDecoder | LibGsmDecoder, coded: list[bytes]) -> list[bytes]:
    """Decode frames in order with one decoder state."""
    return [decoder.decode(frame) for frame in coded]


@needs_libgsm
def test_encoder_is_bit_exact_with_libgsm(
    stream: list[bytes], our_frames: list[bytes]
) -> None:
    """64 s of speech-like sound, tones, silence, noise and clipping: every frame equals libgsm's."""
    reference = LibGsmEncoder()
    theirs = [reference.encode(pcm) for pcm in stream]
    differing = [
        i for i, (a, b) in enumerate(zip(our_frames, theirs, strict=True)) if a != b
    ]
    print(f"encoder: {len(stream) - len(differing)} of {len(stream)} frames bit-exact")  # noqa: T201  # the figures the issue asks for
    assert len(stream) >= 3000  # 60 s
    assert differing == []


@needs_libgsm
def test_decoder_is_bit_exact_with_libgsm(our_frames: list[bytes]) -> None:
    """The same frames decode to the same samples as libgsm's."""
    ours = decode_all(GsmDecoder(), our_frames)
    theirs = decode_all(LibGsmDecoder(), our_frames)
    differing = [i for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b]
    print(f"decoder: {len(ours) - len(differing)} of {len(ours)} frames bit-exact")  # noqa: T201  # the figures the issue asks for
    assert differing == []


@needs_libgsm
def test_decoder_is_bit_exact_on_random_frames() -> None:
    """Random valid frames (lags out of range, saturation) decode exactly as libgsm does."""
    coded = random_frames(RANDOM_FRAMES)
    ours = decode_all(GsmDecoder(), coded)
    theirs = decode_all(LibGsmDecoder(), coded)
    differing = [i for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b]
    exact = len(ours) - len(differing)
    print(f"random frames: {exact} of {len(ours)} decoded bit-exact")  # noqa: T201
    assert differing == []


def test_known_answers(our_frames: list[bytes]) -> None:
    """Without the library too: the stream's frames and samples hash to libgsm's."""
    assert hashlib.sha256(b"".join(our_frames)).hexdigest() == STREAM_FRAMES_SHA256
    pcm = b"".join(decode_all(GsmDecoder(), our_frames))
    assert hashlib.sha256(pcm).hexdigest() == STREAM_PCM_SHA256


def test_pack_and_unpack_are_inverse() -> None:
    """Every field goes to its bits and back; the frame starts with the 0xD signature."""
    rng = np.random.default_rng(3)
    for _ in range(200):
        params = Parameters(
            larc=[
                int(rng.integers(0, 1 << width)) for width in (6, 6, 5, 5, 4, 4, 3, 3)
            ],
            nc=rng.integers(0, 128, 4).tolist(),
            bc=rng.integers(0, 4, 4).tolist(),
            mc=rng.integers(0, 4, 4).tolist(),
            xmaxc=rng.integers(0, 64, 4).tolist(),
            xmc=rng.integers(0, 8, 52).tolist(),
        )
        frame = pack(params)
        assert len(frame) == FRAME_SIZE
        assert frame[0] >> 4 == 0xD
        assert unpack(frame) == params
    # One known layout: LARc[0] = 0b101010 spans the first two bytes, xMc[51] ends the frame.
    known = Parameters(
        [42, 0, 0, 0, 0, 0, 0, 0], [0] * 4, [0] * 4, [0] * 4, [0] * 4, [0] * 51 + [5]
    )
    assert pack(known) == bytes([0xDA, 0x80]) + bytes(30) + bytes([0x05])


def test_norm_and_div_follow_their_definitions() -> None:
    """Norm counts the shifts to bit 30 (with libgsm's special case); div is 15-step division."""

    def slow_norm(value: int) -> int:
        if value < 0:
            if value <= -(1 << 30):
                return 0
            value = ~value
        shifts = 0
        while value < (1 << 30) and shifts < 31:
            value <<= 1
            shifts += 1
        return shifts

    def slow_div(num: int, denum: int) -> int:
        result = 0
        for _ in range(15):
            result <<= 1
            num <<= 1
            if num >= denum:
                num -= denum
                result += 1
        return result

    for value in (1, 2, 3, 255, 65535, 1 << 29, (1 << 30) - 1, 1 << 30, (1 << 31) - 1):
        for signed in (value, -value):
            assert norm(signed) == slow_norm(signed), signed
    assert norm(-1) == 31
    rng = np.random.default_rng(5)
    for _ in range(2000):
        denum = int(rng.integers(1, 32768))
        num = int(rng.integers(0, denum + 1))
        assert div(num, denum) == slow_div(num, denum)
    assert div(0, 0) == 0
    assert div(7, 7) == 32767
    assert [saturate(v) for v in (40000, 32767, -32768, -40000)] == [
        32767,
        32767,
        -32768,
        -32768,
    ]


def test_schur_recursion_stops_when_unstable() -> None:
    """An autocorrelation with |ACF[1]| > ACF[0] gives no coefficients (libgsm zero-fills)."""
    assert reflection_coefficients([1 << 20, -(1 << 21)] + [0] * 7) == [0] * 8
    # The recursion stops at the first unstable step and keeps the coefficients before it.
    coefficients = reflection_coefficients([1 << 20, 1 << 19, 1 << 21] + [0] * 6)
    assert coefficients[0] == -16384  # r1 = -ACF[1] / ACF[0] in Q15
    assert coefficients[1:] == [0] * 7
    assert reflection_coefficients([0] * 9) == [0] * 8


def test_codec_wrapper() -> None:
    """Payload type 3, whole frames per packet, corrupt frames play silence, noise is quiet."""
    codec = create_codec(Codec.GSM)
    assert isinstance(codec, GsmCodec)
    assert (codec.codec, codec.payload_type) == (Codec.GSM, 3)
    pcm = tone_pcm(1000, 8000, 0.04)
    payload = codec.encode(pcm)
    assert len(payload) == 2 * FRAME_SIZE
    encoder = GsmEncoder()
    assert payload == b"".join(encoder.encode(part) for part in frames(pcm))

    reference = GsmDecoder()
    first, second = (
        reference.decode(payload[:FRAME_SIZE]),
        reference.decode(payload[FRAME_SIZE:]),
    )
    assert (
        codec.decode(payload + b"\x00" * 5) == first + second
    )  # a partial frame is dropped
    corrupt = bytes([0x2F]) + payload[1:FRAME_SIZE]
    replay = GsmCodec()
    # A frame without the signature plays silence and leaves the decoder state alone.
    assert replay.decode(corrupt + payload[:FRAME_SIZE]) == bytes(FRAME_BYTES) + first
    assert codec.decode(b"") == b""
    assert codec.decode(payload[: FRAME_SIZE - 1]) == b""

    # Silence goes through the running encoder, so the far end's decoder stays in step.
    assert codec.silence == encoder.encode(bytes(FRAME_BYTES))
    quiet = np.frombuffer(GsmCodec().decode(GsmCodec().silence), dtype="<i2")
    assert np.abs(quiet).max() <= 16  # GSM decodes digital silence to a few LSBs
    noise = codec.comfort_noise()
    assert len(set(noise)) > 1
    levels = [
        np.abs(np.frombuffer(GsmDecoder().decode(f), dtype="<i2")).max() for f in noise
    ]
    assert all(0 < level < 200 for level in levels)


def test_bad_input_is_refused() -> None:
    """Wrong frame sizes and a missing signature raise ValueError, as libgsm reports -1."""
    with pytest.raises(ValueError, match="160"):
        GsmEncoder().encode(bytes(318))
    with pytest.raises(ValueError, match="GSM"):
        GsmDecoder().decode(bytes(FRAME_SIZE))
    with pytest.raises(ValueError, match="GSM"):
        GsmDecoder().decode(bytes([0xD0]) * 32)


def libgsm_round_trip(pcm: bytes, skipped: int = 0) -> bytes:
    """Return `pcm` through libgsm's encoder and decoder, the decoder missing `skipped` frames."""
    encoder, decoder = LibGsmEncoder(), LibGsmDecoder()
    coded = [encoder.encode(part) for part in frames(pcm)]
    return b"".join(decoder.decode(frame) for frame in coded[skipped:])


async def until(predicate: object, timeout: float = 5.0) -> None:
    """Wait until a zero-argument callable returns true (the timeout is only a safety net)."""
    assert callable(predicate)
    async with asyncio.timeout(timeout):
        while not predicate():
            await settle()


@needs_libgsm
async def test_tone_through_a_gsm_call_both_ways(
    make_virtual_session: SessionFactory,
) -> None:
    """Two sessions over UDP send GSM to each other: 1 kHz arrives at both ends, as with libgsm."""
    # On a virtual clock: 20 ms ticks as fast as the loop goes, no wall time waited.
    a = await make_virtual_session(codec=Codec.GSM, wait_for_remote=False)
    b = await make_virtual_session(codec=Codec.PCMA, wait_for_remote=False)
    b.set_codec(Codec.GSM)
    assert (a.codec, b.codec) == (Codec.GSM, Codec.GSM)
    a.set_remote("127.0.0.1", b.local_port)
    b.set_remote("127.0.0.1", a.local_port)
    heard_at_a, heard_at_b = a.subscribe(8000), b.subscribe(8000)
    # Speak once both ends take each other's packets: a GSM decoder that missed a stream's
    # first frames (SSRC probation) keeps a steady tone off for long (see the report below).
    await until(lambda: a.stats.packets_received > 5 and b.stats.packets_received > 5)
    tone = tone_pcm(1000, 8000, 2.5)
    a.enqueue_audio(tone, 8000)
    b.enqueue_audio(tone, 8000)

    async def analysed(subscription: AudioSubscription) -> bytes:
        # Skip the silence before the tone, the jitter buffer and the codec's ramp.
        return b"".join([await subscription.get() for _ in range(70)][30:])

    heard = await asyncio.gather(analysed(heard_at_a), analysed(heard_at_b))
    alone = framewise_tone_snr(libgsm_round_trip(tone)[8000:24000], 1000)
    late = framewise_tone_snr(libgsm_round_trip(tone, 2)[8000:24000], 1000)
    print(  # noqa: T201  # the figures the issue asks for, side by side
        f"\nlibgsm on the same tone: frame-wise SNR median {np.median(alone):.1f} dB "
        f"(min {alone.min():.1f}); decoder missing the first 2 frames: {np.median(late):.1f} dB"
    )
    for name, pcm in zip("AB", heard, strict=True):
        frequency, _ = tone_report(pcm)
        snr = framewise_tone_snr(pcm, 1000)
        print(  # noqa: T201
            f"ours, heard at {name}: peak {frequency:.1f} Hz, frame-wise SNR median "
            f"{np.median(snr):.1f} dB (min {snr.min():.1f})"
        )
        assert abs(frequency - 1000) <= 10
        # A frame concealed by the jitter buffer on a busy machine may miss: 95 % must hold.
        assert np.percentile(snr, 5) >= 10
    # Both directions carried 33-byte GSM payloads behind 12-byte RTP headers.
    for session in (a, b):
        stats = session.stats
        assert stats.bytes_received == stats.packets_received * (12 + FRAME_SIZE)
