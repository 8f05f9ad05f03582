"""Bodies of the five callbacks, shaped like the vendor's samples (quirks included on request)."""

from __future__ import annotations

from typing import Any
import uuid

from .calls import EmulatedCall, sip_user

# Session expiry the samples show for both call legs.
_SESSION_EXPIRES = 600


def as_sample_number(value: str, quirks: bool) -> str | int:
    """Return value as a JSON number when quirks are on and it is a plain integer, else as is.

    The vendor's samples send numbers where strings are documented (`sourceUser: 1234567`,
    `sipCallId: 5473001594892095000`); Python ints keep even the ones beyond 2**53 exact.
    """
    if quirks and value.isascii() and value.isdigit() and str(int(value)) == value:
        return int(value)
    return value


def _transaction_id() -> str:
    """Return a fresh httpTransactionId."""
    return str(uuid.uuid1())


def _session_reference(call: EmulatedCall, body: dict[str, Any]) -> None:
    """Copy the call's sessionReferenceId into a body, if there is one."""
    if call.session_reference_id is not None:
        body["sessionReferenceId"] = as_sample_number(
            call.session_reference_id, call.quirks
        )


def _site(body: dict[str, Any], site_id: str | None, site_base_url: str | None) -> None:
    """Add the hybrid-deployment fields when the emulator plays a hybrid site."""
    if site_id is not None:
        body["siteId"] = site_id
    if site_base_url is not None:
        body["siteBaseUrl"] = site_base_url


def new_remote_call(
    call: EmulatedCall, *, reply_id: str, domain: str, ivr_server: str
) -> dict[str, Any]:
    """Return the newRemoteCall body: an incoming call offered to the device."""
    party = call.remote_party
    body: dict[str, Any] = {
        "httpTransactionId": _transaction_id(),
        "sessionId": call.session_id,
        "replyId": reply_id,
        "traceId": call.trace_id,
        "domain": domain,
        "ivrServer": ivr_server,
        "callId": call.call_id,
        "codec": str(call.codec),
        "destinationUri": call.callee,
        "sourceUser": as_sample_number(call.caller, call.quirks),
        "remoteRtpIp": party.host,
        "remoteRtpPort": party.port,
        "telephoneEventPayloadType": call.telephone_event_payload_type,
        "crypto": [entry.to_json() for entry in call.offered_crypto],
    }
    if call.telephone_event_payload_type is None:
        del body["telephoneEventPayloadType"]
    return body


def call_answered(
    call: EmulatedCall,
    *,
    reply_id: str,
    answer_crypto: dict[str, Any] | None,
    site_id: str | None,
    site_base_url: str | None,
) -> dict[str, Any]:
    """Return the callAnswered body: the call is connected, media goes to the remote party."""
    party = call.remote_party
    quirks = call.quirks
    # Both directions: caller is the From user, callee the request URI.
    calling, called = call.caller, sip_user(call.callee)
    body: dict[str, Any] = {
        "callingPartyNumber": as_sample_number(calling, quirks),
        "callerParticipantId": call.caller_participant_id,
        "calleeParticipantId": call.callee_participant_id,
        "remotePartyNumber": as_sample_number(called, quirks),
        "connectionId": call.connection_id,
        "callingPartyExpires": _SESSION_EXPIRES,
        "calledPartyExpires": _SESSION_EXPIRES,
        "codec": str(call.codec),
        "monitoringParticipant": False,
        "remoteRtpIp": party.host,
        # Documented as a string; the sample sends a number.
        "remoteRtpPort": party.port if quirks else str(party.port),
        "replyId": reply_id,
        "traceId": call.trace_id,
        "httpTransactionId": _transaction_id(),
    }
    _session_reference(call, body)
    _site(body, site_id, site_base_url)
    if answer_crypto is not None:
        # Not in the vendor's callAnswered schema: a placed call that offered SDES needs the
        # answerer's key, and the platform allows fields beyond the documented ones.
        body["crypto"] = [answer_crypto]
    return body


def call_failed(
    call: EmulatedCall,
    *,
    sip_status: int,
    sip_reason: str,
    domain: str,
    ivr_server: str,
) -> dict[str, Any]:
    """Return the callFailed body: a placed call was not set up."""
    body: dict[str, Any] = {
        "sipCallId": call.call_id,
        "sipStatus": sip_status,
        "sipReason": sip_reason,
        "errorDescr": sip_reason,
        "sessionId": call.session_id,
        "ivrServer": ivr_server,
        "participantId": call.callee_participant_id,
        "domain": domain,
        "traceId": call.trace_id,
        "httpTransactionId": _transaction_id(),
    }
    _session_reference(call, body)
    return body


def call_hungup(call: EmulatedCall) -> dict[str, Any]:
    """Return the callHungup body: the call is over."""
    body: dict[str, Any] = {
        "callId": call.call_id,
        "destinationUri": call.callee,
        "sourceUser": as_sample_number(call.caller, call.quirks),
    }
    _session_reference(call, body)
    return body


def call_notify(
    call: EmulatedCall,
    event: str,
    *,
    ivr_server: str,
    site_id: str | None,
    site_base_url: str | None,
) -> dict[str, Any]:
    """Return a callNotify body (`ringing` when the far end rings)."""
    body: dict[str, Any] = {
        "event": event,
        "monitoringParticipant": False,
        "participantId": call.caller_participant_id,
        "sessionId": call.session_id,
        "user": call.caller,
        "remoteUser": sip_user(call.callee),
        "remoteParticipantId": call.callee_participant_id,
        "sipCallId": as_sample_number(call.call_id, call.quirks),
        "ivrServer": ivr_server,
        "traceId": call.trace_id,
    }
    _session_reference(call, body)
    _site(body, site_id, site_base_url)
    return body
