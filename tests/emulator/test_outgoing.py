"""Placed calls end to end: callNotify, then callAnswered or callFailed, media and hangups."""

from __future__ import annotations

from typing import Any

import pytest

from custom_components.cloud_sip_ua.cloudsipua.media import generate_crypto
from custom_components.cloud_sip_ua.cloudsipua.models import Codec, CryptoEntry
from emulator import Emulator, EmulatorError
from tests.audio_check import tone_report

from .conftest import ApiCall
from .helpers import CallbackReceiver, Device, check_callback, record

DESTINATION = "sip:alice@example.com"


def place_body(
    receiver: CallbackReceiver, device: Device, **extra: Any
) -> dict[str, Any]:
    """Return a placeremotecalljwt body with media to the device and callbacks to the receiver."""
    return {
        "codec": "PCMA",
        "sessionReferenceId": "place-1",
        "destinationUri": DESTINATION,
        "telephoneEventPayloadType": 101,
        "sourceUser": "1234567",
        "receivePort": device.local_port,
        "receiveIp": "127.0.0.1",
        "callbackBaseUrl": receiver.url,
        **extra,
    }


async def place(api: ApiCall, emulator: Emulator, body: dict[str, Any]) -> str:
    """Place a call and return its Call-ID."""
    assert await api("placeremotecalljwt", body) == (200, {"success": True})
    return emulator.calls[-1].call_id


async def test_placed_call_answered_by_hand(
    emulator: Emulator, receiver: CallbackReceiver, api: ApiCall, device: Device
) -> None:
    """Manual policy: ringing until the remote party answers; media, DTMF, then hangup."""
    call_id = await place(api, emulator, place_body(receiver, device))
    notify = check_callback(await receiver.wait_for("callNotify"))
    call = await emulator.wait_for_state(call_id, "ringing")
    assert notify["event"] == "ringing"
    assert notify["sessionReferenceId"] == "place-1"
    assert notify["sipCallId"] == call_id
    assert notify["user"] == "1234567"
    assert notify["remoteUser"] == "alice"
    assert {
        "participantId",
        "sessionId",
        "remoteParticipantId",
        "ivrServer",
        "traceId",
    } <= set(notify)
    assert (call.direction, call.caller, call.callee) == (
        "outgoing",
        "1234567",
        DESTINATION,
    )

    await emulator.remote_answer(call_id)
    answered = check_callback(await receiver.wait_for("callAnswered"))
    assert answered["sessionReferenceId"] == "place-1"
    assert answered["codec"] == "PCMA"
    assert answered["remotePartyNumber"] == "alice"
    assert "crypto" not in answered
    device.set_remote(answered["remoteRtpIp"], int(answered["remoteRtpPort"]))
    frequency, snr = tone_report((await record(device, 1.0))[1600:])
    assert abs(frequency - 440.0) <= 10
    assert snr >= 30

    with pytest.raises(EmulatorError, match="ringing"):
        await emulator.remote_answer(call_id)
    assert await api("hangupcalljwt", {"replyId": answered["replyId"]}) == (
        200,
        {"success": True},
    )
    hungup = check_callback(await receiver.wait_for("callHungup"))
    assert hungup == {
        "callId": call_id,
        "destinationUri": DESTINATION,
        "sourceUser": "1234567",
        "sessionReferenceId": "place-1",
    }
    assert (call.state, call.end_reason) == ("ended", "local_hangup")
    assert call.remote_party.stats.packets_received > 0  # the device sends silence


async def test_placed_call_with_srtp(
    emulator: Emulator, receiver: CallbackReceiver, api: ApiCall, device: Device
) -> None:
    """Crypto in the request: callAnswered carries the answerer's crypto; media is protected."""
    offered = generate_crypto(tag=3)
    body = place_body(receiver, device, codec="PCMU", crypto=[offered.to_json()])
    emulator.placed_call_policy = "answer"
    emulator.placed_call_tone_hz = 1000.0
    call_id = await place(api, emulator, body)
    answered = check_callback(await receiver.wait_for("callAnswered"))
    [entry] = answered["crypto"]
    assert entry["id"] == 3
    assert entry["suite"] == offered.suite
    assert entry["config"] != offered.config
    device.set_codec(Codec.PCMU)
    device.enable_srtp(
        local=offered, remote=CryptoEntry(entry["suite"], 3, entry["config"])
    )
    device.set_remote(answered["remoteRtpIp"], int(answered["remoteRtpPort"]))
    frequency, snr = tone_report((await record(device, 1.0))[1600:])
    assert abs(frequency - 1000.0) <= 10
    assert snr >= 30
    call = emulator.get_call(call_id)
    assert call.srtp
    await emulator.remote_hangup(call_id)
    check_callback(await receiver.wait_for("callHungup"))
    assert call.end_reason == "remote_hangup"


@pytest.mark.parametrize(
    ("change", "status", "reason"),
    [
        (
            {
                "crypto": [
                    {"suite": "F8_128_HMAC_SHA1_80", "id": 1, "config": "inline:x"}
                ]
            },
            488,
            "Not Acceptable Here",
        ),
    ],
)
async def test_placed_call_the_remote_party_cannot_take(
    *,
    emulator: Emulator,
    receiver: CallbackReceiver,
    api: ApiCall,
    device: Device,
    change: dict[str, Any],
    status: int,
    reason: str,
) -> None:
    """A crypto suite the remote party lacks fails the call with 488."""
    emulator.placed_call_policy = "answer"
    call_id = await place(api, emulator, place_body(receiver, device, **change))
    failed = check_callback(await receiver.wait_for("callFailed"))
    assert (failed["sipStatus"], failed["sipReason"]) == (status, reason)
    assert emulator.get_call(call_id).state == "failed"


async def test_placed_call_rejected_by_policy(
    emulator: Emulator, receiver: CallbackReceiver, api: ApiCall, device: Device
) -> None:
    """Reject policy: callFailed with sipStatus and sipReason after ringing."""
    emulator.placed_call_policy = "reject"
    emulator.placed_call_delay = 0.05
    emulator.placed_call_reject_status = 486
    call_id = await place(api, emulator, place_body(receiver, device))
    failed = check_callback(await receiver.wait_for("callFailed"))
    assert set(failed) == {
        "sipCallId", "sipStatus", "sipReason", "errorDescr", "sessionReferenceId", "sessionId",
        "ivrServer", "participantId", "domain", "traceId", "httpTransactionId",
    }  # fmt: skip
    assert (failed["sipCallId"], failed["sipStatus"], failed["sipReason"]) == (
        call_id,
        486,
        "Busy Here",
    )
    assert failed["sessionReferenceId"] == "place-1"
    assert [r.name for r in receiver.received] == ["callNotify", "callFailed"]
    call = emulator.get_call(call_id)
    assert (call.state, call.end_reason, call.sip_status) == ("failed", "rejected", 486)


async def test_remote_reject_and_hangup_while_ringing(
    emulator: Emulator, receiver: CallbackReceiver, api: ApiCall, device: Device
) -> None:
    """Rejecting by hand or hanging up a ringing placed call both give callFailed."""
    first = await place(api, emulator, place_body(receiver, device))
    await emulator.wait_for_state(first, "ringing")
    with pytest.raises(EmulatorError, match="300 to 699"):
        await emulator.remote_reject(first, status=200)
    await emulator.remote_reject(first, status=603, reason="Decline")
    assert (await receiver.wait_for("callFailed")).body["sipStatus"] == 603
    with pytest.raises(EmulatorError, match="ringing"):
        await emulator.remote_reject(first)
    with pytest.raises(EmulatorError, match="already ended"):
        await emulator.remote_hangup(first)

    second = await place(api, emulator, place_body(receiver, device))
    await emulator.wait_for_state(second, "ringing")
    await emulator.remote_hangup(second)
    failed = (await receiver.wait_for("callFailed", count=2)).body
    assert (failed["sipStatus"], failed["sipReason"]) == (603, "Decline")


@pytest.mark.parametrize("config_overrides", [{"ring_timeout": 0.2}])
async def test_placed_call_ring_timeout(
    emulator: Emulator, receiver: CallbackReceiver, api: ApiCall, device: Device
) -> None:
    """Nobody answers a placed call: callFailed 408 after the ring timeout."""
    call_id = await place(api, emulator, place_body(receiver, device))
    failed = (await receiver.wait_for("callFailed")).body
    assert (failed["sipStatus"], failed["sipReason"]) == (408, "Request Timeout")
    assert emulator.get_call(call_id).end_reason == "ring_timeout"


async def test_placed_call_defaults_and_refusals(
    emulator: Emulator, receiver: CallbackReceiver, api: ApiCall, device: Device
) -> None:
    """Without callbackBaseUrl the tenant default is used; unusable values are refused."""
    minimal = {
        "destinationUri": "sip:bob@example.com",
        "receiveIp": "127.0.0.1",
        "receivePort": 4000,
    }
    call_id = await place(api, emulator, minimal)
    notify = (await receiver.wait_for("callNotify")).body
    assert notify["user"] == "anonymous"
    assert "sessionReferenceId" not in notify
    call = emulator.get_call(call_id)
    assert (call.codec, call.telephone_event_payload_type) == (Codec.PCMA, 101)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"callbackBaseUrl": "ftp://example.com/x"}, "callbackBaseUrl must be an http or https URL"),
        ({"callbackBaseUrl": "http://[::1"}, "callbackBaseUrl is not a URL"),
        ({"destinationUri": "  "}, "destinationUri is empty"),
        ({"receivePort": 0}, "receivePort must be an integer from 1 to 65535"),
    ]  # fmt: skip
    for change, reason in cases:
        assert await api("placeremotecalljwt", {**minimal, **change}) == (
            200,
            {"success": False, "reason": reason},
        ), change


@pytest.mark.parametrize("config_overrides", [{"default_callback_base_url": None}])
async def test_placed_call_needs_a_callback_url(
    emulator: Emulator, api: ApiCall
) -> None:
    """With no default and no callbackBaseUrl a placed call is refused; ring() is too."""
    body = {
        "destinationUri": "sip:bob@example.com",
        "receiveIp": "127.0.0.1",
        "receivePort": 4000,
    }
    assert (await api("placeremotecalljwt", body))[1] == {
        "success": False,
        "reason": "no callbackBaseUrl given and no default configured",
    }
    with pytest.raises(EmulatorError, match="no callbackBaseUrl"):
        await emulator.ring()
