"""The control API and the demo page, driven over real HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from emulator import Emulator

from .conftest import ApiCall
from .helpers import CallbackReceiver, Device, key_pair

type Control = Any


@pytest.fixture
def control(emulator: Emulator, http: aiohttp.ClientSession) -> Control:
    """Return a function that calls the control API and returns (status, JSON)."""

    async def call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
        url = f"{emulator.base_url}/control/{path}"
        async with http.request(method, url, json=body) as response:
            return response.status, await response.json()

    return call


async def test_ring_answer_dtmf_and_hangup_from_the_page(
    *,
    emulator: Emulator,
    receiver: CallbackReceiver,
    api: ApiCall,
    device: Device,
    control: Control,
    http: aiohttp.ClientSession,
) -> None:
    """Ring via the control API, answer via the vendor API, then DTMF, stats, WAV, hangup."""
    status, created = await control(
        "POST",
        "ring",
        {
            "caller": "555",
            "callee": "sip:gate@example.com",
            "codec": "PCMU",
            "tone_hz": 800,
        },
    )
    assert status == 201
    call_id = created["call_id"]
    assert (created["state"], created["codec"], created["caller"]) == (
        "ringing",
        "PCMU",
        "555",
    )
    offer = receiver.named("newRemoteCall")[0].body
    assert offer["destinationUri"] == "sip:gate@example.com"
    body = {
        "replyId": offer["replyId"],
        "receiveIp": "127.0.0.1",
        "receivePort": device.local_port,
        "codec": "PCMA",
    }
    await api("answerremotecalljwt", body)
    await emulator.wait_for_state(call_id, "connected")
    device.set_remote("127.0.0.1", offer["remoteRtpPort"])

    assert await control("POST", f"calls/{call_id}/dtmf", {"digits": "12"}) == (
        200,
        {"sent": "12"},
    )
    assert device.dtmf == ["1", "2"]
    status, bad = await control("POST", f"calls/{call_id}/dtmf", {"digits": "x"})
    assert status == 409
    assert "0-9" in bad["error"]
    status, stats = await control("GET", f"calls/{call_id}/stats")
    assert status == 200
    assert stats["dtmf_sent"] == 2
    status, shown = await control("GET", f"calls/{call_id}")
    assert (status, shown["state"], shown["codec"]) == (200, "connected", "PCMA")
    assert shown["device_rtp"] == ["127.0.0.1", device.local_port]

    async with http.get(
        f"{emulator.base_url}/control/calls/{call_id}/recording.wav"
    ) as response:
        assert response.status == 200
        assert response.content_type == "audio/wav"
        assert (await response.read()).startswith(b"RIFF")

    assert (await control("POST", f"calls/{call_id}/hangup"))[1]["state"] == "ended"
    assert (await control("POST", f"calls/{call_id}/hangup"))[0] == 409
    status, calls = await control("GET", "calls")
    assert [c["call_id"] for c in calls] == [call_id]
    status, log = await control("GET", "callbacks")
    assert [r["name"] for r in log] == ["callHungup", "callAnswered", "newRemoteCall"]
    assert all(r["status"] == 200 for r in log)
    assert await control("DELETE", "callbacks") == (200, {"cleared": True})
    assert (await control("GET", "callbacks"))[1] == []


async def test_placed_call_answer_and_reject_by_control(
    emulator: Emulator, receiver: CallbackReceiver, api: ApiCall, control: Control
) -> None:
    """The remote party answers or rejects placed calls when told over the control API."""
    place = {
        "destinationUri": "sip:bob@example.com",
        "receiveIp": "127.0.0.1",
        "receivePort": 4000,
    }
    await api("placeremotecalljwt", place)
    first = emulator.calls[-1].call_id
    await emulator.wait_for_state(first, "ringing")
    assert (await control("POST", f"calls/{first}/answer"))[1]["state"] == "connected"
    assert (await receiver.wait_for("callAnswered")).body["remotePartyNumber"] == "bob"

    await api("placeremotecalljwt", place)
    second = emulator.calls[-1].call_id
    await emulator.wait_for_state(second, "ringing")
    status, shown = await control(
        "POST",
        f"calls/{second}/reject",
        {"status": 480, "reason": "Temporarily Unavailable"},
    )
    assert (status, shown["state"], shown["sip_status"]) == (200, "failed", 480)
    failed = (await receiver.wait_for("callFailed")).body
    assert (failed["sipStatus"], failed["sipReason"]) == (
        480,
        "Temporarily Unavailable",
    )


async def test_policy(emulator: Emulator, control: Control) -> None:
    """The placed-call policy can be read and changed; bad values are refused."""
    assert (await control("GET", "policy"))[1]["policy"] == "manual"
    status, policy = await control(
        "PUT",
        "policy",
        {
            "policy": "reject",
            "delay": 0.5,
            "reject_status": 603,
            "reject_reason": "Decline",
        },
    )
    assert status == 200
    assert policy == {
        "policy": "reject",
        "delay": 0.5,
        "reject_status": 603,
        "reject_reason": "Decline",
        "tone_hz": 440.0,
    }
    assert emulator.placed_call_policy == "reject"
    for bad in (
        {"policy": "maybe"},
        {"delay": -1},
        {"reject_status": 200},
        {"tone_hz": 5000},
        {"delay": "soon"},
        {"delay": True},
    ):
        assert (await control("PUT", "policy", bad))[0] == 400, bad
    assert (await control("PUT", "policy", {"tone_hz": 1000, "delay": 0}))[1][
        "tone_hz"
    ] == 1000


async def test_faults_over_control(emulator: Emulator, control: Control) -> None:
    """Faults can be set, shown, cleared, and replyIds expired."""
    status, faults = await control(
        "PUT", "faults", {"callback_drop": 2, "api_delay": 0.5}
    )
    assert (status, faults["callback_drop"], faults["api_delay"]) == (200, 2, 0.5)
    assert (await control("GET", "faults"))[1] == faults
    assert (await control("PUT", "faults", {"callback_drop": "x"}))[0] == 400
    assert (await control("DELETE", "faults"))[1]["callback_drop"] == 0
    assert await control("POST", "faults/expire-reply-ids") == (200, {"expired": 0})
    await emulator.ring()
    assert await control("POST", "faults/expire-reply-ids") == (200, {"expired": 1})


async def test_errors_and_info(
    emulator: Emulator, control: Control, http: aiohttp.ClientSession
) -> None:
    """Unknown calls are 404, bad input 400, wrong state 409; info and keys are served."""
    assert (await control("GET", "calls/nope"))[0] == 404
    assert (await control("GET", "calls/nope/stats"))[0] == 404
    assert (await control("POST", "calls/nope/answer"))[0] == 404
    assert (await control("POST", "ring", {"codec": "OPUS"}))[0] == 400
    assert (await control("POST", "ring", {"srtp": "yes"}))[0] == 400
    assert (await control("POST", "ring", [1]))[0] == 400
    assert (await control("POST", "ring", {"tone_hz": 9000}))[0] == 409
    assert (await control("POST", "ring", {"wav_path": "/nonexistent.wav"}))[0] == 409
    async with http.post(f"{emulator.base_url}/control/ring", data=b"{") as response:
        assert response.status == 400
    call = await emulator.ring()
    assert (await control("POST", f"calls/{call.call_id}/answer"))[0] == 409
    assert (await control("POST", f"calls/{call.call_id}/reject"))[0] == 409

    status, info = await control("GET", "info")
    assert status == 200
    assert info["api_base_url"] == emulator.base_url
    assert (
        info["callback_signing_public_key_pem"].encode() == key_pair("callback").public
    )
    async with http.get(
        f"{emulator.base_url}/control/callback-signing-key.pem"
    ) as response:
        assert await response.read() == key_pair("callback").public
    async with http.get(f"{emulator.base_url}/") as response:
        assert response.status == 200
        page = await response.text()
    assert "<title>Cloud SIP UA emulator</title>" in page
    assert "/control/ring" in page


async def test_ring_with_a_wav_file(
    emulator: Emulator, receiver: CallbackReceiver, control: Control, tmp_path: Path
) -> None:
    """The remote party can play a WAV file named in the ring request."""
    from emulator.audio import ToneGenerator, to_wav

    wav = tmp_path / "tone.wav"
    wav.write_bytes(to_wav(ToneGenerator(600.0).chunk(8000)))
    status, created = await control(
        "POST", "ring", {"wav_path": str(wav), "srtp": True}
    )
    assert status == 201
    assert created["srtp"] is True
    assert len(receiver.named("newRemoteCall")[0].body["crypto"]) == 1
