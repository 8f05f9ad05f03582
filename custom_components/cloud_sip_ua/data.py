"""Runtime data of a config entry, and how it is built from the entry's data and options."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from ipaddress import ip_address
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_NAME

from .cloudsipua.call_manager import CallManager, CallSettings
from .cloudsipua.callback_auth import CallbackVerifier
from .cloudsipua.client import CloudSipUaClient, site_host_pattern
from .cloudsipua.credentials import (
    PrivateKeyTokenProvider,
    StaticTokenProvider,
    TokenProvider,
)
from .cloudsipua.media.addresses import private_remotes_allowed
from .cloudsipua.media.session import MediaSession
from .cloudsipua.models import PLACE_CODECS, Codec
from .cloudsipua.policies import SecondCallPolicy, SrtpPolicy
from .const import (
    AUTH_TOKEN,
    CONF_ALLOW_PRIVATE_MEDIA,
    CONF_ALLOWED_SITES,
    CONF_ASSIST,
    CONF_AUDIENCE,
    CONF_AUTH_TYPE,
    CONF_CODEC,
    CONF_DOMAIN,
    CONF_DTMF_PAYLOAD_TYPE,
    CONF_ISSUER,
    CONF_KEY_ID,
    CONF_MEDIA_ADDRESS,
    CONF_PRIVATE_KEY,
    CONF_RING_TIMEOUT,
    CONF_RTP_PORT_MAX,
    CONF_RTP_PORT_MIN,
    CONF_SECOND_CALL,
    CONF_SOURCE_USER,
    CONF_SRTP_PLACED_CALLS,
    CONF_SRTP_POLICY,
    CONF_TOKEN,
    DEFAULT_ASSIST,
    DEFAULT_CODEC,
    DEFAULT_DTMF_PAYLOAD_TYPE,
    DEFAULT_RING_TIMEOUT,
    DEFAULT_RTP_PORT_MAX,
    DEFAULT_RTP_PORT_MIN,
    DEFAULT_SECOND_CALL,
    DEFAULT_SRTP_PLACED_CALLS,
    DEFAULT_SRTP_POLICY,
    INACTIVITY_TIMEOUT,
)
from .intercom.controller import IntercomController
from .rejections import RejectionLog


@dataclass(slots=True)
class CloudSipUaData:
    """What a loaded entry holds, all of it made before the platforms load.

    The REST client, the call manager, the callback checks and the intercom controller.
    """

    client: CloudSipUaClient
    manager: CallManager
    verifier: CallbackVerifier
    callback_url: str
    intercom: IntercomController
    rejections: RejectionLog = field(default_factory=RejectionLog)


type CloudSipUaConfigEntry = ConfigEntry[CloudSipUaData]


def token_provider_from_data(data: Mapping[str, Any]) -> TokenProvider:
    """Build the token provider the entry's credentials describe."""
    if data.get(CONF_AUTH_TYPE) == AUTH_TOKEN:
        return StaticTokenProvider(data[CONF_TOKEN])
    return PrivateKeyTokenProvider(
        data[CONF_PRIVATE_KEY],
        data[CONF_DOMAIN],
        key_id=data.get(CONF_KEY_ID) or None,
        issuer=data.get(CONF_ISSUER) or None,
        audience=data.get(CONF_AUDIENCE) or None,
    )


def call_settings_from_options(
    options: Mapping[str, Any], *, media_address: str, callback_url: str
) -> CallSettings:
    """Turn the entry's options into call manager settings."""
    preferred = Codec(options.get(CONF_CODEC, DEFAULT_CODEC))
    others = tuple(c for c in (Codec.PCMA, Codec.PCMU) if c is not preferred)
    return CallSettings(
        media_address=media_address,
        callback_base_url=callback_url,
        port_range=(
            int(options.get(CONF_RTP_PORT_MIN, DEFAULT_RTP_PORT_MIN)),
            int(options.get(CONF_RTP_PORT_MAX, DEFAULT_RTP_PORT_MAX)),
        ),
        codec_preference=(preferred, *others) if preferred in PLACE_CODECS else others,
        telephone_event_payload_type=int(
            options.get(CONF_DTMF_PAYLOAD_TYPE, DEFAULT_DTMF_PAYLOAD_TYPE)
        ),
        srtp_policy=SrtpPolicy(options.get(CONF_SRTP_POLICY, DEFAULT_SRTP_POLICY)),
        srtp_on_placed_calls=bool(
            options.get(CONF_SRTP_PLACED_CALLS, DEFAULT_SRTP_PLACED_CALLS)
        ),
        ring_timeout=float(options.get(CONF_RING_TIMEOUT, DEFAULT_RING_TIMEOUT)),
        second_call_policy=SecondCallPolicy(
            options.get(CONF_SECOND_CALL, DEFAULT_SECOND_CALL)
        ),
        inactivity_timeout=INACTIVITY_TIMEOUT,
        default_source_user=options.get(CONF_SOURCE_USER) or None,
        # A loopback media address (demo, tests) keeps RTP off the network entirely.
        bind_host=media_address if ip_address(media_address).is_loopback else "0.0.0.0",
    )


def allowed_sites_option(options: Mapping[str, Any]) -> tuple[str, ...]:
    """Return the hybrid-site hosts the user allowed (InvalidRequestError for a bad entry)."""
    text = options.get(CONF_ALLOWED_SITES) or ""
    return tuple(
        site_host_pattern(part) for part in text.replace(" ", ",").split(",") if part
    )


def media_address_option(options: Mapping[str, Any]) -> str | None:
    """Return the media address the user set, if any."""
    return options.get(CONF_MEDIA_ADDRESS) or None


def allow_private_media(options: Mapping[str, Any], media_address: str) -> bool:
    """Return whether media may go to private remotes: the option, else if ours is private."""
    value = options.get(CONF_ALLOW_PRIVATE_MEDIA)
    if value is None:
        return private_remotes_allowed(media_address)
    return bool(value)


def media_factory_from_options(
    options: Mapping[str, Any], *, media_address: str
) -> Callable[..., MediaSession]:
    """Return the call manager's media factory: sessions with the entry's address policy."""
    return partial(
        MediaSession,
        allow_private_remote=allow_private_media(options, media_address),
    )


def default_device_name(domain: str) -> str:
    """Return the name a tenant's device gets unless the user chose one: the domain's first label."""
    return domain.split(".", 1)[0]


def device_name(data: Mapping[str, Any]) -> str:
    """Return the device name the entry was set up with (entries from before: the default)."""
    return str(data.get(CONF_NAME) or default_device_name(data[CONF_DOMAIN]))


def assist_enabled(options: Mapping[str, Any]) -> bool:
    """Return whether the entry has Assist on calls (its satellite and what belongs to it)."""
    return bool(options.get(CONF_ASSIST, DEFAULT_ASSIST))
