"""Checks of request values beyond their schema types; a refusal becomes `success: false`."""

from __future__ import annotations

import ipaddress
from typing import Any

from yarl import URL

from custom_components.cloud_sip_ua.cloudsipua.models import Codec, CryptoEntry


class Refusal(Exception):
    """The request is well-formed but cannot be carried out; the text is the reason."""


def _is_integer(value: Any) -> bool:
    """Return whether a JSON number is integral (1 and 1.0 both are)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def receive_address(body: dict[str, Any]) -> tuple[str, int]:
    """Return (receiveIp, receivePort) or refuse."""
    ip_text = body["receiveIp"]
    try:
        ip = ipaddress.ip_address(ip_text)
    except ValueError as err:
        raise Refusal("receiveIp is not an IP address") from err
    if ip.is_unspecified or ip.is_multicast:
        raise Refusal("receiveIp cannot receive media")
    port = body["receivePort"]
    if not _is_integer(port) or not 1 <= port <= 65535:
        raise Refusal("receivePort must be an integer from 1 to 65535")
    return str(ip), int(port)


def telephone_event_payload_type(
    body: dict[str, Any], default: int | None
) -> int | None:
    """Return telephoneEventPayloadType (dynamic RTP type 96-127) or the default; refuse others."""
    value = body.get("telephoneEventPayloadType")
    if value is None:
        return default
    if not _is_integer(value) or not 96 <= value <= 127:
        raise Refusal(
            "telephoneEventPayloadType must be a dynamic payload type (96-127)"
        )
    return int(value)


def codec(body: dict[str, Any], default: Codec) -> Codec:
    """Return the requested codec (the schema has checked the allowed names)."""
    value = body.get("codec")
    return default if value is None else Codec(value)


def crypto_entries(body: dict[str, Any]) -> list[CryptoEntry]:
    """Return the crypto list as CryptoEntry values; refuse incomplete entries."""
    entries: list[CryptoEntry] = []
    for index, item in enumerate(body.get("crypto") or []):
        suite, tag, config = item.get("suite"), item.get("id"), item.get("config")
        if not isinstance(suite, str) or not isinstance(config, str):
            raise Refusal(f"crypto[{index}] needs suite and config strings")
        if not _is_integer(tag) or not 0 <= tag <= 999_999_999:
            raise Refusal(f"crypto[{index}].id must be an integer tag")
        entries.append(CryptoEntry(suite=suite, tag=int(tag), config=config))
    return entries


def callback_base_url(value: Any) -> str:
    """Return an http(s) callback base URL or refuse."""
    if not isinstance(value, str) or not value:
        raise Refusal("no callbackBaseUrl given and no default configured")
    try:
        url = URL(value)
    except (ValueError, TypeError) as err:
        raise Refusal("callbackBaseUrl is not a URL") from err
    if url.scheme not in ("http", "https") or not url.host:
        raise Refusal("callbackBaseUrl must be an http or https URL")
    return value


def destination_uri(body: dict[str, Any]) -> str:
    """Return destinationUri, refusing an empty one."""
    value: str = body["destinationUri"]
    if not value.strip():
        raise Refusal("destinationUri is empty")
    return value


def optional_text(body: dict[str, Any], name: str) -> str | None:
    """Return an optional string field (schema-checked) or None."""
    value = body.get(name)
    return value if isinstance(value, str) else None
