"""Edge cases of the emulator: media failures, inactivity, recordings, keys and audio files."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import pytest

from custom_components.cloud_sip_ua.cloudsipua.media.clock import ManualClock
from custom_components.cloud_sip_ua.cloudsipua.models import Codec
from emulator import Emulator, EmulatorError, cli
from emulator.audio import PcmLoop, ToneGenerator, read_wav, to_wav
from emulator.auth import ApiTokenVerifier
from emulator.keys import ensure_key_pair, public_key_pem
from emulator.openapi import BodyError, validate_request
from emulator.signing import CallbackSigner
from tests.waiting import wait_until

from .conftest import ApiCall, make_config
from .helpers import CallbackReceiver, Device, advance, key_pair


async def test_not_running() -> None:
    """The callback log needs a started emulator."""
    emulator = Emulator(make_config(None))
    with pytest.raises(EmulatorError, match="not running"):
        emulator.callback_log  # noqa: B018


@pytest.mark.parametrize("config_overrides", [{"media_port_range": (41001, 41001)}])
async def test_no_free_media_port(
    emulator: Emulator, receiver: CallbackReceiver, api: ApiCall, device: Device
) -> None:
    """Without an RTP port, ring() fails and a placed call fails with 503."""
    with pytest.raises(EmulatorError, match="no media"):
        await emulator.ring()
    body = {"destinationUri": "sip:a@b", "receiveIp": "127.0.0.1", "receivePort": 4000}
    assert (await api("placeremotecalljwt", body))[1] == {"success": True}
    failed = (await receiver.wait_for("callFailed")).body
    assert (failed["sipStatus"], failed["sipReason"]) == (503, "Service Unavailable")


async def test_dtmf_needs_a_connected_call_with_telephone_events(
    emulator: Emulator, receiver: CallbackReceiver, api: ApiCall, device: Device
) -> None:
    """DTMF is refused before the answer and when no telephone-event type was negotiated."""
    call = await emulator.ring(telephone_event_payload_type=None)
    with pytest.raises(EmulatorError, match="connected"):
        await emulator.send_dtmf(call.call_id, "1")
    reply_id = receiver.named("newRemoteCall")[0].body["replyId"]
    body = {
        "replyId": reply_id,
        "receiveIp": "127.0.0.1",
        "receivePort": device.local_port,
    }
    await api("answerremotecalljwt", body)
    with pytest.raises(EmulatorError, match="could not be sent"):
        await emulator.send_dtmf(call.call_id, "1")
    with pytest.raises(EmulatorError, match="0-9"):
        await emulator.send_dtmf(call.call_id, "")


@pytest.mark.parametrize("emulator_clock", [ManualClock()])
async def test_placed_call_audio_problems_and_late_policy(
    emulator: Emulator,
    emulator_clock: ManualClock,
    receiver: CallbackReceiver,
    api: ApiCall,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An unreadable placed-call WAV is refused; a call ended during the policy delay stays so."""
    body = {"destinationUri": "sip:a@b", "receiveIp": "127.0.0.1", "receivePort": 4000}
    emulator.placed_call_wav = tmp_path / "missing.wav"
    assert (await api("placeremotecalljwt", body))[1]["reason"].startswith(
        "the remote party has no audio"
    )
    wav = tmp_path / "voice.wav"
    wav.write_bytes(to_wav(ToneGenerator(500.0).chunk(800)))
    emulator.placed_call_wav = wav
    emulator.placed_call_policy = "answer"
    emulator.placed_call_delay = 0.3
    await api("placeremotecalljwt", body)
    call = emulator.calls[-1]
    await emulator.wait_for_state(call.call_id, "ringing")
    await emulator.remote_reject(call.call_id)
    await advance(emulator_clock, 0.3)  # the delay ends; the policy finds the call over
    assert call.state == "failed"
    assert "Emulator task failed" not in caplog.text
    await receiver.wait_for("callFailed")
    assert [r.name for r in receiver.received] == ["callNotify", "callFailed"]


@pytest.mark.parametrize("config_overrides", [{"media_inactivity_timeout": 0.3}])
@pytest.mark.parametrize("emulator_clock", [ManualClock()])
async def test_no_media_from_the_device_ends_the_call(
    emulator: Emulator,
    emulator_clock: ManualClock,
    receiver: CallbackReceiver,
    api: ApiCall,
) -> None:
    """When the device sends no RTP for the timeout after the answer, the remote party hangs up."""
    call = await emulator.ring()
    await advance(emulator_clock, 0.4)  # ringing longer than the timeout does not count
    reply_id = receiver.named("newRemoteCall")[0].body["replyId"]
    body = {"replyId": reply_id, "receiveIp": "127.0.0.1", "receivePort": 9}
    await api("answerremotecalljwt", body)
    await advance(emulator_clock, 0.29)
    assert call.state == "connected"
    await advance(emulator_clock, 0.02)
    await emulator.wait_for_state(call.call_id, "ended", timeout=3)
    assert call.end_reason == "no_media"


async def test_recordings_are_kept_in_the_state_dir(
    receiver: CallbackReceiver, tmp_path: Path
) -> None:
    """With a state directory, each ended call's recording is written as WAV."""
    emulator = Emulator(make_config(receiver.url, state_dir=tmp_path))
    await emulator.start()
    try:
        call = await emulator.ring()
        await emulator.remote_hangup(call.call_id)
        path = tmp_path / "recordings" / f"{call.call_id}.wav"
        await wait_until(path.exists, 3, "the recording")
        assert path.read_bytes().startswith(b"RIFF")
    finally:
        await emulator.stop()


async def test_failed_background_work_is_logged(
    receiver: CallbackReceiver, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A recording that cannot be written is logged, not lost silently."""
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    emulator = Emulator(make_config(receiver.url, state_dir=blocker))
    await emulator.start()
    try:
        call = await emulator.ring()
        with caplog.at_level(logging.ERROR, logger="emulator.core"):
            await emulator.remote_hangup(call.call_id)
            await wait_until(lambda: "Emulator task failed" in caplog.text, 3)
    finally:
        await emulator.stop()


async def test_stop_cancels_pending_callbacks(receiver: CallbackReceiver) -> None:
    """Stopping with a delayed callback pending cancels it cleanly."""
    clock = ManualClock()
    emulator = Emulator(make_config(receiver.url), clock=clock)
    await emulator.start()
    call = await emulator.ring()
    emulator.faults.update({"callback_delay": 10})
    await emulator.remote_hangup(call.call_id)
    # The ring timer is off; the one timer left is callHungup's delay.
    await wait_until(lambda: clock.pending == 1, what="the callback's delay")
    await emulator.stop()
    assert clock.pending == 0
    assert receiver.named("callHungup") == []


@pytest.mark.parametrize(
    "config_overrides",
    [{"site_id": "siteA", "site_base_url": "http://127.0.0.1:1/site"}],
)
async def test_hybrid_site_fields(
    emulator: Emulator, receiver: CallbackReceiver, api: ApiCall
) -> None:
    """A hybrid deployment adds siteId and siteBaseUrl to callNotify and callAnswered."""
    emulator.placed_call_policy = "answer"
    body = {"destinationUri": "sip:a@b", "receiveIp": "127.0.0.1", "receivePort": 4000}
    await api("placeremotecalljwt", body)
    for name in ("callNotify", "callAnswered"):
        received = (await receiver.wait_for(name)).body
        assert (received["siteId"], received["siteBaseUrl"]) == (
            "siteA",
            "http://127.0.0.1:1/site",
        )


def test_keys_are_made_once(tmp_path: Path) -> None:
    """A key pair is generated once, private key owner-only; a lost public half is remade."""
    files, created = ensure_key_pair(tmp_path / "keys", "api")
    assert created
    assert files.private_key.stat().st_mode & 0o777 == 0o600
    files.public_key.unlink()
    again, created = ensure_key_pair(tmp_path / "keys", "api")
    assert not created
    assert again.public_key.read_bytes() == public_key_pem(
        files.private_key.read_bytes()
    )


def test_load_keys_mixes_given_and_generated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A given key file is used; the missing one is generated and announced."""
    given = tmp_path / "api_public.pem"
    given.write_bytes(key_pair("api").public)
    args = argparse.Namespace(
        state_dir=tmp_path / "state", api_public_key=given, callback_signing_key=None
    )
    api_public, signing_private = cli._load_keys(args)  # noqa: SLF001
    assert api_public == key_pair("api").public
    assert signing_private.startswith(b"-----BEGIN PRIVATE KEY-----")
    out = capsys.readouterr().out
    assert "callback_signing_public.pem" in out
    assert "API key pair" not in out
    args = argparse.Namespace(
        state_dir=tmp_path / "state",
        api_public_key=None,
        callback_signing_key=tmp_path / "state" / "callback_signing_private.pem",
    )
    cli._load_keys(args)  # noqa: SLF001
    assert "api_private.pem" in capsys.readouterr().out


def test_main_maps_options(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """main() turns the options into the emulator's configuration and exits 0."""
    seen: list[Any] = []

    async def fake_serve(config: Any, stop: Any = None) -> None:
        seen.append(config)

    monkeypatch.setattr(cli, "serve", fake_serve)
    status = cli.main(
        [
            "--state-dir", str(tmp_path), "--domain", "t.prod-eu-north-1.iotcomms.io",
            "--ring-timeout", "5", "--quirks", "--media-ports", "42000-42100",
            "--callback-base-url", "http://127.0.0.1:1/cb",
        ]
    )  # fmt: skip
    assert status == 0
    [config] = seen
    assert (config.domain, config.ring_timeout, config.quirks) == (
        "t.prod-eu-north-1.iotcomms.io",
        5.0,
        True,
    )
    assert config.media_port_range == (42000, 42100)
    assert config.default_callback_base_url == "http://127.0.0.1:1/cb"


def test_keys_must_be_rsa() -> None:
    """Elliptic-curve keys are refused for both roles."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    private = ec.generate_private_key(ec.SECP256R1())
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(ValueError, match="RSA"):
        ApiTokenVerifier(public_pem)
    with pytest.raises(ValueError, match="RSA"):
        CallbackSigner(private_pem, issuer="x", ttl=60)


def test_wav_files(tmp_path: Path) -> None:
    """WAV input: 8-bit and stereo are converted; broken and multichannel files are refused."""
    import wave

    path = tmp_path / "stereo8.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(1)
        wav.setframerate(16000)
        wav.writeframes(bytes([128, 128, 200, 200]) * 100)
    pcm, rate = read_wav(path)
    assert rate == 8000
    assert (
        190 <= len(pcm) <= 210
    )  # 100 stereo 8-bit frames at 16 kHz: 50 samples at 8 kHz
    surround = tmp_path / "surround.wav"
    with wave.open(str(surround), "wb") as wav:
        wav.setnchannels(3)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(bytes(60))
    with pytest.raises(ValueError, match="mono or stereo"):
        read_wav(surround)
    with pytest.raises(ValueError, match="cannot read"):
        read_wav(b"RIFF nonsense")


def test_pcm_loop_and_tone() -> None:
    """Looped audio wraps around; empty audio and impossible tones are refused."""
    loop = PcmLoop(b"\x01\x00\x02\x00\x03")
    assert loop.chunk(5) == b"\x01\x00\x02\x00\x01\x00\x02\x00\x01\x00"
    with pytest.raises(ValueError, match="no samples"):
        PcmLoop(b"\x01")
    with pytest.raises(ValueError, match="frequency"):
        ToneGenerator(4000.0)
    tone = ToneGenerator(1000.0)
    assert len(tone.chunk(160)) == 320


def test_deeply_nested_body_is_refused() -> None:
    """A body nested too deeply for the validator is a 400, not a crash."""
    raw = b'{"crypto": [' + b'{"a":' * 900 + b"1" + b"}" * 900 + b"]}"
    with pytest.raises(BodyError, match="too deeply nested"):
        validate_request("placeremotecalljwt", raw)


async def test_ring_with_codec_string(
    emulator: Emulator, receiver: CallbackReceiver
) -> None:
    """ring() takes codec names as well as Codec values."""
    call = await emulator.ring(codec="PCMU")  # type: ignore[arg-type]
    assert call.codec is Codec.PCMU


def test_booleans_are_not_numbers() -> None:
    """JSON true is not a port, even though Python's bool is an int."""
    from emulator.fields import Refusal, receive_address

    with pytest.raises(Refusal, match="receivePort"):
        receive_address({"receiveIp": "127.0.0.1", "receivePort": True})


async def test_receiver_answer_that_is_not_json(
    emulator: Emulator, receiver: CallbackReceiver
) -> None:
    """A newRemoteCall receiver answering with plain text leaves the call without reference."""
    from aiohttp import web

    async def plain_text(_: Any) -> web.StreamResponse:
        return web.Response(text="thanks")

    receiver.hook = plain_text
    call = await emulator.ring()
    assert emulator.callback_log[-1].response is None
    assert emulator.callback_log[-1].delivered
    assert call.session_reference_id is None
