"""Signing of callbacks: an RS256 JWT bearer that also pins the SHA-256 of the body."""

from __future__ import annotations

import hashlib
import time
import uuid

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
import jwt


class CallbackSigner:
    """Makes the `Authorization` value for one callback body."""

    def __init__(self, private_key_pem: bytes, *, issuer: str, ttl: float) -> None:
        """Load the RSA private key; raise ValueError if it is not one."""
        key = serialization.load_pem_private_key(private_key_pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the callback-signing key must be an RSA private key")  # noqa: TRY004
        self._key = key
        self._issuer = issuer
        self._ttl = ttl

    @property
    def public_key_pem(self) -> bytes:
        """Return the PEM of the public half, for whoever verifies callbacks."""
        return self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def authorization(self, body: bytes) -> str:
        """Return `Bearer <JWT>` for this exact body."""
        now = int(time.time())
        token = jwt.encode(
            {
                "iss": self._issuer,
                "iat": now,
                "exp": now + max(1, int(self._ttl)),
                "jti": uuid.uuid4().hex,
                "body_sha256": hashlib.sha256(body).hexdigest(),
            },
            self._key,
            algorithm="RS256",
        )
        return f"Bearer {token}"
