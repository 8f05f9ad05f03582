"""Request bodies: validation before sending and the exact wire form."""

from __future__ import annotations

from typing import Any

import pytest

from custom_components.cloud_sip_ua.cloudsipua import (
    AnswerCallRequest,
    Codec,
    CryptoEntry,
    InvalidRequestError,
    PlaceCallRequest,
    destination_to_uri,
)

REPLY_ID = "secret-reply-id"
KEY = "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
CALLBACK = "https://ha.example.net/api/cloud_sip_ua/0123456789abcdef"


def test_answer_request_json_minimal_and_defaults() -> None:
    """Defaults: PCMA, telephone-event 101, no crypto, no session reference."""
    request = AnswerCallRequest(REPLY_ID, "192.0.2.1", 4000)
    assert request.to_json() == {
        "replyId": REPLY_ID,
        "receiveIp": "192.0.2.1",
        "receivePort": 4000,
        "codec": "PCMA",
        "telephoneEventPayloadType": 101,
    }


def test_requests_normalise_codec_and_crypto() -> None:
    """Codec given as text becomes a Codec; a crypto list becomes a tuple."""
    entry = CryptoEntry("AES_CM_128_HMAC_SHA1_32", 2, KEY)
    request = AnswerCallRequest(REPLY_ID, "::1", 1, codec="PCMU", crypto=[entry])  # type: ignore[arg-type]
    assert request.codec is Codec.PCMU
    assert request.crypto == (entry,)


def test_place_request_json_minimal() -> None:
    """Only set fields appear; the callback base URL loses its trailing slash."""
    request = PlaceCallRequest(
        "tel:+4690200",
        "198.51.100.7",
        65535,
        CALLBACK + "/",
        telephone_event_payload_type=None,
    )
    assert request.to_json() == {
        "destinationUri": "tel:+4690200",
        "callbackBaseUrl": CALLBACK,
        "receiveIp": "198.51.100.7",
        "receivePort": 65535,
        "codec": "PCMA",
    }


def test_reprs_hide_secrets() -> None:
    """Reply id, key material and the secret callback URL never show in repr."""
    crypto = (CryptoEntry("AES_CM_128_HMAC_SHA1_80", 1, KEY),)
    answer = AnswerCallRequest(REPLY_ID, "192.0.2.1", 4000, crypto=crypto)
    place = PlaceCallRequest("sip:a@b.c", "192.0.2.1", 4000, CALLBACK, crypto=crypto)
    for text in (repr(answer), repr(place)):
        assert REPLY_ID not in text
        assert KEY not in text
        assert CALLBACK not in text
        assert "AES_CM_128_HMAC_SHA1_80" in text


GOOD_ANSWER: dict[str, Any] = {
    "reply_id": REPLY_ID,
    "receive_ip": "192.0.2.1",
    "receive_port": 4000,
}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"reply_id": ""}, "reply_id"),
        ({"reply_id": " "}, "reply_id"),
        ({"reply_id": None}, "reply_id"),
        ({"receive_ip": "ha.local"}, "receive_ip"),
        ({"receive_ip": "0.0.0.0"}, "receive_ip"),
        ({"receive_ip": "::"}, "receive_ip"),
        ({"receive_ip": "224.0.0.1"}, "receive_ip"),
        ({"receive_ip": 3232235521}, "receive_ip"),
        ({"receive_port": 0}, "receive_port"),
        ({"receive_port": 65536}, "receive_port"),
        ({"receive_port": True}, "receive_port"),
        ({"receive_port": "4000"}, "receive_port"),
        ({"codec": Codec.GSM}, "codec"),
        ({"codec": "OPUS"}, "codec"),
        ({"codec": 8}, "codec"),
        ({"telephone_event_payload_type": 95}, "telephone_event_payload_type"),
        ({"telephone_event_payload_type": 128}, "telephone_event_payload_type"),
        ({"crypto": "AES"}, "crypto"),
        ({"crypto": 5}, "crypto"),
        ({"crypto": ({"suite": "x"},)}, "crypto[0]"),
        ({"crypto": (CryptoEntry("", 1, KEY),)}, "crypto[0].suite"),
        ({"crypto": (CryptoEntry("A B", 1, KEY),)}, "crypto[0].suite"),
        ({"crypto": (CryptoEntry("S", -1, KEY),)}, "crypto[0].tag"),
        ({"crypto": (CryptoEntry("S", 10**9, KEY),)}, "crypto[0].tag"),
        ({"crypto": (CryptoEntry("S", 1, " "),)}, "crypto[0].config"),
        (
            {"crypto": (CryptoEntry("S", 1, KEY), CryptoEntry("T", 1, KEY))},
            "crypto[1].tag",
        ),
        ({"session_reference_id": ""}, "session_reference_id"),
        ({"session_reference_id": 5}, "session_reference_id"),
    ],
)
def test_answer_request_validation(changes: dict[str, Any], field: str) -> None:
    """Each bad value raises InvalidRequestError naming its field, never quoting secrets."""
    with pytest.raises(InvalidRequestError) as err:
        AnswerCallRequest(**{**GOOD_ANSWER, **changes})
    assert err.value.field == field
    assert KEY not in str(err.value)


GOOD_PLACE: dict[str, Any] = {
    "destination_uri": "sip:bob@example.com",
    "receive_ip": "192.0.2.1",
    "receive_port": 4000,
    "callback_base_url": CALLBACK,
}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"destination_uri": "bob@example.com"}, "destination_uri"),
        ({"destination_uri": "http://example.com"}, "destination_uri"),
        ({"destination_uri": "sip:"}, "destination_uri"),
        ({"destination_uri": "sip:bob@"}, "destination_uri"),
        ({"destination_uri": "sip:@example.com"}, "destination_uri"),
        ({"destination_uri": "sip:bob @example.com"}, "destination_uri"),
        ({"destination_uri": "tel:"}, "destination_uri"),
        ({"destination_uri": "tel:abc"}, "destination_uri"),
        ({"destination_uri": None}, "destination_uri"),
        ({"callback_base_url": "ftp://x.example"}, "callback_base_url"),
        ({"callback_base_url": "/relative/path"}, "callback_base_url"),
        ({"callback_base_url": "https://x.example/#frag"}, "callback_base_url"),
        ({"callback_base_url": ""}, "callback_base_url"),
        ({"callback_base_url": None}, "callback_base_url"),
        ({"codec": "OPUS"}, "codec"),
        ({"source_user": ""}, "source_user"),
        ({"source_user": "a b"}, "source_user"),
        ({"receive_port": -5}, "receive_port"),
        ({"receive_ip": "not-an-ip"}, "receive_ip"),
        ({"telephone_event_payload_type": 0}, "telephone_event_payload_type"),
    ],
)
def test_place_request_validation(changes: dict[str, Any], field: str) -> None:
    """Each bad value raises InvalidRequestError naming its field."""
    with pytest.raises(InvalidRequestError) as err:
        PlaceCallRequest(**{**GOOD_PLACE, **changes})
    assert err.value.field == field


@pytest.mark.parametrize(
    "uri",
    [
        "sip:bob@example.com",
        "SIPS:bob@example.com:5061;transport=tls",
        "sip:example.com",
        "tel:+46-8-123;phone-context=x",
    ],
)
def test_place_request_accepts_uris(uri: str) -> None:
    """sip, sips and tel URIs with parameters are accepted unchanged."""
    assert (
        PlaceCallRequest(**{**GOOD_PLACE, "destination_uri": uri}).destination_uri
        == uri
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+46 (8) 905-10", "sip:+46890510@customer.prod-eu-north-1.iotcomms.io"),
        ("1234", "sip:1234@customer.prod-eu-north-1.iotcomms.io"),
        ("alice.smith", "sip:alice.smith@customer.prod-eu-north-1.iotcomms.io"),
        ("  bob@example.org ", "sip:bob@example.org"),
        ("sip:carol@example.org", "sip:carol@example.org"),
        ("tel:+4612345", "tel:+4612345"),
    ],
)
def test_destination_to_uri(text: str, expected: str) -> None:
    """Numbers and users become sip:<user>@<domain>; URIs pass through checked."""
    assert destination_to_uri(text, "Customer.prod-eu-north-1.iotcomms.io") == expected


@pytest.mark.parametrize(
    ("text", "domain"),
    [
        ("", "a.b.c"),
        ("   ", "a.b.c"),
        ("bob smith", "a.b.c"),
        ("bob<script>", "a.b.c"),
        ("1234", "not a domain"),
        ("sip:", "a.b.c"),
        ("@example.org", "a.b.c"),
        (None, "a.b.c"),
    ],
)
def test_destination_to_uri_refuses_garbage(text: Any, domain: str) -> None:
    """Text that cannot be a SIP user, or a bad domain, raises InvalidRequestError."""
    with pytest.raises(InvalidRequestError):
        destination_to_uri(text, domain)


def test_codec_payload_types() -> None:
    """The static RTP payload types of RFC 3551."""
    assert [codec.payload_type for codec in (Codec.PCMU, Codec.GSM, Codec.PCMA)] == [
        0,
        3,
        8,
    ]
