"""Typed models of the five callbacks the service POSTs to us, parsed tolerantly but safely."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from enum import StrEnum
import ipaddress
import re
from typing import Any, ClassVar, Self, cast

from .exceptions import CallbackParseError, InvalidRequestError
from .json_values import JsonNumber, canonical_json, loads_exact
from .models import Codec, CryptoEntry
from .validation import validate_http_url


class CallbackName(StrEnum):
    """The callback paths under the callback base URL."""

    NEW_REMOTE_CALL = "newRemoteCall"
    CALL_ANSWERED = "callAnswered"
    CALL_FAILED = "callFailed"
    CALL_HUNGUP = "callHungup"
    CALL_NOTIFY = "callNotify"


type _Coercer = Callable[[object, str], Any]

_INTEGER_TEXT = re.compile(r"^[+-]?[0-9]{1,18}$")
# Decimal texts with a larger exponent than this cannot be a port or status: refuse them before
# int() would build a huge number.
_MAX_DECIMAL_EXPONENT = 18
_MAX_CRYPTO_TAG = 999_999_999


def _text(value: object, wire: str) -> str:
    """Return a string field; numbers are accepted and written exactly as received."""
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, bool):
        raise CallbackParseError(wire, "must be a string, not a boolean")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (float, Decimal)):
        # Only reached with already-decoded bodies; parse_callback_bytes keeps the exact text.
        return canonical_json(value)
    raise CallbackParseError(wire, f"must be a string, not {_json_type(value)}")


def _json_type(value: object) -> str:
    """Name the JSON type of a value for an error message (never the value itself)."""
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "an array"
    return "a value of another type"


def _integer(value: object, wire: str) -> int:
    """Return an integer from a JSON number or numeric string; booleans are refused."""
    if isinstance(value, bool):
        raise CallbackParseError(wire, "must be a number, not a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise CallbackParseError(wire, "must be a whole number")
    if isinstance(value, str):
        text = value.strip()
        if _INTEGER_TEXT.fullmatch(text):
            return int(text)
        try:
            value = Decimal(text)
        except InvalidOperation as err:
            raise CallbackParseError(wire, "must be a number") from err
    if isinstance(value, Decimal):
        if not value.is_finite() or value.adjusted() > _MAX_DECIMAL_EXPONENT:
            raise CallbackParseError(wire, "is out of range")
        if value != value.to_integral_value():
            raise CallbackParseError(wire, "must be a whole number")
        return int(value)
    raise CallbackParseError(wire, f"must be a number, not {_json_type(value)}")


def _integer_in(minimum: int, maximum: int) -> _Coercer:
    """Return a coercer for integers within [minimum, maximum]."""

    def coerce(value: object, wire: str) -> int:
        number = _integer(value, wire)
        if not minimum <= number <= maximum:
            raise CallbackParseError(wire, f"must be between {minimum} and {maximum}")
        return number

    return coerce


def _flag(value: object, wire: str) -> bool:
    """Return a boolean; the strings "true" and "false" are accepted too."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise CallbackParseError(wire, "must be a boolean")


def _required_text(value: object, wire: str) -> str:
    """Return a string that must not be blank (the reply id is never quoted in errors)."""
    text = _text(value, wire)
    if not text.strip():
        raise CallbackParseError(wire, "must not be empty")
    return text


def _ip_address(value: object, wire: str) -> str:
    """Return an IPv4/IPv6 literal (media is sent there, so host names are refused)."""
    text = _text(value, wire).strip()
    try:
        ipaddress.ip_address(text)
    except ValueError as err:
        raise CallbackParseError(wire, "must be an IP address") from err
    return text


def _base_url(value: object, wire: str) -> str:
    """Return an absolute http(s) URL without trailing slash."""
    try:
        return validate_http_url(_text(value, wire), wire)
    except InvalidRequestError as err:
        raise CallbackParseError(wire, str(err).removeprefix(f"{wire}: ")) from err


def _codec(value: object, wire: str) -> Codec | None:
    """Return the codec if it is one we know ("pcma" and "PCMA/8000" work); else None."""
    name = _text(value, wire).split("/", 1)[0].strip().upper()
    return Codec(name) if name in Codec.__members__ else None


def _crypto(value: object, wire: str) -> tuple[CryptoEntry, ...]:
    """Return the SDES crypto entries; each needs suite, id and config."""
    if not isinstance(value, (list, tuple)):
        raise CallbackParseError(wire, f"must be an array, not {_json_type(value)}")
    entries = []
    for index, item in enumerate(value):
        where = f"{wire}[{index}]"
        if not isinstance(item, Mapping):
            raise CallbackParseError(where, "must be an object")
        parts = {}
        for key in ("suite", "id", "config"):
            if item.get(key) is None:
                raise CallbackParseError(f"{where}.{key}", "is required")
        parts["suite"] = _required_text(item["suite"], f"{where}.suite")
        parts["config"] = _required_text(item["config"], f"{where}.config")
        tag = _integer_in(0, _MAX_CRYPTO_TAG)(item["id"], f"{where}.id")
        entries.append(
            CryptoEntry(suite=parts["suite"], tag=tag, config=parts["config"])
        )
    return tuple(entries)


def _session_reference(value: object, wire: str) -> str | None:
    """Return the session reference as a string.

    The vendor's samples show it as a number and as `{}`. Numbers become their exact text; an
    empty object, array or string means "not set" (None); any other object or array becomes
    its canonical JSON (sorted keys, no spaces), so equal values always give equal strings.
    """
    if isinstance(value, (Mapping, list, tuple)):
        try:
            return canonical_json(value) if value else None
        except TypeError as err:
            raise CallbackParseError(wire, "holds a value that is not JSON") from err
    text = _text(value, wire)
    return text or None


def _wire(
    name: str, coerce: _Coercer, *, required: bool = False, emit: bool = True
) -> dict[str, Any]:
    """Return the field metadata that ties a model field to its wire name and coercer."""
    return {"wire": name, "coerce": coerce, "required": required, "emit": emit}


def _to_wire(value: object) -> Any:
    """Return the JSON form of a model value."""
    if isinstance(value, tuple):
        return [entry.to_json() for entry in value]
    if isinstance(value, Codec):
        return str(value)
    return value


class _CallbackModel:
    """Shared parsing and serialising of the callback dataclasses, driven by field metadata."""

    __slots__ = ()
    name: ClassVar[CallbackName]

    @classmethod
    def from_json(cls, body: object) -> Self:
        """Build the model from a decoded JSON body; unknown fields are ignored."""
        if not isinstance(body, Mapping):
            raise CallbackParseError(
                None, f"body must be a JSON object, not {_json_type(body)}"
            )
        values: dict[str, Any] = {}
        for model_field in fields(cast("Any", cls)):
            meta = model_field.metadata
            raw = body.get(meta["wire"])
            if raw is None:
                if meta["required"]:
                    raise CallbackParseError(meta["wire"], "is required")
                continue
            values[model_field.name] = meta["coerce"](raw, meta["wire"])
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        """Return the wire form (camelCase), leaving out fields that are not set."""
        body: dict[str, Any] = {}
        for model_field in fields(cast("Any", self)):
            meta = model_field.metadata
            value = getattr(self, model_field.name)
            # codec and codec_name share one wire key: the raw name, when known, wins.
            if value is None or value == () or not meta["emit"] or meta["wire"] in body:
                continue
            body[meta["wire"]] = _to_wire(value)
        return body


_PORT = _integer_in(1, 65535)
_PAYLOAD_TYPE = _integer_in(0, 127)
_SIP_STATUS = _integer_in(100, 699)
_SECONDS = _integer_in(0, 2**31 - 1)


def _session_reference_field() -> Any:
    """Return the sessionReferenceId field every model has."""
    return field(default=None, metadata=_wire("sessionReferenceId", _session_reference))


def _text_field(wire: str) -> Any:
    """Return an optional string field."""
    return field(default=None, metadata=_wire(wire, _text))


@dataclass(frozen=True, slots=True, kw_only=True)
class NewRemoteCall(_CallbackModel):
    """A new incoming call; answer it with answerremotecalljwt using reply_id."""

    name: ClassVar[CallbackName] = CallbackName.NEW_REMOTE_CALL

    reply_id: str = field(
        repr=False, metadata=_wire("replyId", _required_text, required=True)
    )
    session_reference_id: str | None = _session_reference_field()
    remote_rtp_ip: str | None = field(
        default=None, metadata=_wire("remoteRtpIp", _ip_address)
    )
    remote_rtp_port: int | None = field(
        default=None, metadata=_wire("remoteRtpPort", _PORT)
    )
    codec_name: str | None = _text_field("codec")
    codec: Codec | None = field(default=None, metadata=_wire("codec", _codec))
    telephone_event_payload_type: int | None = field(
        default=None, metadata=_wire("telephoneEventPayloadType", _PAYLOAD_TYPE)
    )
    crypto: tuple[CryptoEntry, ...] = field(
        default=(), repr=False, metadata=_wire("crypto", _crypto)
    )
    source_user: str | None = _text_field("sourceUser")
    destination_uri: str | None = _text_field("destinationUri")
    call_id: str | None = _text_field("callId")
    session_id: str | None = _text_field("sessionId")
    trace_id: str | None = _text_field("traceId")
    http_transaction_id: str | None = _text_field("httpTransactionId")
    domain: str | None = _text_field("domain")
    ivr_server: str | None = _text_field("ivrServer")
    site_id: str | None = _text_field("siteId")
    site_base_url: str | None = field(
        default=None, metadata=_wire("siteBaseUrl", _base_url)
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class CallAnswered(_CallbackModel):
    """The call is connected; reply_id (a new one) controls it from now on.

    crypto and telephone_event_payload_type are not documented for this callback; they are
    read in case the service sends them, as it does in newRemoteCall.
    """

    name: ClassVar[CallbackName] = CallbackName.CALL_ANSWERED

    reply_id: str | None = field(
        default=None, repr=False, metadata=_wire("replyId", _required_text)
    )
    session_reference_id: str | None = _session_reference_field()
    remote_rtp_ip: str | None = field(
        default=None, metadata=_wire("remoteRtpIp", _ip_address)
    )
    remote_rtp_port: int | None = field(
        default=None, metadata=_wire("remoteRtpPort", _PORT)
    )
    codec_name: str | None = _text_field("codec")
    codec: Codec | None = field(default=None, metadata=_wire("codec", _codec))
    telephone_event_payload_type: int | None = field(
        default=None, metadata=_wire("telephoneEventPayloadType", _PAYLOAD_TYPE)
    )
    crypto: tuple[CryptoEntry, ...] = field(
        default=(), repr=False, metadata=_wire("crypto", _crypto)
    )
    calling_party_number: str | None = _text_field("callingPartyNumber")
    remote_party_number: str | None = _text_field("remotePartyNumber")
    caller_participant_id: str | None = _text_field("callerParticipantId")
    callee_participant_id: str | None = _text_field("calleeParticipantId")
    connection_id: str | None = _text_field("connectionId")
    calling_party_expires: int | None = field(
        default=None, metadata=_wire("callingPartyExpires", _SECONDS)
    )
    called_party_expires: int | None = field(
        default=None, metadata=_wire("calledPartyExpires", _SECONDS)
    )
    monitoring_participant: bool | None = field(
        default=None, metadata=_wire("monitoringParticipant", _flag)
    )
    trace_id: str | None = _text_field("traceId")
    http_transaction_id: str | None = _text_field("httpTransactionId")
    site_id: str | None = _text_field("siteId")
    site_base_url: str | None = field(
        default=None, metadata=_wire("siteBaseUrl", _base_url)
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class CallFailed(_CallbackModel):
    """Setting up an outgoing call failed."""

    name: ClassVar[CallbackName] = CallbackName.CALL_FAILED

    session_reference_id: str | None = _session_reference_field()
    sip_status: int | None = field(
        default=None, metadata=_wire("sipStatus", _SIP_STATUS)
    )
    sip_reason: str | None = _text_field("sipReason")
    error_descr: str | None = _text_field("errorDescr")
    sip_call_id: str | None = _text_field("sipCallId")
    session_id: str | None = _text_field("sessionId")
    ivr_server: str | None = _text_field("ivrServer")
    participant_id: str | None = _text_field("participantId")
    domain: str | None = _text_field("domain")
    trace_id: str | None = _text_field("traceId")
    http_transaction_id: str | None = _text_field("httpTransactionId")
    site_id: str | None = _text_field("siteId")
    site_base_url: str | None = field(
        default=None, metadata=_wire("siteBaseUrl", _base_url)
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class CallHungup(_CallbackModel):
    """The call was hung up."""

    name: ClassVar[CallbackName] = CallbackName.CALL_HUNGUP

    session_reference_id: str | None = _session_reference_field()
    call_id: str | None = _text_field("callId")
    destination_uri: str | None = _text_field("destinationUri")
    source_user: str | None = _text_field("sourceUser")


@dataclass(frozen=True, slots=True, kw_only=True)
class CallNotify(_CallbackModel):
    """A call event: "ringing", "reInvite" or "update" (other event names are kept as sent).

    remote_rtp_ip, remote_rtp_port and codec are not documented here; they are read in case a
    re-INVITE or UPDATE carries a new media address.
    """

    name: ClassVar[CallbackName] = CallbackName.CALL_NOTIFY

    event: str = field(metadata=_wire("event", _required_text, required=True))
    session_reference_id: str | None = _session_reference_field()
    monitoring_participant: bool | None = field(
        default=None, metadata=_wire("monitoringParticipant", _flag)
    )
    participant_id: str | None = _text_field("participantId")
    session_id: str | None = _text_field("sessionId")
    user: str | None = _text_field("user")
    remote_user: str | None = _text_field("remoteUser")
    remote_participant_id: str | None = _text_field("remoteParticipantId")
    sip_call_id: str | None = _text_field("sipCallId")
    ivr_server: str | None = _text_field("ivrServer")
    trace_id: str | None = _text_field("traceId")
    site_id: str | None = _text_field("siteId")
    site_base_url: str | None = field(
        default=None, metadata=_wire("siteBaseUrl", _base_url)
    )
    remote_rtp_ip: str | None = field(
        default=None, metadata=_wire("remoteRtpIp", _ip_address)
    )
    remote_rtp_port: int | None = field(
        default=None, metadata=_wire("remoteRtpPort", _PORT)
    )
    codec_name: str | None = _text_field("codec")
    codec: Codec | None = field(default=None, metadata=_wire("codec", _codec))


type Callback = NewRemoteCall | CallAnswered | CallFailed | CallHungup | CallNotify

CALLBACK_MODELS: Mapping[CallbackName, type[Callback]] = {
    model.name: model
    for model in (NewRemoteCall, CallAnswered, CallFailed, CallHungup, CallNotify)
}


@dataclass(frozen=True, slots=True)
class NewRemoteCallResponse:
    """Our answer to newRemoteCall: the service copies the reference into later callbacks."""

    session_reference_id: str

    def __post_init__(self) -> None:
        """Refuse an empty reference, which would tie nothing together."""
        if (
            not isinstance(self.session_reference_id, str)
            or not self.session_reference_id
        ):
            raise InvalidRequestError(
                "session_reference_id", "must be a non-empty string"
            )

    def to_json(self) -> dict[str, Any]:
        """Return the response body."""
        return {"sessionReferenceId": self.session_reference_id}


def parse_callback(name: str, body: object) -> Callback:
    """Return the model of callback `name` built from a decoded JSON body."""
    try:
        callback_name = CallbackName(name)
    except ValueError:
        raise CallbackParseError(None, "unknown callback name") from None
    try:
        return CALLBACK_MODELS[callback_name].from_json(body)
    except RecursionError as err:
        raise CallbackParseError(None, "body is nested too deeply") from err


def parse_callback_bytes(name: str, raw: bytes) -> Callback:
    """Return the model of callback `name` from the raw body, keeping every number exact."""
    try:
        body = loads_exact(raw)
    except (ValueError, RecursionError) as err:
        raise CallbackParseError(None, "body is not valid JSON") from err
    return parse_callback(name, body)


__all__ = [
    "CALLBACK_MODELS",
    "Callback",
    "CallAnswered",
    "CallFailed",
    "CallHungup",
    "CallNotify",
    "CallbackName",
    "JsonNumber",
    "NewRemoteCall",
    "NewRemoteCallResponse",
    "parse_callback",
    "parse_callback_bytes",
]
