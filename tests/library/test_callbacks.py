"""Callback parsing: the vendor's samples, the documented quirks and hostile bodies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from custom_components.cloud_sip_ua.cloudsipua import (
    CALLBACK_MODELS,
    CallAnswered,
    CallbackName,
    CallbackParseError,
    CallFailed,
    CallHungup,
    CallNotify,
    Codec,
    CryptoEntry,
    InvalidRequestError,
    NewRemoteCall,
    NewRemoteCallResponse,
    parse_callback,
    parse_callback_bytes,
)

FIXTURES = Path(__file__).parent.parent.parent / "emulator" / "vendor_samples"
REPLY_ID = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJkb21..."


def _sample(name: str) -> bytes:
    """Return the raw bytes of a vendor sample."""
    return (FIXTURES / f"{name}.json").read_bytes()


def test_every_callback_has_a_sample() -> None:
    """There is one transcribed sample per callback name."""
    assert sorted(path.stem for path in FIXTURES.glob("*.json")) == sorted(CallbackName)


def test_new_remote_call_sample() -> None:
    """The newRemoteCall sample parses with numbers normalised to strings."""
    call = parse_callback_bytes("newRemoteCall", _sample("newRemoteCall"))
    assert call == NewRemoteCall(
        reply_id=REPLY_ID,
        remote_rtp_ip="10.2.30.12",
        remote_rtp_port=20000,
        codec_name="PCMA",
        codec=Codec.PCMA,
        telephone_event_payload_type=101,
        crypto=(CryptoEntry("string", 0, "string"),),
        source_user="1234567",
        destination_uri="sip:user@domain.com",
        call_id="nfdfsij82893kn",
        session_id="9bb07660-c747-11ea-afa0-bd07728b88b7",
        trace_id="9851cf70-1cc8-11ef-b3dd-9b598c1e38cf",
        http_transaction_id="6f486ab0-fa96-11ef-a5b0-5d34730683ab",
        domain="customer.prod-eu-north-1.iotcomms.io",
        ivr_server="127.0.0.1",
    )


def test_call_answered_sample() -> None:
    """callAnswered: numbers become strings, the empty-object reference becomes None."""
    answered = parse_callback_bytes("callAnswered", _sample("callAnswered"))
    assert answered == CallAnswered(
        reply_id=REPLY_ID,
        session_reference_id=None,
        remote_rtp_ip="10.0.0.2",
        remote_rtp_port=45000,
        codec_name="GSM",
        codec=Codec.GSM,
        calling_party_number="46890510",
        remote_party_number="46890200",
        caller_participant_id="d93f0370-c787-11eb-a47c-c9c4e460ef16",
        callee_participant_id="da9cbeb0-c787-11eb-a47c-c9c4e460ef16",
        connection_id="da9ce5c0-c787-11eb-a47c-c9c4e460ef16",
        calling_party_expires=600,
        called_party_expires=600,
        monitoring_participant=False,
        trace_id="d9b15290-fa96-11ef-a9c8-631ff62a0f63",
        http_transaction_id="6f486ab0-fa96-11ef-a5b0-5d34730683ab",
        site_id="siteA",
    )


def test_call_failed_sample() -> None:
    """callFailed: numeric session reference becomes its exact text."""
    failed = parse_callback_bytes("callFailed", _sample("callFailed"))
    assert isinstance(failed, CallFailed)
    assert (failed.sip_status, failed.sip_reason, failed.error_descr) == (
        403,
        "Busy Here",
        "Busy Here",
    )
    assert failed.session_reference_id == "20000"
    assert failed.sip_call_id == "nfdfsij82893kn"
    assert failed.participant_id == "c2af21a1-e90f-11ea-9564-1f1d01c9e7c9"


def test_call_hungup_sample() -> None:
    """callHungup: the numeric sourceUser becomes a string."""
    assert parse_callback_bytes("callHungup", _sample("callHungup")) == CallHungup(
        session_reference_id="20000",
        call_id="nfdfsij82893kn",
        destination_uri="sip:user@domain.com",
        source_user="1234567",
    )


def test_call_notify_sample_keeps_the_big_call_id_exact() -> None:
    """SipCallId 5473001594892095000 (beyond 2^53) keeps every digit."""
    notify = parse_callback_bytes("callNotify", _sample("callNotify"))
    assert isinstance(notify, CallNotify)
    assert notify.sip_call_id == "5473001594892095000"
    assert type(notify.sip_call_id) is str
    assert (notify.event, notify.user, notify.remote_user) == (
        "ringing",
        "+46890510",
        "+46890200",
    )
    assert notify.monitoring_participant is False
    assert notify.session_reference_id == "20000"
    # The same body decoded by the standard library (ints are exact there too) agrees.
    assert parse_callback("callNotify", json.loads(_sample("callNotify"))) == notify


@pytest.mark.parametrize("name", list(CallbackName))
def test_samples_round_trip_through_to_json(name: CallbackName) -> None:
    """to_json gives a body that parses back into the same model."""
    model = parse_callback_bytes(name, _sample(name))
    assert parse_callback(name, json.loads(json.dumps(model.to_json()))) == model
    assert CALLBACK_MODELS[name].name is name


def test_to_json_emits_codec_when_no_raw_name() -> None:
    """A model built in code (as the emulator does) writes its Codec."""
    assert CallAnswered(codec=Codec.PCMU).to_json() == {"codec": "PCMU"}
    assert CallAnswered(codec_name="pcmu/8000", codec=Codec.PCMU).to_json() == {
        "codec": "pcmu/8000"
    }


def test_repr_hides_reply_id_and_keys() -> None:
    """Neither the reply id nor crypto key material appear in repr."""
    call = parse_callback_bytes("newRemoteCall", _sample("newRemoteCall"))
    answered = CallAnswered(
        reply_id="secret-rid", crypto=(CryptoEntry("S", 1, "inline:KEY"),)
    )
    for text in (repr(call), repr(answered)):
        assert "secret-rid" not in text
        assert REPLY_ID not in text
        assert "inline:KEY" not in text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            b'{"}": 1, "b": [1.50, {"y": null, "x": true}], "a": "\\u00e9"}',
            '{"a":"\u00e9","b":[1.50,{"x":true,"y":null}],"}":1}',
        ),
        (b"[]", None),
        (b"{}", None),
        (b'""', None),
        (b"[1e400]", "[1e400]"),
        (b"5473001594892095000", "5473001594892095000"),
        (b"1.5e3", "1.5e3"),
        (b'"ref-1"', "ref-1"),
    ],
)
def test_session_reference_forms(raw: bytes, expected: str | None) -> None:
    """Objects become canonical JSON (exact numbers), empty ones None, numbers exact text."""
    body = b'{"callId": "c", "sessionReferenceId": ' + raw + b"}"
    hungup = parse_callback_bytes("callHungup", body)
    assert isinstance(hungup, CallHungup)
    assert hungup.session_reference_id == expected


def test_session_reference_from_decoded_python_values() -> None:
    """With an already-decoded body, floats and Decimals are written as JSON numbers."""
    from decimal import Decimal

    hungup = parse_callback(
        "callHungup",
        {
            "sessionReferenceId": {
                "f": 0.5,
                "d": Decimal("2.50"),
                "n": float("nan"),
                "i": Decimal("Infinity"),
                "t": (1,),
            }
        },
    )
    assert isinstance(hungup, CallHungup)
    assert hungup.session_reference_id == '{"d":2.50,"f":0.5,"i":null,"n":null,"t":[1]}'
    assert parse_callback("callHungup", {"sourceUser": 1.0}).source_user == "1.0"  # type: ignore[union-attr]
    assert parse_callback("callHungup", {"sourceUser": Decimal(7)}).source_user == "7"  # type: ignore[union-attr]
    with pytest.raises(CallbackParseError):
        parse_callback("callHungup", {"sessionReferenceId": {"x": object()}})


def test_float_text_in_string_fields_is_kept_exactly() -> None:
    """A JSON number with exponent in a string field keeps its original spelling."""
    hungup = parse_callback_bytes(
        "callHungup", b'{"sourceUser": 1.5e3, "callId": -0.000000000000000000001}'
    )
    assert isinstance(hungup, CallHungup)
    assert hungup.source_user == "1.5e3"
    assert hungup.call_id == "-0.000000000000000000001"
    assert type(hungup.source_user) is str


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (45000, 45000),
        ("45000", 45000),
        (" 45000 ", 45000),
        (45000.0, 45000),
        ("4.5e4", 45000),
        ("45000.00", 45000),
    ],
)
def test_numeric_fields_accept_number_strings(value: Any, expected: int) -> None:
    """Ports given as strings or integral floats are accepted."""
    call = parse_callback("newRemoteCall", {"replyId": "r", "remoteRtpPort": value})
    assert isinstance(call, NewRemoteCall)
    assert call.remote_rtp_port == expected


def test_exact_float_text_in_numeric_fields() -> None:
    """Exact float text from raw bytes is judged without rounding."""
    call = parse_callback_bytes(
        "newRemoteCall", b'{"replyId": "r", "remoteRtpPort": 4.5e4}'
    )
    assert isinstance(call, NewRemoteCall)
    assert call.remote_rtp_port == 45000
    with pytest.raises(CallbackParseError) as err:
        parse_callback_bytes(
            "newRemoteCall",
            b'{"replyId": "r", "remoteRtpPort": 45000.000000000000000001}',
        )
    assert err.value.field == "remoteRtpPort"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"remoteRtpPort": True}, "remoteRtpPort"),
        ({"remoteRtpPort": 0}, "remoteRtpPort"),
        ({"remoteRtpPort": 65536}, "remoteRtpPort"),
        ({"remoteRtpPort": "80a"}, "remoteRtpPort"),
        ({"remoteRtpPort": "1e999999999"}, "remoteRtpPort"),
        ({"remoteRtpPort": "NaN"}, "remoteRtpPort"),
        ({"remoteRtpPort": 1.5}, "remoteRtpPort"),
        ({"remoteRtpPort": "1.5"}, "remoteRtpPort"),
        ({"remoteRtpPort": [1]}, "remoteRtpPort"),
        ({"telephoneEventPayloadType": 128}, "telephoneEventPayloadType"),
        ({"remoteRtpIp": "rtp.example.com"}, "remoteRtpIp"),
        ({"remoteRtpIp": 10}, "remoteRtpIp"),
        ({"sourceUser": True}, "sourceUser"),
        ({"sourceUser": {"a": 1}}, "sourceUser"),
        ({"codec": ["PCMA"]}, "codec"),
        ({"crypto": {"id": 1}}, "crypto"),
        ({"crypto": ["x"]}, "crypto[0]"),
        ({"crypto": [{"suite": "S", "config": "c"}]}, "crypto[0].id"),
        ({"crypto": [{"suite": "S", "id": 1, "config": ""}]}, "crypto[0].config"),
        ({"crypto": [{"suite": "S", "id": -1, "config": "c"}]}, "crypto[0].id"),
        ({"siteBaseUrl": "ftp://site"}, "siteBaseUrl"),
        ({"siteBaseUrl": 5}, "siteBaseUrl"),
        ({"replyId": ""}, "replyId"),
        ({"replyId": None}, "replyId"),
        ({"replyId": False}, "replyId"),
    ],
)
def test_bad_values_name_the_field(body: dict[str, Any], field: str) -> None:
    """Values that cannot be coerced raise CallbackParseError naming the wire field."""
    with pytest.raises(CallbackParseError) as err:
        parse_callback("newRemoteCall", {"replyId": "secret-rid", **body})
    assert err.value.field == field
    assert "secret-rid" not in str(err.value)


@pytest.mark.parametrize(
    ("name", "body", "field"),
    [
        ("newRemoteCall", {}, "replyId"),
        ("callNotify", {"sipCallId": 1}, "event"),
        ("callFailed", {"sipStatus": 99}, "sipStatus"),
        ("callFailed", {"sipStatus": False}, "sipStatus"),
        ("callAnswered", {"monitoringParticipant": 1}, "monitoringParticipant"),
        ("callAnswered", {"callingPartyExpires": -1}, "callingPartyExpires"),
        ("callAnswered", {"replyId": " "}, "replyId"),
        ("callNotify", {"event": "ringing", "remoteRtpPort": 70000}, "remoteRtpPort"),
    ],
)
def test_required_and_ranged_fields(
    name: str, body: dict[str, Any], field: str
) -> None:
    """Missing required fields and out-of-range values name the field."""
    with pytest.raises(CallbackParseError) as err:
        parse_callback(name, body)
    assert err.value.field == field


def test_tolerated_forms() -> None:
    """Unknown fields are ignored, nulls mean absent, flags may be strings, codecs any case."""
    answered = parse_callback(
        "callAnswered",
        {
            "replyId": None,
            "somethingNew": {"deep": [1, 2]},
            "monitoringParticipant": "TRUE",
            "codec": "pcmu/8000",
            "siteBaseUrl": "https://site-a.example.com/api/",
            "remoteRtpIp": "2001:db8::1",
        },
    )
    assert answered == CallAnswered(
        monitoring_participant=True,
        codec_name="pcmu/8000",
        codec=Codec.PCMU,
        site_base_url="https://site-a.example.com/api",
        remote_rtp_ip="2001:db8::1",
    )
    unknown_codec = parse_callback("callNotify", {"event": "update", "codec": "G722"})
    assert isinstance(unknown_codec, CallNotify)
    assert (unknown_codec.codec, unknown_codec.codec_name) == (None, "G722")


@pytest.mark.parametrize("body", [None, [], "text", 5, True, [{"replyId": "r"}]])
def test_non_object_bodies(body: Any) -> None:
    """A body that is not a JSON object is refused as a whole (field None)."""
    with pytest.raises(CallbackParseError) as err:
        parse_callback("callHungup", body)
    assert err.value.field is None


@pytest.mark.parametrize(
    "name", ["", "newcall", "NEWREMOTECALL", "newRemoteCall/", "../x"]
)
def test_unknown_callback_names(name: str) -> None:
    """Names that are not one of the five give CallbackParseError with field None."""
    with pytest.raises(CallbackParseError) as err:
        parse_callback(name, {"replyId": "r"})
    assert err.value.field is None


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"{",
        b"{'a': 1}",
        b"\xff\xfe\xfa",
        b'{"a": NaN}',
        b'{"a": Infinity}',
        b"[" * 100_000 + b"]" * 100_000,
    ],
)
def test_invalid_json(raw: bytes) -> None:
    """Bytes that are not JSON give CallbackParseError with field None."""
    with pytest.raises(CallbackParseError) as err:
        parse_callback_bytes("callHungup", raw)
    assert err.value.field is None


def test_deeply_nested_reference_is_refused() -> None:
    """A reference nested too deeply for canonical JSON is a parse error, not a crash."""
    nested: Any = []
    for _ in range(5000):
        nested = [nested]
    with pytest.raises(CallbackParseError, match="nested"):
        parse_callback("callHungup", {"sessionReferenceId": nested})


def test_new_remote_call_response() -> None:
    """The response to newRemoteCall carries the session reference."""
    assert NewRemoteCallResponse("ha-call-1").to_json() == {
        "sessionReferenceId": "ha-call-1"
    }
    with pytest.raises(InvalidRequestError):
        NewRemoteCallResponse("")
