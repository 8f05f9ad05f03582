"""Checks for values that end up in requests: domains, URLs, addresses, ports."""

from __future__ import annotations

import ipaddress
import re

from yarl import URL

from .exceptions import InvalidRequestError

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_MAX_HOSTNAME_LENGTH = 253


def validate_domain(domain: object, field: str = "domain") -> str:
    """Return the tenant domain normalised to lowercase, or raise InvalidRequestError."""
    if not isinstance(domain, str):
        raise InvalidRequestError(field, "must be a string")
    normalised = domain.strip().lower().removesuffix(".")
    if not normalised or len(normalised) > _MAX_HOSTNAME_LENGTH:
        raise InvalidRequestError(
            field, "must be a host name such as customer.prod-eu-north-1.iotcomms.io"
        )
    labels = normalised.split(".")
    # The region is everything after the first label, so there must be something after it.
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        raise InvalidRequestError(
            field, "must be a host name such as customer.prod-eu-north-1.iotcomms.io"
        )
    if labels[-1].isdigit():
        raise InvalidRequestError(field, "must be a host name, not an IP address")
    return normalised


def validate_http_url(url: object, field: str, *, require_https: bool = False) -> str:
    """Return an absolute http(s) base URL without trailing slash, or raise InvalidRequestError."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidRequestError(field, "must be a non-empty URL")
    text = url.strip()
    if any(ch.isspace() or ord(ch) < 0x20 for ch in text):
        raise InvalidRequestError(
            field, "must not contain whitespace or control characters"
        )
    try:
        parsed = URL(text)
    except (ValueError, TypeError) as err:
        raise InvalidRequestError(field, "is not a valid URL") from err
    allowed = ("https",) if require_https else ("http", "https")
    if parsed.scheme not in allowed:
        raise InvalidRequestError(
            field, f"must be an absolute {' or '.join(allowed)} URL"
        )
    if not parsed.host:
        raise InvalidRequestError(field, "must name a host")
    if parsed.user is not None or parsed.password is not None:
        raise InvalidRequestError(field, "must not contain user credentials")
    # Paths are appended to the base URL, so a query or fragment would end up in the wrong place.
    if parsed.query_string or parsed.fragment or "?" in text or "#" in text:
        raise InvalidRequestError(field, "must not contain a query or fragment")
    return text.rstrip("/")


def validate_ip_literal(value: object, field: str) -> str:
    """Return a unicast IPv4/IPv6 literal unchanged, or raise InvalidRequestError."""
    if not isinstance(value, str):
        raise InvalidRequestError(field, "must be an IP address string")
    try:
        address = ipaddress.ip_address(value)
    except ValueError as err:
        raise InvalidRequestError(field, "must be an IPv4 or IPv6 address") from err
    # Nobody can send media to these, so announcing them would give a call without audio.
    if address.is_unspecified or address.is_multicast:
        raise InvalidRequestError(
            field, "must be a unicast address media can be sent to"
        )
    return value


def validate_int(value: object, field: str, minimum: int, maximum: int) -> int:
    """Return an int within [minimum, maximum] (bool refused), or raise InvalidRequestError."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequestError(field, "must be an integer")
    if not minimum <= value <= maximum:
        raise InvalidRequestError(field, f"must be between {minimum} and {maximum}")
    return value


def validate_token_text(value: object, field: str) -> str:
    """Return a non-empty string without whitespace or control characters."""
    if not isinstance(value, str) or not value:
        raise InvalidRequestError(field, "must be a non-empty string")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise InvalidRequestError(
            field, "must not contain whitespace or control characters"
        )
    return value
