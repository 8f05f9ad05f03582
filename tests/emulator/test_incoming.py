"""Incoming calls end to end: newRemoteCall, ringback, answer, media, DTMF and every hangup."""

from __future__ import annotations

from typing import Any

import pytest

from custom_components.cloud_sip_ua.cloudsipua.media import answer_crypto
from custom_components.cloud_sip_ua.cloudsipua.models import Codec, CryptoEntry
from emulator import Emulator
from tests.audio_check import tone_report
from tests.waiting import wait_until

from .conftest import DOMAIN, ApiCall
from .helpers import CallbackReceiver, Device, check_callback, record

NEW_REMOTE_CALL_FIELDS = {
    "httpTransactionId", "sessionId", "replyId", "traceId", "domain", "ivrServer", "callId",
    "codec", "destinationUri", "sourceUser", "remoteRtpIp", "remoteRtpPort",
    "telephoneEventPayloadType", "crypto",
}  # fmt: skip
CALL_ANSWERED_FIELDS = {
    "callingPartyNumber", "callerParticipantId", "calleeParticipantId", "remotePartyNumber",
    "connectionId", "callingPartyExpires", "calledPartyExpires", "codec",
    "monitoringParticipant", "remoteRtpIp", "remoteRtpPort", "replyId", "traceId",
    "httpTransactionId",
}  # fmt: skip


def answer_body(reply_id: str, device: Device, **extra: Any) -> dict[str, Any]:
    """Return an answerremotecalljwt body that sends media to the device."""
    return {
        "replyId": reply_id,
        "receiveIp": "127.0.0.1",
        "receivePort": device.local_port,
        "codec": "PCMA",
        "telephoneEventPayloadType": 101,
        **extra,
    }


async def test_incoming_call_full_flow(
    emulator: Emulator, receiver: CallbackReceiver, api: ApiCall, device: Device
) -> None:
    """Ring, ringback, answer, tone and DTMF both ways, then hang up with the new replyId."""
    receiver.replies["newRemoteCall"] = {"sessionReferenceId": "ref-1"}
    call = await emulator.ring(
        caller="1234567", callee=f"sip:door@{DOMAIN}", tone_hz=440.0
    )
    assert call.state == "ringing"
    assert call.session_reference_id == "ref-1"

    offer = check_callback(receiver.named("newRemoteCall")[0])
    assert set(offer) == NEW_REMOTE_CALL_FIELDS
    assert offer["callId"] == call.call_id
    assert offer["domain"] == DOMAIN
    assert offer["codec"] == "PCMA"
    assert offer["sourceUser"] == "1234567"
    assert offer["destinationUri"] == f"sip:door@{DOMAIN}"
    assert (offer["remoteRtpIp"], offer["remoteRtpPort"]) == (
        "127.0.0.1",
        call.remote_party.port,
    )
    assert offer["telephoneEventPayloadType"] == 101
    assert offer["crypto"] == []
    incoming_reply = offer["replyId"]

    assert await api("sendremotecallringbackjwt", {"replyId": incoming_reply}) == (
        200,
        {"success": True},
    )
    assert call.ringback_sent

    device.set_remote(offer["remoteRtpIp"], offer["remoteRtpPort"])
    status, result = await api(
        "answerremotecalljwt", answer_body(incoming_reply, device)
    )
    assert (status, result) == (200, {"success": True})
    answered = check_callback(await receiver.wait_for("callAnswered"))
    assert set(answered) >= CALL_ANSWERED_FIELDS
    assert answered["sessionReferenceId"] == "ref-1"
    assert answered["remoteRtpIp"] == "127.0.0.1"
    assert answered["remoteRtpPort"] == str(call.remote_party.port)
    assert answered["callingPartyNumber"] == "1234567"
    assert answered["remotePartyNumber"] == "door"
    assert answered["codec"] == "PCMA"
    connected_reply = answered["replyId"]
    assert connected_reply != incoming_reply
    assert call.state == "connected"
    assert call.device_rtp == ("127.0.0.1", device.local_port)

    frequency, snr = tone_report((await record(device, 1.0))[1600:])
    assert abs(frequency - 440.0) <= 10
    assert snr >= 30

    await device.send_dtmf("1#")
    await wait_until(lambda: call.remote_party.dtmf_received == ["1", "#"], 3)
    await emulator.send_dtmf(call.call_id, "5")
    await wait_until(lambda: device.dtmf == ["5"], 3)

    # The first replyId cannot answer again, nor hang up an answered call.
    assert (await api("answerremotecalljwt", answer_body(incoming_reply, device)))[
        1
    ] == {
        "success": False,
        "reason": "call is connected, not ringing",
    }
    refused = (await api("hangupcalljwt", {"replyId": incoming_reply}))[1]
    assert refused["success"] is False
    assert "callAnswered" in refused["reason"]
    # The callAnswered replyId only allows hanging up.
    refused = (await api("sendremotecallringbackjwt", {"replyId": connected_reply}))[1]
    assert refused == {
        "success": False,
        "reason": "replyId from callAnswered does not allow sendremotecallringbackjwt",
    }

    assert await api("hangupcalljwt", {"replyId": connected_reply}) == (
        200,
        {"success": True},
    )
    hungup = check_callback(await receiver.wait_for("callHungup"))
    assert hungup == {
        "callId": call.call_id,
        "destinationUri": f"sip:door@{DOMAIN}",
        "sourceUser": "1234567",
        "sessionReferenceId": "ref-1",
    }
    assert call.state == "ended"
    assert call.end_reason == "local_hangup"
    assert (await api("hangupcalljwt", {"replyId": connected_reply}))[1] == {
        "success": False,
        "reason": "call has already ended",
    }
    stats = call.remote_party.stats
    assert stats.packets_received > 40
    assert stats.packets_sent > 40
    assert stats.dtmf_received == 2
    heard = call.remote_party.recorded_pcm()
    assert len(heard) > 8000
    assert len(call.remote_party.recorded_samples()) == len(heard) // 2
    assert call.remote_party.recorded_wav().startswith(b"RIFF")
    assert [r.name for r in emulator.callback_log] == [
        "newRemoteCall",
        "callAnswered",
        "callHungup",
    ]
    assert all(r.delivered and r.attempts == 1 for r in emulator.callback_log)


async def test_hangup_before_answer_is_busy(
    emulator: Emulator, receiver: CallbackReceiver, api: ApiCall
) -> None:
    """Hanging up with the newRemoteCall replyId refuses the call with 486."""
    call = await emulator.ring()
    reply_id = receiver.named("newRemoteCall")[0].body["replyId"]
    assert await api("hangupcalljwt", {"replyId": reply_id}) == (200, {"success": True})
    hungup = check_callback(await receiver.wait_for("callHungup"))
    assert hungup["callId"] == call.call_id
    assert "sessionReferenceId" not in hungup
    assert (call.state, call.end_reason, call.sip_status, call.sip_reason) == (
        "ended",
        "busy",
        486,
        "Busy Here",
    )
    refused = (await api("sendremotecallringbackjwt", {"replyId": reply_id}))[1]
    assert refused == {"success": False, "reason": "call is ended, not ringing"}


async def test_remote_hangup_after_answer(
    emulator: Emulator, receiver: CallbackReceiver, api: ApiCall, device: Device
) -> None:
    """The remote party hangs up a connected call: callHungup."""
    call = await emulator.ring()
    offer = receiver.named("newRemoteCall")[0].body
    await api("answerremotecalljwt", answer_body(offer["replyId"], device))
    await emulator.wait_for_state(call.call_id, "connected")
    await emulator.remote_hangup(call.call_id)
    check_callback(await receiver.wait_for("callHungup"))
    assert (call.state, call.end_reason) == ("ended", "remote_hangup")


async def test_caller_gives_up_and_ring_timeout(
    emulator: Emulator, receiver: CallbackReceiver, api: ApiCall
) -> None:
    """An unanswered call ends when the caller hangs up or when it rang too long."""
    cancelled = await emulator.ring()
    await emulator.remote_hangup(cancelled.call_id)
    assert (cancelled.end_reason, cancelled.sip_status) == ("cancelled", 487)

    timed_out = await emulator.ring(ring_timeout=0.2)
    await emulator.wait_for_state(timed_out.call_id, "ended", timeout=3)
    assert timed_out.end_reason == "ring_timeout"
    await receiver.wait_for("callHungup", count=2)
    reply_id = receiver.named("newRemoteCall")[1].body["replyId"]
    refused = (
        await api(
            "answerremotecalljwt",
            {"replyId": reply_id, "receiveIp": "127.0.0.1", "receivePort": 4000},
        )
    )[1]
    assert refused == {"success": False, "reason": "call is ended, not ringing"}


async def test_srtp_incoming_call(
    emulator: Emulator, receiver: CallbackReceiver, api: ApiCall, device: Device
) -> None:
    """With SRTP the offer carries crypto; the answer must echo a tag; media is protected."""
    call = await emulator.ring(srtp=True, codec=Codec.PCMU, tone_hz=1000.0)
    offer = check_callback(receiver.named("newRemoteCall")[0])
    assert offer["codec"] == "PCMU"
    [entry] = offer["crypto"]
    assert entry["suite"] == "AES_CM_128_HMAC_SHA1_80"
    assert entry["id"] == 1
    assert entry["config"].startswith("inline:")
    offered = [CryptoEntry(entry["suite"], entry["id"], entry["config"])]
    pair = answer_crypto(offered)
    assert pair is not None
    remote, local = pair
    reply_id = offer["replyId"]

    missing = (
        await api("answerremotecalljwt", answer_body(reply_id, device, codec="PCMU"))
    )[1]
    assert missing["success"] is False
    assert "SRTP was offered" in missing["reason"]
    wrong_tag = {**local.to_json(), "id": 7}
    refused = await api(
        "answerremotecalljwt", answer_body(reply_id, device, crypto=[wrong_tag])
    )
    assert refused[1]["success"] is False
    garbage = {"suite": local.suite, "id": 1, "config": "inline:bm90IGEga2V5"}
    refused = await api(
        "answerremotecalljwt", answer_body(reply_id, device, crypto=[garbage])
    )
    assert refused[1]["success"] is False
    assert refused[1]["reason"].startswith("crypto cannot be used")
    assert call.state == "ringing"

    device.set_codec(Codec.PCMU)
    device.enable_srtp(local=local, remote=remote)
    body = answer_body(reply_id, device, codec="PCMU", crypto=[local.to_json()])
    assert await api("answerremotecalljwt", body) == (200, {"success": True})
    # Media goes out only once the answer is accepted: RTP sent earlier would make the
    # remote party's media session latch onto the device and reply before SRTP is on.
    device.set_remote(offer["remoteRtpIp"], offer["remoteRtpPort"])
    answered = check_callback(await receiver.wait_for("callAnswered"))
    assert answered["codec"] == "PCMU"
    assert "crypto" not in answered
    frequency, snr = tone_report((await record(device, 1.0))[1600:])
    assert abs(frequency - 1000.0) <= 10
    assert snr >= 30
    assert device.stats.srtp_auth_failures == 0
    assert call.remote_party.stats.srtp_auth_failures == 0


async def test_crypto_answer_without_offer_is_refused(
    emulator: Emulator, receiver: CallbackReceiver, api: ApiCall, device: Device
) -> None:
    """Answering a plain-RTP offer with crypto, or with unusable values, is refused."""
    await emulator.ring()
    reply_id = receiver.named("newRemoteCall")[0].body["replyId"]
    crypto = {"suite": "AES_CM_128_HMAC_SHA1_80", "id": 1, "config": "inline:x"}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"crypto": [crypto]}, "crypto answered but SRTP was not offered"),
        ({"crypto": [{"suite": "x", "id": 1.5, "config": "y"}]}, "crypto[0].id must be an integer tag"),
        ({"crypto": [{"id": 1}]}, "crypto[0] needs suite and config strings"),
        ({"receiveIp": "not-an-ip"}, "receiveIp is not an IP address"),
        ({"receiveIp": "0.0.0.0"}, "receiveIp cannot receive media"),
        ({"receivePort": 70000}, "receivePort must be an integer from 1 to 65535"),
        ({"receivePort": 4000.5}, "receivePort must be an integer from 1 to 65535"),
        ({"telephoneEventPayloadType": 13}, "telephoneEventPayloadType must be a dynamic payload type (96-127)"),
    ]  # fmt: skip
    for extra, reason in cases:
        assert await api(
            "answerremotecalljwt", answer_body(reply_id, device, **extra)
        ) == (
            200,
            {"success": False, "reason": reason},
        ), extra


async def test_session_reference_from_api_request(
    emulator: Emulator, receiver: CallbackReceiver, api: ApiCall, device: Device
) -> None:
    """A sessionReferenceId set in answerremotecalljwt is copied into later callbacks."""
    call = await emulator.ring(telephone_event_payload_type=None)
    offer = receiver.named("newRemoteCall")[0].body
    assert "telephoneEventPayloadType" not in offer
    assert call.session_reference_id is None
    body = answer_body(offer["replyId"], device, sessionReferenceId="mine")
    del body["codec"], body["telephoneEventPayloadType"]
    await api("answerremotecalljwt", body)
    answered = await receiver.wait_for("callAnswered")
    assert answered.body["sessionReferenceId"] == "mine"
    await api("hangupcalljwt", {"replyId": answered.body["replyId"]})
    assert (await receiver.wait_for("callHungup")).body["sessionReferenceId"] == "mine"
    assert call.codec == Codec.PCMA


@pytest.mark.parametrize("config_overrides", [{"quirks": True}])
async def test_quirks_send_numbers_like_the_samples(
    emulator: Emulator, receiver: CallbackReceiver, api: ApiCall, device: Device
) -> None:
    """In quirks mode, digit strings go out as JSON numbers as in the vendor's samples."""
    receiver.replies["newRemoteCall"] = {"sessionReferenceId": 20000}
    call = await emulator.ring(caller="1234567", callee="sip:46890200@example.com")
    offer = check_callback(receiver.named("newRemoteCall")[0], documented=False)
    assert offer["sourceUser"] == 1234567
    assert call.session_reference_id == "20000"
    await api("answerremotecalljwt", answer_body(offer["replyId"], device))
    answered = check_callback(await receiver.wait_for("callAnswered"), documented=False)
    assert answered["callingPartyNumber"] == 1234567
    assert answered["remotePartyNumber"] == 46890200
    assert answered["remoteRtpPort"] == call.remote_party.port
    assert answered["sessionReferenceId"] == 20000
    await emulator.remote_hangup(call.call_id)
    hungup = check_callback(await receiver.wait_for("callHungup"), documented=False)
    assert hungup["sourceUser"] == 1234567
    assert hungup["sessionReferenceId"] == 20000
    # A ring can switch quirks off again.
    await emulator.ring(quirks=False, caller="1234567")
    assert receiver.named("newRemoteCall")[1].body["sourceUser"] == "1234567"
