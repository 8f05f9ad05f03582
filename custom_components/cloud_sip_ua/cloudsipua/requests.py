"""Bodies of the REST operations, checked before anything is sent."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
import re
from typing import Any

from .exceptions import InvalidRequestError
from .models import ANSWER_CODECS, PLACE_CODECS, Codec, CryptoEntry
from .validation import (
    validate_domain,
    validate_http_url,
    validate_int,
    validate_ip_literal,
    validate_token_text,
)

# RFC 4733 telephone-event uses a dynamic payload type.
_DYNAMIC_PAYLOAD_TYPES = (96, 127)
# RFC 4568: the crypto tag is 1*9DIGIT.
_MAX_CRYPTO_TAG = 999_999_999
_URI_SCHEMES = ("sip:", "sips:", "tel:")
# RFC 3261 user part: unreserved, escaped and user-unreserved characters.
_SIP_USER = re.compile(r"^[A-Za-z0-9\-_.!~*'()&=+$,;?/%]+$")
# A phone number as people type it: digits with optional leading + and visual separators.
_PHONE_NUMBER = re.compile(r"^\+?[0-9][0-9 ()\-.]*$")
_PHONE_SEPARATORS = re.compile(r"[ ()\-.]")


def _validate_reply_id(reply_id: object) -> str:
    """Return the reply id if it is a non-blank string; the message never shows it."""
    if not isinstance(reply_id, str) or not reply_id.strip():
        raise InvalidRequestError("reply_id", "must be a non-empty string")
    return reply_id


def _validate_codec(codec: object, allowed: frozenset[Codec]) -> Codec:
    """Return the codec as a Codec member if the operation accepts it."""
    if not isinstance(codec, str) or codec not in Codec.__members__.values():
        raise InvalidRequestError("codec", "is not a known codec")
    value = Codec(codec)
    if value not in allowed:
        names = ", ".join(sorted(allowed))
        raise InvalidRequestError("codec", f"must be one of {names}")
    return value


def _validate_payload_type(value: object) -> int | None:
    """Return the telephone-event payload type (None means no DTMF events)."""
    if value is None:
        return None
    return validate_int(value, "telephone_event_payload_type", *_DYNAMIC_PAYLOAD_TYPES)


def _validate_crypto(entries: object) -> tuple[CryptoEntry, ...]:
    """Return the SDES entries as a tuple, each with a sane suite, tag and key parameters."""
    if isinstance(entries, (str, bytes)) or not isinstance(entries, Iterable):
        raise InvalidRequestError("crypto", "must be a sequence of CryptoEntry")
    result = tuple(entries)
    tags: set[int] = set()
    for index, entry in enumerate(result):
        field = f"crypto[{index}]"
        if not isinstance(entry, CryptoEntry):
            raise InvalidRequestError(field, "must be a CryptoEntry")
        validate_token_text(entry.suite, f"{field}.suite")
        validate_int(entry.tag, f"{field}.tag", 0, _MAX_CRYPTO_TAG)
        # The key material is a secret: check it without ever quoting it.
        if not isinstance(entry.config, str) or not entry.config.strip():
            raise InvalidRequestError(f"{field}.config", "must be a non-empty string")
        if entry.tag in tags:
            raise InvalidRequestError(f"{field}.tag", "must be unique")
        tags.add(entry.tag)
    return result


def _validate_session_reference_id(value: object) -> str | None:
    """Return the session reference id (None means not set)."""
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise InvalidRequestError("session_reference_id", "must be a non-empty string")
    return value


def validate_destination_uri(uri: object, field: str = "destination_uri") -> str:
    """Return a sip:, sips: or tel: URI unchanged, or raise InvalidRequestError."""
    if not isinstance(uri, str):
        raise InvalidRequestError(field, "must be a string")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in uri):
        raise InvalidRequestError(
            field, "must not contain whitespace or control characters"
        )
    lowered = uri.lower()
    scheme = next((s for s in _URI_SCHEMES if lowered.startswith(s)), None)
    if scheme is None:
        raise InvalidRequestError(field, "must be a sip:, sips: or tel: URI")
    rest = uri[len(scheme) :]
    if scheme == "tel:":
        number = rest.split(";", 1)[0]
        if not number or not any(ch.isdigit() for ch in number):
            raise InvalidRequestError(field, "tel: URI must carry a number")
        return uri
    address = rest.split(";", 1)[0].split("?", 1)[0]
    user, _, host = address.rpartition("@")
    if not host or (("@" in address) and not user):
        raise InvalidRequestError(
            field, "SIP URI must have a host and, if given, a user"
        )
    return uri


def destination_to_uri(number_or_uri: str, domain: str) -> str:
    """Return a SIP/tel URI for a URI, `user@host`, phone number or user name at the domain."""
    text = number_or_uri.strip() if isinstance(number_or_uri, str) else number_or_uri
    if not isinstance(text, str) or not text:
        raise InvalidRequestError(
            "destination", "must be a phone number, user or SIP URI"
        )
    if text.lower().startswith(_URI_SCHEMES):
        return validate_destination_uri(text, "destination")
    if "@" in text:
        return validate_destination_uri(f"sip:{text}", "destination")
    host = validate_domain(domain)
    if _PHONE_NUMBER.fullmatch(text):
        user = _PHONE_SEPARATORS.sub("", text)
    elif _SIP_USER.fullmatch(text):
        user = text
    else:
        raise InvalidRequestError(
            "destination", "contains characters a SIP user cannot have"
        )
    return f"sip:{user}@{host}"


def _common_json(
    *,
    receive_ip: str,
    receive_port: int,
    codec: Codec,
    telephone_event_payload_type: int | None,
    crypto: tuple[CryptoEntry, ...],
    session_reference_id: str | None,
) -> dict[str, Any]:
    """Return the wire fields both call set-up operations share."""
    body: dict[str, Any] = {
        "receiveIp": receive_ip,
        "receivePort": receive_port,
        "codec": str(codec),
    }
    if telephone_event_payload_type is not None:
        body["telephoneEventPayloadType"] = telephone_event_payload_type
    # An empty list is left out rather than sent: whether the service accepts `[]` is unknown.
    if crypto:
        body["crypto"] = [entry.to_json() for entry in crypto]
    if session_reference_id is not None:
        body["sessionReferenceId"] = session_reference_id
    return body


@dataclass(frozen=True, slots=True)
class AnswerCallRequest:
    """Body of answerremotecalljwt: answer the call announced by newRemoteCall."""

    reply_id: str
    receive_ip: str
    receive_port: int
    codec: Codec = Codec.PCMA
    telephone_event_payload_type: int | None = 101
    crypto: tuple[CryptoEntry, ...] = ()
    session_reference_id: str | None = None

    def __post_init__(self) -> None:
        """Check every field, normalising codec to Codec and crypto to a tuple."""
        _validate_reply_id(self.reply_id)
        validate_ip_literal(self.receive_ip, "receive_ip")
        validate_int(self.receive_port, "receive_port", 1, 65535)
        object.__setattr__(self, "codec", _validate_codec(self.codec, ANSWER_CODECS))
        _validate_payload_type(self.telephone_event_payload_type)
        object.__setattr__(self, "crypto", _validate_crypto(self.crypto))
        _validate_session_reference_id(self.session_reference_id)

    def __repr__(self) -> str:
        """Show the call set-up without the secret reply id."""
        return (
            f"AnswerCallRequest(receive_ip={self.receive_ip!r}, receive_port={self.receive_port!r}, "
            f"codec={self.codec!r}, crypto_suites={[c.suite for c in self.crypto]!r}, "
            f"session_reference_id={self.session_reference_id!r})"
        )

    def to_json(self) -> dict[str, Any]:
        """Return the documented camelCase body; unset optional fields are left out."""
        return {
            "replyId": self.reply_id,
            **_common_json(
                receive_ip=self.receive_ip,
                receive_port=self.receive_port,
                codec=self.codec,
                telephone_event_payload_type=self.telephone_event_payload_type,
                crypto=self.crypto,
                session_reference_id=self.session_reference_id,
            ),
        }


@dataclass(frozen=True, slots=True)
class PlaceCallRequest:
    """Body of placeremotecalljwt: call a SIP destination from the cloud user agent."""

    destination_uri: str
    receive_ip: str
    receive_port: int
    callback_base_url: str
    codec: Codec = Codec.PCMA
    source_user: str | None = None
    telephone_event_payload_type: int | None = 101
    crypto: tuple[CryptoEntry, ...] = ()
    session_reference_id: str | None = None

    def __post_init__(self) -> None:
        """Check every field, normalising codec, crypto and the callback base URL."""
        validate_destination_uri(self.destination_uri)
        validate_ip_literal(self.receive_ip, "receive_ip")
        validate_int(self.receive_port, "receive_port", 1, 65535)
        object.__setattr__(
            self,
            "callback_base_url",
            validate_http_url(self.callback_base_url, "callback_base_url"),
        )
        object.__setattr__(self, "codec", _validate_codec(self.codec, PLACE_CODECS))
        if self.source_user is not None:
            validate_token_text(self.source_user, "source_user")
        _validate_payload_type(self.telephone_event_payload_type)
        object.__setattr__(self, "crypto", _validate_crypto(self.crypto))
        _validate_session_reference_id(self.session_reference_id)

    def __repr__(self) -> str:
        """Show the call set-up without the secret callback URL and key material."""
        return (
            f"PlaceCallRequest(destination_uri={self.destination_uri!r}, "
            f"receive_ip={self.receive_ip!r}, receive_port={self.receive_port!r}, "
            f"codec={self.codec!r}, source_user={self.source_user!r}, "
            f"crypto_suites={[c.suite for c in self.crypto]!r}, "
            f"session_reference_id={self.session_reference_id!r})"
        )

    def to_json(self) -> dict[str, Any]:
        """Return the documented camelCase body; unset optional fields are left out."""
        body = {
            "destinationUri": self.destination_uri,
            "callbackBaseUrl": self.callback_base_url,
            **_common_json(
                receive_ip=self.receive_ip,
                receive_port=self.receive_port,
                codec=self.codec,
                telephone_event_payload_type=self.telephone_event_payload_type,
                crypto=self.crypto,
                session_reference_id=self.session_reference_id,
            ),
        }
        if self.source_user is not None:
            body["sourceUser"] = self.source_user
        return body
