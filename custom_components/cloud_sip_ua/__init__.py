"""The Cloud SIP UA integration: Home Assistant as a voice endpoint of the iotcomms.io service."""

from __future__ import annotations

from homeassistant.components.network import async_get_source_ip
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    ConfigEntryError,
    ConfigEntryNotReady,
)
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import ConfigType

from .cloudsipua.call_manager import CallManager
from .cloudsipua.callback_auth import CallbackVerifier
from .cloudsipua.client import CloudSipUaClient
from .cloudsipua.exceptions import (
    CloudSipUaAuthenticationError,
    CloudSipUaConnectionError,
    CloudSipUaNotTheApiError,
    CloudSipUaResponseError,
    CredentialsError,
    InvalidRequestError,
)
from .cloudsipua.media.resample import prepare_filters
from .const import (
    CONF_API_BASE_URL,
    CONF_CALLBACK_PUBLIC_KEY,
    CONF_DOMAIN,
    CONF_WEBHOOK_ID,
    DOMAIN,
)
from .data import (
    CloudSipUaConfigEntry,
    CloudSipUaData,
    allowed_sites_option,
    call_settings_from_options,
    media_address_option,
    media_factory_from_options,
    token_provider_from_data,
)
from .http.callback_url import async_callback_base_url
from .http.callback_view import async_get_router
from .http.card import async_register_card
from .http.clip_view import ClipView
from .http.listen_view import ListenView
from .http.websocket_api import async_register_websocket_commands
from .intercom.controller import IntercomController
from .leftovers import LeftoverCalls
from .services import async_setup_services

PLATFORMS = [
    Platform.ASSIST_SATELLITE,
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.EVENT,
    Platform.MEDIA_PLAYER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the HTTP views, the actions and the WebSocket command."""
    async_get_router(hass)
    hass.http.register_view(ListenView())
    hass.http.register_view(ClipView())
    async_setup_services(hass)
    async_register_websocket_commands(hass)
    # Before the HTTP server starts, so that the card's route joins it.
    await async_register_card(hass)
    # A call's first resampler would otherwise design its filter on the event loop.
    await hass.async_add_executor_job(prepare_filters)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: CloudSipUaConfigEntry) -> bool:
    """Check the credentials, then start receiving callbacks and handling calls."""
    try:
        # Key parsing in the executor; it skips OpenSSL's prime proof, which holds the GIL for
        # 50-300 ms and so stalls the loop even from there (see credentials.load_private_key).
        tokens = await hass.async_add_executor_job(token_provider_from_data, entry.data)
        verifier = await hass.async_add_executor_job(
            CallbackVerifier, entry.data.get(CONF_CALLBACK_PUBLIC_KEY) or None
        )
    except CredentialsError as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN, translation_key="invalid_key"
        ) from err
    try:
        allowed_sites = allowed_sites_option(entry.options)
    except InvalidRequestError as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN, translation_key="invalid_allowed_sites"
        ) from err
    client = CloudSipUaClient(
        async_get_clientsession(hass),
        entry.data[CONF_DOMAIN],
        tokens,
        base_url=entry.data.get(CONF_API_BASE_URL) or None,
        allowed_sites=allowed_sites,
    )
    try:
        await client.validate_credentials()
    except CloudSipUaAuthenticationError as err:
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="auth_failed"
        ) from err
    except CloudSipUaNotTheApiError as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="not_the_api",
            translation_placeholders={
                "reached": f"HTTP {err.status}, {err.content_type}"
            },
        ) from err
    except (CloudSipUaConnectionError, CloudSipUaResponseError) as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN, translation_key="cannot_connect"
        ) from err

    webhook_id = entry.data[CONF_WEBHOOK_ID]
    callback_url = async_callback_base_url(hass, webhook_id)
    media_address = media_address_option(entry.options) or await async_get_source_ip(
        hass
    )
    manager = CallManager(
        client,
        call_settings_from_options(
            entry.options, media_address=media_address, callback_url=callback_url
        ),
        media_factory=media_factory_from_options(
            entry.options, media_address=media_address
        ),
    )
    leftovers = LeftoverCalls(hass, entry.entry_id)
    await leftovers.async_end_leftovers(client)
    leftovers.async_track(manager)
    intercom = IntercomController(hass, entry, manager)
    entry.runtime_data = CloudSipUaData(
        client, manager, verifier, callback_url, intercom
    )

    router = async_get_router(hass)
    router.register(webhook_id, entry.runtime_data)
    entry.async_on_unload(lambda: router.unregister(webhook_id))
    entry.async_on_unload(manager.close)
    # After manager.close: unload runs its callbacks last first, so recordings end first.
    await intercom.async_start()

    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: CloudSipUaConfigEntry) -> bool:
    """Stop the entry's platforms; its calls are hung up by the unload callbacks."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
