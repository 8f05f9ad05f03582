"""Errors raised by the Cloud SIP UA library."""

from __future__ import annotations

# Texts that come from the network are cut to this length before they go into a message.
_MAX_ECHOED_TEXT = 200


def _clip(text: str) -> str:
    """Return text cut to a length that is safe to put into a log line."""
    if len(text) <= _MAX_ECHOED_TEXT:
        return text
    return f"{text[:_MAX_ECHOED_TEXT]}..."


class CloudSipUaError(Exception):
    """Base of every error this library raises."""


class CloudSipUaAuthenticationError(CloudSipUaError):
    """The service rejected our credentials (HTTP 401 or 403)."""


class CloudSipUaRequestRefusedError(CloudSipUaError):
    """The service understood the request and answered `success: false`."""

    def __init__(self, reason: str | None = None, error: str | None = None) -> None:
        """Keep the service's reason and error texts as attributes."""
        self.reason = reason
        self.error = error
        detail = reason or error
        super().__init__(
            f"The service refused the request: {_clip(detail)}"
            if detail
            else "The service refused the request without giving a reason"
        )


class CloudSipUaConnectionError(CloudSipUaError):
    """The service could not be reached or the connection broke."""


class CloudSipUaTimeoutError(CloudSipUaConnectionError):
    """The service did not answer in time."""


class CloudSipUaResponseError(CloudSipUaError):
    """The service answered with something we cannot use (non-JSON, wrong shape, HTTP error)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        """Keep the HTTP status, if there was one."""
        self.status = status
        super().__init__(message if status is None else f"{message} (HTTP {status})")


class InvalidRequestError(CloudSipUaError):
    """A value given to the library is invalid; found before anything was sent."""

    def __init__(self, field: str, message: str) -> None:
        """Name the offending field; message must not contain the value if it may be secret."""
        self.field = field
        super().__init__(f"{field}: {message}")


class CredentialsError(CloudSipUaError):
    """A key or token given to the library cannot be used."""


class InvalidPrivateKeyError(CredentialsError):
    """The private key cannot be read (not PEM, damaged or encrypted)."""


class UnsupportedKeyTypeError(CredentialsError):
    """The key is readable but not an RSA key of at least 2048 bits, so RS256 cannot use it."""


class NotAPrivateKeyError(CredentialsError):
    """A public key or certificate was given where the private key is needed."""


class InvalidPublicKeyError(CredentialsError):
    """The public key cannot be read."""


class InvalidTokenError(CredentialsError):
    """A ready-made bearer token is empty or contains characters a header cannot carry."""


class CallbackParseError(CloudSipUaError):
    """A callback body is not what the service documents; field names the wire field, if any."""

    def __init__(self, field: str | None, message: str) -> None:
        """Name the offending wire field (None when the body as a whole is wrong)."""
        self.field = field
        super().__init__(message if field is None else f"{field}: {message}")


class CallbackAuthenticationError(CloudSipUaError):
    """A callback did not carry a valid signature."""


class CloudSipUaNotTheApiError(CloudSipUaResponseError):
    """The API base URL answered, but not as the Cloud SIP UA API does (HTML, 404, other JSON)."""

    def __init__(self, status: int, content_type: str) -> None:
        """Keep what was reached, for a message the user can act on."""
        self.content_type = _clip(content_type) or "no content type"
        super().__init__(
            f"The URL is not the Cloud SIP UA API ({self.content_type})", status=status
        )


class UntrustedSiteError(CloudSipUaError):
    """A siteBaseUrl names a host our credentials must not be sent to."""


class CallbackRefusedError(CloudSipUaError):
    """A well-formed callback that must not be applied; reason is a stable key."""

    def __init__(self, reason: str, message: str) -> None:
        """Keep the stable reason next to the message."""
        self.reason = reason
        super().__init__(message)


class CallError(CloudSipUaError):
    """A call action that makes no sense now."""

    def __init__(self, key: str, message: str) -> None:
        """Keep a stable key that callers can translate."""
        super().__init__(message)
        self.key = key


class MediaError(CloudSipUaError):
    """Base of every media stack error."""


class NoFreePortError(MediaError):
    """No even RTP port (with RTCP on port + 1) is free in the configured range."""


class MalformedPacketError(MediaError):
    """A datagram is not a valid RTP or RTCP packet."""


class SubscriptionClosedError(MediaError):
    """The audio subscription was closed and holds no more frames."""


class SrtpError(MediaError):
    """SRTP setup or processing failed."""


class SrtpAuthError(SrtpError):
    """An SRTP/SRTCP packet failed authentication (or could not be decrypted)."""


class SrtpReplayError(SrtpError):
    """An SRTP/SRTCP packet was a replay or too old for the replay window."""


class CryptoParseError(SrtpError):
    """An SDES crypto entry is malformed or uses an unsupported suite or parameter."""
