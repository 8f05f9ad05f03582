"""Checks of the `Authorization: Bearer` JWT on API calls (RS256 only)."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
import jwt


class ApiAuthError(Exception):
    """The request's bearer token is missing or not acceptable; the text says why."""


class ApiTokenVerifier:
    """Verifies API bearer JWTs against the tenant's uploaded public key."""

    def __init__(
        self,
        public_key_pem: bytes,
        *,
        require_exp: bool = True,
        audience: str | None = None,
        issuer: str | None = None,
    ) -> None:
        """Load the RSA public key; raise ValueError if it is not one."""
        key = serialization.load_pem_public_key(public_key_pem)
        if not isinstance(key, rsa.RSAPublicKey):
            raise ValueError("the API public key must be an RSA key")  # noqa: TRY004
        self._key = key
        self._require = ["exp"] if require_exp else []
        self._audience = audience
        self._issuer = issuer

    def verify(self, authorization: str | None) -> dict[str, Any]:
        """Return the token's claims or raise ApiAuthError; the token itself is never echoed."""
        if not authorization:
            raise ApiAuthError("missing Authorization header")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiAuthError("Authorization must be 'Bearer <JWT>'")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key,
                algorithms=["RS256"],
                audience=self._audience,
                issuer=self._issuer,
                options={
                    "require": self._require,
                    "verify_aud": self._audience is not None,
                },
            )
        except jwt.ExpiredSignatureError as err:
            raise ApiAuthError("token expired") from err
        except jwt.InvalidSignatureError as err:
            raise ApiAuthError("token signature does not verify") from err
        except jwt.InvalidAlgorithmError as err:
            raise ApiAuthError("token algorithm must be RS256") from err
        except jwt.PyJWTError as err:
            raise ApiAuthError(f"invalid token: {type(err).__name__}") from err
        except (ValueError, TypeError, KeyError) as err:  # pragma: no cover
            # Defensive (PyJWT wraps these today): hostile tokens must never turn into a server error.
            raise ApiAuthError("invalid token") from err
        return claims
