"""The vendor API's gatekeeping: JWT checks, schema validation, CORS, domains and replyIds."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import aiohttp
import jwt
import pytest

from emulator import Emulator
from emulator.reply_ids import ReplyIdError, ReplyIdIssuer, ReplyStep

from .conftest import DOMAIN, ApiCall
from .helpers import CallbackReceiver, api_token, key_pair

OPERATIONS = (
    "answerremotecalljwt",
    "hangupcalljwt",
    "placeremotecalljwt",
    "sendremotecallringbackjwt",
)


def _unsigned_token() -> str:
    """Return a JWT with alg none."""
    now = int(time.time())
    return jwt.encode({"iat": now, "exp": now + 60}, "", algorithm="none")


def _hs256_with_public_key() -> str:
    """Return an HS256 JWT keyed with the public key PEM (the algorithm-confusion attack)."""
    now = int(time.time())
    header = jwt.utils.base64url_encode(b'{"alg":"HS256","typ":"JWT"}')
    payload = jwt.utils.base64url_encode(
        json.dumps({"iat": now, "exp": now + 60}).encode()
    )
    signing_input = header + b"." + payload
    mac = hmac.new(key_pair("api").public, signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + jwt.utils.base64url_encode(mac)).decode()


def _tampered() -> str:
    """Return a valid token whose payload was changed after signing."""
    header, payload, signature = api_token().split(".")
    forged = jwt.utils.base64url_encode(b'{"exp": 9999999999, "sub": "admin"}').decode()
    assert forged != payload
    return f"{header}.{forged}.{signature}"


def _no_exp() -> str:
    """Return an RS256 token without an expiry."""
    return jwt.encode(
        {"iat": int(time.time())}, key_pair("api").private, algorithm="RS256"
    )


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        ("", "missing Authorization header"),
        ("Basic dXNlcjpwYXNz", "Authorization must be 'Bearer <JWT>'"),
        ("Bearer ", "Authorization must be 'Bearer <JWT>'"),
        ("Bearer not.a.jwt", "invalid token: DecodeError"),
        ("Bearer " + "x" * 5000, "invalid token: DecodeError"),
        (f"Bearer {_tampered()}", "token signature does not verify"),
        (
            f"Bearer {api_token(key_pair('other').private)}",
            "token signature does not verify",
        ),
        (f"Bearer {api_token(lifetime=-60)}", "token expired"),
        (f"Bearer {_unsigned_token()}", "token algorithm must be RS256"),
        (f"Bearer {_hs256_with_public_key()}", "token algorithm must be RS256"),
        (f"Bearer {_no_exp()}", "invalid token: MissingRequiredClaimError"),
    ],
)
async def test_bad_tokens_get_401(
    api: ApiCall, authorization: str, reason: str
) -> None:
    """Missing, malformed, tampered, foreign, expired and wrong-algorithm tokens are refused."""
    for operation in OPERATIONS:
        assert await api(operation, {"replyId": "x"}, authorization=authorization) == (
            401,
            {"success": False, "reason": reason},
        )


async def test_401_carries_www_authenticate(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    """A refused token is answered like a bearer-protected resource should be."""
    url = f"{emulator.base_url}/mediaservice/{DOMAIN}/hangupcalljwt"
    async with http.post(url, json={"replyId": "x"}) as response:
        assert response.status == 401
        assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


@pytest.mark.parametrize(
    "config_overrides",
    [
        {
            "api_jwt_audience": "cloud-sip-ua",
            "api_jwt_issuer": "me",
            "api_jwt_require_exp": False,
        }
    ],
)
async def test_audience_and_issuer_when_configured(api: ApiCall) -> None:
    """Optional claim checks: audience and issuer must match when configured."""
    private = key_pair("api").private
    good = jwt.encode({"aud": "cloud-sip-ua", "iss": "me"}, private, algorithm="RS256")
    wrong = jwt.encode({"aud": "other", "iss": "me"}, private, algorithm="RS256")
    body = {"replyId": "x"}
    assert (await api("hangupcalljwt", body, token=good))[0] == 200
    assert await api("hangupcalljwt", body, token=wrong) == (
        401,
        {"success": False, "reason": "invalid token: InvalidAudienceError"},
    )


async def test_unknown_domain_is_404(api: ApiCall) -> None:
    """Only the configured tenant domain exists."""
    assert await api("hangupcalljwt", {"replyId": "x"}, domain="other.example.com") == (
        404,
        {"success": False, "reason": "unknown domain"},
    )


@pytest.mark.parametrize(
    ("operation", "body", "field", "detail"),
    [
        ("hangupcalljwt", {}, "replyId", '"replyId" is a required property'),
        ("hangupcalljwt", {"replyId": 5}, "replyId", 'not of type "string"'),
        ("hangupcalljwt", [], "body", 'not of type "object"'),
        ("sendremotecallringbackjwt", "x", "body", 'not of type "object"'),
        (
            "answerremotecalljwt",
            {"replyId": "x", "receiveIp": "127.0.0.1", "receivePort": "4000"},
            "receivePort",
            'not of type "number"',
        ),
        (
            "answerremotecalljwt",
            {"replyId": "x", "receiveIp": "1.2.3.4", "receivePort": 1, "codec": "GSM"},
            "codec",
            '"GSM" is not one of',
        ),
        (
            "placeremotecalljwt",
            {
                "destinationUri": "sip:a@b",
                "receiveIp": "1.2.3.4",
                "receivePort": 1,
                "crypto": [{"suite": "x", "id": "1", "config": "y"}],
            },
            "crypto.0.id",
            'not of type "number"',
        ),  # fmt: skip
        (
            "placeremotecalljwt",
            {"receiveIp": "1.2.3.4", "receivePort": 1},
            "destinationUri",
            "required property",
        ),
    ],
)
async def test_malformed_body_is_400_naming_the_field(
    api: ApiCall, operation: str, body: Any, field: str, detail: str
) -> None:
    """A body that breaks the document is answered 400 with the field named."""
    status, result = await api(operation, body)
    assert status == 400
    assert result["success"] is False
    assert result["field"] == field
    assert result["reason"].startswith(f"invalid request: {field}: ")
    assert detail in result["reason"]


@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b"NaN", b'{"replyId": 1e999}', b"\xff\xfe", b"[" * 50000],
)
async def test_non_json_body_is_400(
    emulator: Emulator, http: aiohttp.ClientSession, raw: bytes
) -> None:
    """Bodies that are not strict JSON are refused without a server error."""
    url = f"{emulator.base_url}/mediaservice/{DOMAIN}/hangupcalljwt"
    headers = {
        "Authorization": f"Bearer {api_token()}",
        "Content-Type": "application/json",
    }
    async with http.post(url, data=raw, headers=headers) as response:
        assert response.status == 400
        result = await response.json()
    assert result["field"] == "body"


async def test_huge_number_is_handled(api: ApiCall) -> None:
    """An integer beyond any machine type is either refused as 400 or as success false."""
    body = {"replyId": "x", "receiveIp": "127.0.0.1", "receivePort": 10**400}
    status, result = await api("answerremotecalljwt", body)
    assert status in (200, 400)
    assert result["success"] is False


async def test_options_answers_cors(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    """Every operation answers the CORS preflight with 200 and `{}`, without a token."""
    for operation in OPERATIONS:
        url = f"{emulator.base_url}/mediaservice/{DOMAIN}/{operation}"
        headers = {
            "Origin": "http://example.com",
            "Access-Control-Request-Method": "POST",
        }
        async with http.options(url, headers=headers) as response:
            assert response.status == 200
            assert await response.json() == {}
            assert response.headers["Access-Control-Allow-Origin"] == "*"
            assert "POST" in response.headers["Access-Control-Allow-Methods"]
            assert "Authorization" in response.headers["Access-Control-Allow-Headers"]


async def test_reply_id_refusals(
    emulator: Emulator, receiver: CallbackReceiver, api: ApiCall
) -> None:
    """Unknown, foreign, wrong-step and expired replyIds give success false with a reason."""
    await emulator.ring()
    reply_id = receiver.named("newRemoteCall")[0].body["replyId"]
    foreign = ReplyIdIssuer(DOMAIN, 60).issue("123", ReplyStep.INCOMING)
    for bad in ("garbage", foreign, api_token()):
        assert (await api("hangupcalljwt", {"replyId": bad}))[1] == {
            "success": False,
            "reason": "unknown replyId",
        }
    assert emulator.expire_reply_ids() == 1
    assert emulator.expire_reply_ids() == 0
    assert (await api("sendremotecallringbackjwt", {"replyId": reply_id}))[1] == {
        "success": False,
        "reason": "replyId expired",
    }


def test_reply_id_issuer_checks() -> None:
    """The issuer binds a replyId to call, step and lifetime."""
    issuer = ReplyIdIssuer(DOMAIN, ttl=60)
    incoming = issuer.issue("42", ReplyStep.INCOMING)
    grant = issuer.check(incoming, "answerremotecalljwt")
    assert (grant.call_id, grant.step) == ("42", ReplyStep.INCOMING)
    connected = issuer.check(issuer.issue("42", ReplyStep.CONNECTED), "hangupcalljwt")
    assert connected.step is ReplyStep.CONNECTED
    with pytest.raises(ReplyIdError, match="does not allow answerremotecalljwt"):
        issuer.check(issuer.issue("42", ReplyStep.CONNECTED), "answerremotecalljwt")

    secret = issuer._secret  # noqa: SLF001 - forging needs the emulator's secret
    now = int(time.time())
    expired = jwt.encode(
        {"callId": "42", "step": "newRemoteCall", "jti": "x", "exp": now - 10},
        secret,
        algorithm="HS256",
    )
    with pytest.raises(ReplyIdError, match="replyId expired"):
        issuer.check(expired, "hangupcalljwt")
    for claims in (
        {"callId": "42", "step": "elsewhere", "jti": "x"},  # unknown step
        {"callId": "42", "step": "newRemoteCall", "jti": "never-issued"},
        {"callId": 42, "step": "newRemoteCall", "jti": "x"},
    ):
        with pytest.raises(ReplyIdError, match="unknown replyId"):
            issuer.check(jwt.encode(claims, secret, algorithm="HS256"), "hangupcalljwt")
