"""Key loading and bearer token minting."""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
import jwt
import pytest

from custom_components.cloud_sip_ua.cloudsipua import (
    CredentialsError,
    InvalidPrivateKeyError,
    InvalidPublicKeyError,
    InvalidRequestError,
    InvalidTokenError,
    NotAPrivateKeyError,
    PrivateKeyTokenProvider,
    StaticTokenProvider,
    UnsupportedKeyTypeError,
    load_private_key,
    load_public_key,
)

from .conftest import DOMAIN, KeyPair, self_signed_certificate


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float) -> None:
        """Start at now."""
        self.now = now

    def __call__(self) -> float:
        """Return the current fake time."""
        return self.now


def _certificate_pem(keys: KeyPair) -> bytes:
    """Return a self-signed certificate for the key pair."""
    key = serialization.load_pem_private_key(keys.private_pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return self_signed_certificate(key, "test").public_bytes(serialization.Encoding.PEM)


def _decode(token: str, keys: KeyPair, audience: str | None = None) -> dict[str, Any]:
    """Verify and decode a token with the public key, ignoring time."""
    return jwt.decode(
        token,
        keys.public_pem,
        algorithms=["RS256"],
        audience=audience,
        options={"verify_exp": False, "verify_iat": False},
    )


def test_load_private_key_accepts_rsa_pem_as_text_and_bytes(rsa_keys: KeyPair) -> None:
    """PEM text and bytes, with surrounding whitespace, both load."""
    assert load_private_key(rsa_keys.private_pem).key_size == 2048
    assert load_private_key(f"\n  {rsa_keys.private_pem.decode()}  \n").key_size == 2048


def test_private_key_errors_are_specific(rsa_keys: KeyPair, ec_keys: KeyPair) -> None:
    """Public key, certificate, EC key, garbage and encrypted keys give distinct errors."""
    with pytest.raises(NotAPrivateKeyError):
        load_private_key(rsa_keys.public_pem)
    with pytest.raises(NotAPrivateKeyError):
        load_private_key(_certificate_pem(rsa_keys))
    with pytest.raises(UnsupportedKeyTypeError, match="RSA"):
        load_private_key(ec_keys.private_pem)
    with pytest.raises(InvalidPrivateKeyError):
        load_private_key("not a key")
    with pytest.raises(InvalidPrivateKeyError):
        load_private_key(rsa_keys.private_pem[:200])
    key = serialization.load_pem_private_key(rsa_keys.private_pem, password=None)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    )
    with pytest.raises(InvalidPrivateKeyError, match="encrypted"):
        load_private_key(encrypted)


def _tampered_pem(keys: KeyPair, **changes: int) -> bytes:
    """Return the key with some of its private numbers changed, written as PEM."""
    key = serialization.load_pem_private_key(keys.private_pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    numbers = key.private_numbers()
    parts = {
        name: getattr(numbers, name) for name in ("p", "q", "d", "dmp1", "dmq1", "iqmp")
    } | changes
    tampered = rsa.RSAPrivateNumbers(
        **parts, public_numbers=numbers.public_numbers
    ).private_key(unsafe_skip_rsa_key_validation=True)
    return tampered.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.mark.parametrize("part", ["d", "dmp1", "dmq1", "iqmp"])
def test_rsa_keys_whose_parts_do_not_fit_are_refused(
    rsa_keys: KeyPair, part: str
) -> None:
    """A wrong private exponent or CRT value (signatures that leak the key) is refused."""
    key = serialization.load_pem_private_key(rsa_keys.private_pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    value = getattr(key.private_numbers(), part)
    with pytest.raises(InvalidPrivateKeyError, match="do not fit"):
        load_private_key(_tampered_pem(rsa_keys, **{part: value + 2}))


def test_rsa_key_with_a_small_factor_is_refused(rsa_keys: KeyPair) -> None:
    """A factor with a small prime in it (the parts fitting together otherwise) is refused."""
    key = serialization.load_pem_private_key(rsa_keys.private_pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    numbers = key.private_numbers()
    p, q, e = 3 * numbers.p, numbers.q, 65537
    d = pow(e, -1, math.lcm(p - 1, q - 1))
    small = rsa.RSAPrivateNumbers(
        p=p,
        q=q,
        d=d,
        dmp1=d % (p - 1),
        dmq1=d % (q - 1),
        iqmp=pow(q, -1, p),
        public_numbers=rsa.RSAPublicNumbers(e, p * q),
    ).private_key(unsafe_skip_rsa_key_validation=True)
    pem = small.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(InvalidPrivateKeyError, match="do not fit"):
        load_private_key(pem)


def test_loading_a_key_takes_no_noticeable_cpu(rsa_keys: KeyPair) -> None:
    """Loading holds the GIL for well under a millisecond, not OpenSSL's 50-300 ms prime proof.

    (Even from an executor thread, a long GIL hold stalls Home Assistant's event loop.)
    """
    load_private_key(rsa_keys.private_pem)  # warm up
    started = time.thread_time()
    for _ in range(10):
        load_private_key(rsa_keys.private_pem)
    assert (time.thread_time() - started) / 10 < 0.005


def test_short_rsa_keys_are_refused() -> None:
    """RSA keys under 2048 bits are refused for signing and verifying."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(UnsupportedKeyTypeError, match="1024"):
        load_private_key(private)
    with pytest.raises(UnsupportedKeyTypeError, match="1024"):
        load_public_key(public)


def test_error_messages_never_quote_the_key(rsa_keys: KeyPair) -> None:
    """No part of the PEM body appears in any credentials error."""
    damaged = rsa_keys.private_pem.replace(b"M", b"*", 3)
    with pytest.raises(CredentialsError) as err:
        load_private_key(damaged)
    body_line = rsa_keys.private_pem.splitlines()[1].decode()
    assert body_line[:20] not in str(err.value)
    with pytest.raises(CredentialsError) as err:
        load_public_key(rsa_keys.private_pem)
    assert body_line[:20] not in str(err.value)


def test_load_public_key(rsa_keys: KeyPair, ec_keys: KeyPair) -> None:
    """Public keys and certificates load; private keys, EC keys and garbage are refused."""
    assert load_public_key(rsa_keys.public_pem).key_size == 2048
    assert load_public_key(_certificate_pem(rsa_keys).decode()).key_size == 2048
    with pytest.raises(InvalidPublicKeyError, match="private key"):
        load_public_key(rsa_keys.private_pem)
    with pytest.raises(UnsupportedKeyTypeError):
        load_public_key(ec_keys.public_pem)
    with pytest.raises(InvalidPublicKeyError):
        load_public_key(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")


async def test_token_claims_and_header(rsa_keys: KeyPair) -> None:
    """The token carries iss, sub, iat, exp=iat+lifetime, aud, extra claims and the kid header."""
    clock = FakeClock(1_700_000_000.7)
    provider = PrivateKeyTokenProvider(
        rsa_keys.private_pem,
        DOMAIN,
        key_id="kid-9",
        issuer="issuer-x",
        subject="subject-y",
        audience="https://api.example",
        lifetime=120,
        extra_claims={"tenant": "t1"},
        clock=clock,
    )
    token = await provider.async_get_token()
    claims = _decode(token, rsa_keys, audience="https://api.example")
    assert claims == {
        "iss": "issuer-x",
        "sub": "subject-y",
        "aud": "https://api.example",
        "iat": 1_700_000_000,
        "exp": 1_700_000_120,
        "tenant": "t1",
    }
    assert jwt.get_unverified_header(token) == {
        "alg": "RS256",
        "kid": "kid-9",
        "typ": "JWT",
    }


async def test_token_defaults(rsa_keys: KeyPair) -> None:
    """By default iss and sub are the domain, no aud, no kid, 300 s lifetime."""
    provider = PrivateKeyTokenProvider(rsa_keys.private_pem, DOMAIN.upper())
    token = await provider.async_get_token()
    claims = jwt.decode(token, rsa_keys.public_pem, algorithms=["RS256"])
    assert claims["iss"] == claims["sub"] == DOMAIN
    assert "aud" not in claims
    assert claims["exp"] - claims["iat"] == 300
    assert "kid" not in jwt.get_unverified_header(token)
    assert "PRIVATE" not in repr(provider)
    assert token not in repr(provider)


async def test_token_is_cached_and_renewed_before_expiry(rsa_keys: KeyPair) -> None:
    """The token is reused until renew_before seconds before exp, then a new one is minted."""
    clock = FakeClock(1000.0)
    provider = PrivateKeyTokenProvider(
        rsa_keys.private_pem, DOMAIN, lifetime=300, renew_before=30, clock=clock
    )
    first = await provider.async_get_token()
    clock.now = 1269.9
    assert await provider.async_get_token() == first
    assert provider.tokens_minted == 1
    clock.now = 1270.0
    second = await provider.async_get_token()
    assert provider.tokens_minted == 2
    assert second != first
    assert _decode(second, rsa_keys)["iat"] == 1270


async def test_invalidate_forces_a_new_token(rsa_keys: KeyPair) -> None:
    """After invalidate() the next call mints even though the old token is still fresh."""
    clock = FakeClock(5000.0)
    provider = PrivateKeyTokenProvider(rsa_keys.private_pem, DOMAIN, clock=clock)
    await provider.async_get_token()
    provider.invalidate()
    clock.now = 5001.0
    token = await provider.async_get_token()
    assert provider.tokens_minted == 2
    assert _decode(token, rsa_keys)["iat"] == 5001


async def test_concurrent_callers_share_one_mint(rsa_keys: KeyPair) -> None:
    """100 concurrent callers get the same token from exactly one mint."""
    provider = PrivateKeyTokenProvider(rsa_keys.private_pem, DOMAIN)
    tokens = await asyncio.gather(*(provider.async_get_token() for _ in range(100)))
    assert provider.tokens_minted == 1
    assert len(set(tokens)) == 1


async def test_waiters_behind_the_lock_reuse_the_new_token(rsa_keys: KeyPair) -> None:
    """A caller that waited for the lock takes the token minted meanwhile instead of minting."""
    provider = PrivateKeyTokenProvider(rsa_keys.private_pem, DOMAIN)
    lock = provider._lock  # noqa: SLF001
    async with lock:
        waiters = [asyncio.create_task(provider.async_get_token()) for _ in range(5)]
        await asyncio.sleep(0)
        minted = provider._mint()  # noqa: SLF001
    assert await asyncio.gather(*waiters) == [minted] * 5
    assert provider.tokens_minted == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"lifetime": 0}, "lifetime"),
        ({"lifetime": True}, "lifetime"),
        ({"lifetime": float("nan")}, "lifetime"),
        ({"renew_before": 300}, "renew_before"),
        ({"renew_before": -1}, "renew_before"),
        ({"renew_before": "5"}, "renew_before"),
        ({"extra_claims": {"exp": 1, "iss": "x"}}, "extra_claims"),
    ],
)
def test_token_settings_are_checked(
    rsa_keys: KeyPair, kwargs: dict[str, Any], field: str
) -> None:
    """Impossible lifetimes and claim clashes raise InvalidRequestError naming the setting."""
    with pytest.raises(InvalidRequestError) as err:
        PrivateKeyTokenProvider(rsa_keys.private_pem, DOMAIN, **kwargs)
    assert err.value.field == field


def test_token_provider_refuses_bad_domain_and_key(rsa_keys: KeyPair) -> None:
    """A bad domain or a public key fails at construction."""
    with pytest.raises(InvalidRequestError):
        PrivateKeyTokenProvider(rsa_keys.private_pem, "nodots")
    with pytest.raises(NotAPrivateKeyError):
        PrivateKeyTokenProvider(rsa_keys.public_pem, DOMAIN)


async def test_static_token_provider() -> None:
    """A pasted token is returned as is (a Bearer prefix is dropped); invalidate changes nothing."""
    provider = StaticTokenProvider("  Bearer a.b.c \n")
    assert await provider.async_get_token() == "a.b.c"
    provider.invalidate()
    assert await provider.async_get_token() == "a.b.c"
    assert "a.b.c" not in repr(provider)


@pytest.mark.parametrize(
    "token", ["", "   ", "Bearer ", "a b", "a\r\nX-Evil: 1", "tökén", None]
)
def test_static_token_must_fit_a_header(token: Any) -> None:
    """Empty tokens and tokens that could break the header are refused."""
    with pytest.raises(InvalidTokenError):
        StaticTokenProvider(token)
