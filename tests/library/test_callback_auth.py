"""Callback signature checks with the platform's public key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from hypothesis import given, settings, strategies as st
import jwt
import pytest

from custom_components.cloud_sip_ua.cloudsipua import (
    CallbackAuthenticationError,
    CallbackVerifier,
    InvalidPublicKeyError,
    UnsupportedKeyTypeError,
)
from custom_components.cloud_sip_ua.cloudsipua.callback_auth import MAX_TOKEN_LENGTH

from .conftest import KeyPair

BODY = b'{"replyId": "r"}'


def _token(keys: KeyPair, **claims: Any) -> str:
    """Return an RS256 token signed with the key pair's private key."""
    claims.setdefault("exp", int(time.time()) + 60)
    claims = {key: value for key, value in claims.items() if value is not None}
    return jwt.encode(
        {"iss": "iotcomms", **claims}, keys.private_pem, algorithm="RS256"
    )


def _from_now(claims: dict[str, Any]) -> dict[str, Any]:
    """Return the claims with whole numbers taken as seconds from now."""
    now = int(time.time())
    return {
        key: now + value if isinstance(value, int) else value
        for key, value in claims.items()
    }


def _b64(data: bytes) -> str:
    """Return base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _bearer(token: str) -> dict[str, str]:
    """Return headers carrying the token."""
    return {"Authorization": f"Bearer {token}"}


def test_without_a_key_everything_is_accepted() -> None:
    """No key (or a blank one) disables verification."""
    for key in (None, "", "  \n", b""):
        verifier = CallbackVerifier(key)
        assert not verifier.enabled
        verifier.verify({}, BODY)


def test_valid_token_is_accepted(rsa_keys: KeyPair) -> None:
    """A fresh RS256 token passes; header name and scheme match case-insensitively."""
    verifier = CallbackVerifier(rsa_keys.public_pem.decode())
    assert verifier.enabled
    token = _token(rsa_keys, exp=int(time.time()) + 60)
    verifier.verify(_bearer(token), BODY)
    verifier.verify({"authorization": f"bearer  {token} "}, BODY)
    verifier.verify({"X-Other": "1", "AUTHORIZATION": f"BEARER {token}"}, BODY)
    # A token with an audience claim is fine when no audience is configured.
    verifier.verify(_bearer(_token(rsa_keys, aud="someone")), BODY)
    assert verifier.rejected == 0


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": -120},
        {"nbf": 120},
        {"iat": "yesterday"},
    ],
)
def test_time_claims_beyond_leeway_are_rejected(
    rsa_keys: KeyPair, claims: dict[str, Any]
) -> None:
    """Expired and not-yet-valid tokens fail once outside the leeway."""
    shifted = _from_now(claims)
    verifier = CallbackVerifier(rsa_keys.public_pem, leeway=60)
    with pytest.raises(CallbackAuthenticationError):
        verifier.verify(_bearer(_token(rsa_keys, **shifted)), BODY)
    assert verifier.rejected == 1


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": None},
        {"exp": 3600},
        {"iat": 0, "exp": 3600},
        {"iat": -3000, "exp": 60},
        {"exp": "soon"},
    ],
)
def test_tokens_need_a_bounded_expiry(
    rsa_keys: KeyPair, claims: dict[str, Any]
) -> None:
    """No exp, or a lifetime past MAX_TOKEN_LIFETIME, is refused: it would outlive the replay cache."""
    shifted = _from_now(claims)
    verifier = CallbackVerifier(rsa_keys.public_pem)
    with pytest.raises(CallbackAuthenticationError):
        verifier.verify(_bearer(_token(rsa_keys, **shifted)), BODY)
    verifier.verify(
        _bearer(_token(rsa_keys, **_from_now({"iat": 0, "exp": 600}))), BODY
    )


def test_time_claims_within_leeway_pass(rsa_keys: KeyPair) -> None:
    """A token expired 30 s ago, or valid in 30 s, passes with 60 s leeway."""
    now = int(time.time())
    verifier = CallbackVerifier(rsa_keys.public_pem, leeway=60)
    verifier.verify(_bearer(_token(rsa_keys, exp=now - 30)), BODY)
    verifier.verify(_bearer(_token(rsa_keys, nbf=now + 30)), BODY)


def test_audience_is_checked_when_configured(rsa_keys: KeyPair) -> None:
    """With an audience set, tokens must carry exactly it."""
    verifier = CallbackVerifier(rsa_keys.public_pem, audience="ha-1")
    verifier.verify(_bearer(_token(rsa_keys, aud="ha-1")), BODY)
    for token in (_token(rsa_keys, aud="ha-2"), _token(rsa_keys)):
        with pytest.raises(CallbackAuthenticationError):
            verifier.verify(_bearer(token), BODY)


def test_wrong_key_is_rejected(rsa_keys: KeyPair, other_rsa_keys: KeyPair) -> None:
    """A token signed by another key fails, and the message does not echo it."""
    token = _token(other_rsa_keys)
    with pytest.raises(CallbackAuthenticationError) as err:
        CallbackVerifier(rsa_keys.public_pem).verify(_bearer(token), BODY)
    assert token not in str(err.value)
    assert err.value.__cause__ is None


def test_alg_none_and_hs256_confusion_are_rejected(rsa_keys: KeyPair) -> None:
    """Unsigned tokens and HS256 tokens keyed with the public PEM are refused."""
    payload = _b64(json.dumps({"iss": "iotcomms"}).encode())
    unsigned = f"{_b64(b'{"alg":"none","typ":"JWT"}')}.{payload}."
    header = _b64(b'{"alg":"HS256","typ":"JWT"}')
    signature = hmac.new(
        rsa_keys.public_pem, f"{header}.{payload}".encode(), hashlib.sha256
    ).digest()
    confused = f"{header}.{payload}.{_b64(signature)}"
    verifier = CallbackVerifier(rsa_keys.public_pem)
    for token in (unsigned, confused):
        with pytest.raises(CallbackAuthenticationError):
            verifier.verify(_bearer(token), BODY)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer not.a.token"},
        {"Authorization": "Bearer " + "a" * (MAX_TOKEN_LENGTH + 1)},
        {"X-Signature": "abc"},
    ],
)
def test_missing_or_malformed_headers_are_rejected(
    rsa_keys: KeyPair, headers: dict[str, str]
) -> None:
    """No header, other schemes, garbage and giant tokens are refused."""
    with pytest.raises(CallbackAuthenticationError):
        CallbackVerifier(rsa_keys.public_pem).verify(headers, BODY)


def test_bad_keys_fail_at_construction(rsa_keys: KeyPair, ec_keys: KeyPair) -> None:
    """A private key, an EC key or garbage cannot be the verification key."""
    with pytest.raises(InvalidPublicKeyError):
        CallbackVerifier(rsa_keys.private_pem)
    with pytest.raises(UnsupportedKeyTypeError):
        CallbackVerifier(ec_keys.public_pem)
    with pytest.raises(InvalidPublicKeyError):
        CallbackVerifier("garbage")


@pytest.fixture(scope="module")
def verifier_for_fuzzing(rsa_keys: KeyPair) -> CallbackVerifier:
    """Return one verifier shared by the fuzz examples."""
    return CallbackVerifier(rsa_keys.public_pem)


@settings(max_examples=300, deadline=None)
@given(
    value=st.text(max_size=300)
    | st.from_regex(r"\A[Bb]earer [A-Za-z0-9_.\-=]{0,200}\Z")
)
def test_any_header_value_is_rejected_cleanly(
    verifier_for_fuzzing: CallbackVerifier, value: str
) -> None:
    """Random Authorization values raise CallbackAuthenticationError and nothing else."""
    with pytest.raises(CallbackAuthenticationError):
        verifier_for_fuzzing.verify({"Authorization": value}, BODY)


def test_pinned_body_digest_must_match(rsa_keys: KeyPair) -> None:
    """A token that pins the body's SHA-256 is valid for that body only."""
    verifier = CallbackVerifier(rsa_keys.public_pem)
    digest = hashlib.sha256(BODY).hexdigest()
    token = _token(rsa_keys, exp=int(time.time()) + 60, body_sha256=digest)
    verifier.verify(_bearer(token), BODY)
    with pytest.raises(CallbackAuthenticationError):
        verifier.verify(_bearer(token), BODY + b" ")
    assert verifier.rejected == 1
