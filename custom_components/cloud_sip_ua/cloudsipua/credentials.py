"""Credentials for the REST API: RS256 keys and the bearer tokens minted from them."""

from __future__ import annotations

from abc import ABC, abstractmethod
import asyncio
from collections.abc import Callable, Mapping
import math
import time
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.x509 import load_pem_x509_certificate
import jwt

from .exceptions import (
    InvalidPrivateKeyError,
    InvalidPublicKeyError,
    InvalidRequestError,
    InvalidTokenError,
    NotAPrivateKeyError,
    UnsupportedKeyTypeError,
)
from .validation import validate_domain

MIN_RSA_KEY_BITS = 2048
# The product of the odd primes below 2000: a factor sharing one with it is not a large prime.
_SMALL_PRIMES = math.prod(
    n for n in range(3, 2000, 2) if all(n % k for k in range(3, math.isqrt(n) + 1, 2))
)
# Claims the provider sets itself; extra_claims may not override them.
_RESERVED_CLAIMS = frozenset({"iss", "sub", "aud", "iat", "exp"})


def _pem_bytes(pem: str | bytes) -> bytes:
    """Return the PEM text as bytes with surrounding whitespace removed."""
    data = pem.encode() if isinstance(pem, str) else pem
    return data.strip()


def _is_public_material(data: bytes) -> bool:
    """Tell whether the PEM holds a public key or certificate rather than a private key."""
    try:
        serialization.load_pem_public_key(data)
    except ValueError, TypeError, UnsupportedAlgorithm:
        pass
    else:
        return True
    try:
        load_pem_x509_certificate(data)
    except ValueError, TypeError:
        return False
    return True


def _check_rsa_size(key_size: int) -> None:
    """Refuse RSA keys too short to be safe for RS256."""
    if key_size < MIN_RSA_KEY_BITS:
        raise UnsupportedKeyTypeError(
            f"RSA key has {key_size} bits; at least {MIN_RSA_KEY_BITS} are needed"
        )


def _check_rsa_consistency(key: RSAPrivateKey) -> None:
    """Refuse an RSA key whose parts do not fit together (OpenSSL's checks but primality).

    OpenSSL's own check proves p and q prime: 50-300 ms of CPU during which it holds the GIL,
    so it stalls the event loop even from an executor thread. These checks take microseconds
    and keep what makes signing safe: n = p*q, d inverts e, the CRT values belong to p and q
    (a wrong one would make signatures that leak the key), and neither factor is small. That
    the factors are prime is the key owner's business: the service checks every signature.
    """
    numbers = key.private_numbers()
    p, q, d = numbers.p, numbers.q, numbers.d
    n, e = numbers.public_numbers.n, numbers.public_numbers.e
    consistent = (
        p != q
        and p * q == n
        and math.gcd(p, _SMALL_PRIMES) == 1
        and math.gcd(q, _SMALL_PRIMES) == 1
        and e % 2 == 1
        and 1 < e < n
        and 0 < d < n
        and d * e % math.lcm(p - 1, q - 1) == 1
        and numbers.dmp1 == d % (p - 1)
        and numbers.dmq1 == d % (q - 1)
        and 0 < numbers.iqmp < p
        and numbers.iqmp * q % p == 1
    )
    if not consistent:
        raise InvalidPrivateKeyError("The private key's parts do not fit together")


def load_private_key(pem: str | bytes) -> RSAPrivateKey:
    """Return the RSA private key from unencrypted PEM, raising a CredentialsError subclass."""
    data = _pem_bytes(pem)
    try:
        # Checked by _check_rsa_consistency instead: OpenSSL's check would stall the loop.
        key = serialization.load_pem_private_key(
            data, password=None, unsafe_skip_rsa_key_validation=True
        )
    except TypeError as err:
        # cryptography raises TypeError when the key is encrypted and no password was given.
        raise InvalidPrivateKeyError(
            "The private key is encrypted; give it without a password"
        ) from err
    except (ValueError, UnsupportedAlgorithm) as err:
        if _is_public_material(data):
            raise NotAPrivateKeyError(
                "A public key or certificate was given; the private key is needed"
            ) from err
        raise InvalidPrivateKeyError(
            "The private key is not a readable PEM key"
        ) from err
    if not isinstance(key, RSAPrivateKey):
        raise UnsupportedKeyTypeError(
            f"{type(key).__name__.removeprefix('_')} keys are not supported; RS256 needs an RSA key"
        )
    _check_rsa_size(key.key_size)
    _check_rsa_consistency(key)
    return key


def load_public_key(pem: str | bytes) -> RSAPublicKey:
    """Return the RSA public key from PEM (a certificate works too), raising a CredentialsError."""
    data = _pem_bytes(pem)
    if b"PRIVATE KEY-----" in data:
        # Never accept a private key here: it would mean a secret was pasted into the wrong field.
        raise InvalidPublicKeyError("A private key was given; the public key is needed")
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError, TypeError, UnsupportedAlgorithm:
        try:
            key = load_pem_x509_certificate(data).public_key()
        except (ValueError, TypeError, UnsupportedAlgorithm) as err:
            raise InvalidPublicKeyError(
                "The public key is not a readable PEM key"
            ) from err
    if not isinstance(key, RSAPublicKey):
        raise UnsupportedKeyTypeError(
            f"{type(key).__name__.removeprefix('_')} keys are not supported; RS256 needs an RSA key"
        )
    _check_rsa_size(key.key_size)
    return key


class TokenProvider(ABC):
    """Source of the bearer token sent with every API call."""

    @abstractmethod
    async def async_get_token(self) -> str:
        """Return a token that is valid now."""

    @abstractmethod
    def invalidate(self) -> None:
        """Forget the cached token because the service refused it."""


class StaticTokenProvider(TokenProvider):
    """A ready-made bearer token pasted by the user; it cannot be renewed."""

    def __init__(self, token: str) -> None:
        """Check the token can travel in an Authorization header."""
        text = token.strip() if isinstance(token, str) else ""
        scheme, _, rest = text.partition(" ")
        # People paste the whole header value; the scheme is ours to add.
        if scheme.lower() == "bearer":
            text = rest.strip()
        if not text or any(ch.isspace() or not 0x21 <= ord(ch) <= 0x7E for ch in text):
            raise InvalidTokenError(
                "The token must be non-empty printable ASCII without spaces"
            )
        self._token = text

    def __repr__(self) -> str:
        """Keep the token out of logs."""
        return "StaticTokenProvider(<token>)"

    async def async_get_token(self) -> str:
        """Return the configured token."""
        return self._token

    def invalidate(self) -> None:
        """Do nothing: a pasted token cannot be renewed, the caller must ask for a new one."""


class PrivateKeyTokenProvider(TokenProvider):
    """Mints short-lived RS256 JWTs with the customer's private key and caches them."""

    def __init__(
        self,
        private_key_pem: str | bytes,
        domain: str,
        *,
        key_id: str | None = None,
        issuer: str | None = None,
        subject: str | None = None,
        audience: str | None = None,
        lifetime: float = 300,
        renew_before: float = 30,
        extra_claims: Mapping[str, Any] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Load the key and check the claim settings; the key is never kept as text."""
        self._key = load_private_key(private_key_pem)
        domain = validate_domain(domain)
        if (
            isinstance(lifetime, bool)
            or not isinstance(lifetime, (int, float))
            or not lifetime >= 1
        ):
            raise InvalidRequestError("lifetime", "must be at least 1 second")
        if (
            isinstance(renew_before, bool)
            or not isinstance(renew_before, (int, float))
            or not 0 <= renew_before < lifetime
        ):
            raise InvalidRequestError(
                "renew_before", "must be at least 0 and below lifetime"
            )
        extra = dict(extra_claims or {})
        if reserved := sorted(_RESERVED_CLAIMS.intersection(extra)):
            raise InvalidRequestError(
                "extra_claims", f"must not set {', '.join(reserved)}"
            )
        self._claims: dict[str, Any] = {
            **extra,
            "iss": issuer if issuer is not None else domain,
            "sub": subject if subject is not None else domain,
        }
        if audience is not None:
            self._claims["aud"] = audience
        self._headers = {"kid": key_id} if key_id is not None else None
        self._lifetime = round(lifetime)
        self._renew_before = renew_before
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        # Minting is inline CPU work today, but the lock keeps "one mint for many callers" true
        # even if it ever moves to an executor.
        self._lock = asyncio.Lock()
        self.tokens_minted = 0

    def __repr__(self) -> str:
        """Keep key and token out of logs."""
        return f"PrivateKeyTokenProvider(iss={self._claims['iss']!r}, lifetime={self._lifetime})"

    def _cached(self) -> str | None:
        """Return the cached token unless it is due for renewal."""
        if (
            self._token is not None
            and self._clock() < self._expires_at - self._renew_before
        ):
            return self._token
        return None

    def _mint(self) -> str:
        """Sign a new token and remember it with its expiry."""
        issued_at = int(self._clock())
        expires_at = issued_at + self._lifetime
        claims = {**self._claims, "iat": issued_at, "exp": expires_at}
        token = jwt.encode(claims, self._key, algorithm="RS256", headers=self._headers)
        self._token = token
        self._expires_at = float(expires_at)
        self.tokens_minted += 1
        return token

    async def async_get_token(self) -> str:
        """Return the cached token, minting a new one when it is close to expiry."""
        if (token := self._cached()) is not None:
            return token
        async with self._lock:
            # Another caller may have minted while we waited for the lock.
            if (token := self._cached()) is not None:
                return token
            return self._mint()

    def invalidate(self) -> None:
        """Drop the cached token so the next call mints a fresh one."""
        self._token = None
        self._expires_at = 0.0
