"""Checks that a callback was signed by the platform (format unpublished: one replaceable piece).

Assumed form: `Authorization: Bearer <JWT>` signed RS256 with the platform's callback signing
key. Swap this module when the vendor publishes the real format.
"""

from __future__ import annotations

from collections.abc import Mapping
import hashlib
import logging
import time
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
import jwt
from jwt.types import Options

from .credentials import load_public_key
from .exceptions import CallbackAuthenticationError

_LOGGER = logging.getLogger(__name__)

# A signed token is a few hundred bytes; refusing giants early saves CPU on hostile input.
MAX_TOKEN_LENGTH = 16 * 1024
_ALGORITHMS = ["RS256"]
# A callback is signed when it is sent: a token valid for longer than this could be replayed
# for longer than the replay cache remembers it.
MAX_TOKEN_LIFETIME = 600


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Return a header value, matching the name case-insensitively."""
    wanted = name.lower()
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == wanted:
            return value
    return None


class CallbackVerifier:
    """Verifies callback signatures with the platform's public key, or accepts all without one."""

    def __init__(
        self,
        public_key_pem: str | bytes | None,
        *,
        leeway: float = 60,
        audience: str | None = None,
    ) -> None:
        """Load the key; None or blank text disables verification (raises CredentialsError)."""
        if public_key_pem is not None and not public_key_pem.strip():
            public_key_pem = None
        self._key = (
            load_public_key(public_key_pem) if public_key_pem is not None else None
        )
        self._leeway = leeway
        self._audience = audience
        self.rejected = 0

    @property
    def enabled(self) -> bool:
        """Tell whether callbacks are checked at all."""
        return self._key is not None

    def verify(self, headers: Mapping[str, str], body: bytes) -> None:
        """Raise CallbackAuthenticationError unless the callback carries a valid signature.

        When the token carries a `body_sha256` claim (the emulator's tokens do), it must match
        the body, so a captured token cannot carry another body.
        """
        if self._key is None:
            return
        try:
            claims = self._check(self._key, headers)
            _check_body_digest(claims, body)
        except CallbackAuthenticationError:
            self.rejected += 1
            raise

    def _check(self, key: RSAPublicKey, headers: Mapping[str, str]) -> dict[str, Any]:
        """Check the bearer token; every failure gives the same generic message."""
        authorization = _header(headers, "Authorization")
        if not isinstance(authorization, str):
            raise CallbackAuthenticationError("Callback carries no signature")
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_LENGTH:
            raise CallbackAuthenticationError("Callback signature is malformed")
        options: Options = {
            "verify_aud": self._audience is not None,
            "require": ["exp"],
        }
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=_ALGORITHMS,
                audience=self._audience,
                leeway=self._leeway,
                options=options,
            )
        except (jwt.PyJWTError, ValueError, TypeError) as err:
            # The exception type says why without quoting the token.
            _LOGGER.debug("Callback signature rejected: %s", type(err).__name__)
            raise CallbackAuthenticationError(
                "Callback signature is not valid"
            ) from None
        if not _lifetime_is_bounded(claims):
            _LOGGER.debug("Callback signature rejected: lifetime is not bounded")
            raise CallbackAuthenticationError("Callback signature is not valid")
        return claims


def _lifetime_is_bounded(claims: Mapping[str, Any]) -> bool:
    """Return True if the token expires at most MAX_TOKEN_LIFETIME after it was issued (or now)."""
    expires = claims.get("exp")
    issued = claims.get("iat", time.time())
    if not isinstance(expires, (int, float)) or not isinstance(issued, (int, float)):
        return False
    return expires - min(issued, time.time()) <= MAX_TOKEN_LIFETIME


def _check_body_digest(claims: Mapping[str, Any], body: bytes) -> None:
    """Refuse a token that pins a different body (a `body_sha256` claim), so it cannot be reused."""
    pinned = claims.get("body_sha256")
    if pinned is not None and pinned != hashlib.sha256(body).hexdigest():
        raise CallbackAuthenticationError("Callback signature does not cover this body")
