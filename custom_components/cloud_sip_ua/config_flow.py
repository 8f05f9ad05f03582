"""Config flow: tenant domain and credentials, checked against the service; options; reauth."""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import ip_address
import secrets
from typing import Any

import probatio

from homeassistant.components.network import async_get_source_ip
from homeassistant.config_entries import (
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.const import CONF_NAME
from homeassistant.core import callback
from homeassistant.data_entry_flow import section
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from .cloudsipua.callback_auth import CallbackVerifier
from .cloudsipua.client import CloudSipUaClient
from .cloudsipua.exceptions import (
    CloudSipUaAuthenticationError,
    CloudSipUaConnectionError,
    CloudSipUaError,
    CloudSipUaNotTheApiError,
    InvalidPrivateKeyError,
    InvalidPublicKeyError,
    InvalidRequestError,
    NotAPrivateKeyError,
    UnsupportedKeyTypeError,
)
from .cloudsipua.validation import validate_domain
from .const import (
    AUTH_PRIVATE_KEY,
    AUTH_TOKEN,
    CONF_ALLOW_PRIVATE_MEDIA,
    CONF_ALLOWED_SITES,
    CONF_API_BASE_URL,
    CONF_ASSIST,
    CONF_AUDIENCE,
    CONF_AUTH_TYPE,
    CONF_CALLBACK_PUBLIC_KEY,
    CONF_CODEC,
    CONF_DOMAIN,
    CONF_DOOR_CODE,
    CONF_DOOR_SATELLITES,
    CONF_DOOR_TTS,
    CONF_DTMF_PAYLOAD_TYPE,
    CONF_ISSUER,
    CONF_KEY_ID,
    CONF_LISTEN_FORMAT,
    CONF_MEDIA_ADDRESS,
    CONF_PLACE_CALLS_ADMIN_ONLY,
    CONF_PRIVATE_KEY,
    CONF_RECORD_ALL_CALLS,
    CONF_RECORDING_RETENTION_COUNT,
    CONF_RECORDING_RETENTION_DAYS,
    CONF_RING_TIMEOUT,
    CONF_RTP_PORT_MAX,
    CONF_RTP_PORT_MIN,
    CONF_SECOND_CALL,
    CONF_SOURCE_USER,
    CONF_SRTP_PLACED_CALLS,
    CONF_SRTP_POLICY,
    CONF_TOKEN,
    CONF_WEBHOOK_ID,
    DEFAULT_ASSIST,
    DEFAULT_CODEC,
    DEFAULT_DTMF_PAYLOAD_TYPE,
    DEFAULT_LISTEN_FORMAT,
    DEFAULT_PLACE_CALLS_ADMIN_ONLY,
    DEFAULT_RECORD_ALL_CALLS,
    DEFAULT_RECORDING_RETENTION_COUNT,
    DEFAULT_RECORDING_RETENTION_DAYS,
    DEFAULT_RING_TIMEOUT,
    DEFAULT_RTP_PORT_MAX,
    DEFAULT_RTP_PORT_MIN,
    DEFAULT_SECOND_CALL,
    DEFAULT_SRTP_PLACED_CALLS,
    DEFAULT_SRTP_POLICY,
    DOMAIN,
    SECTION_ADVANCED,
)
from .data import (
    allow_private_media,
    allowed_sites_option,
    device_name,
    media_address_option,
    token_provider_from_data,
)
from .http.callback_url import async_callback_base_url
from .services import DTMF_DIGITS

_PEM = TextSelector(TextSelectorConfig(multiline=True))
_SECRET = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
_ADVANCED_FIELDS = (CONF_API_BASE_URL, CONF_KEY_ID, CONF_ISSUER, CONF_AUDIENCE)

# Library errors to the form's translated error keys, most specific first.
_ERRORS: tuple[tuple[type[Exception], str, str], ...] = (
    (NotAPrivateKeyError, CONF_PRIVATE_KEY, "not_a_private_key"),
    (UnsupportedKeyTypeError, CONF_PRIVATE_KEY, "unsupported_key_type"),
    (InvalidPrivateKeyError, CONF_PRIVATE_KEY, "invalid_private_key"),
    (InvalidPublicKeyError, CONF_CALLBACK_PUBLIC_KEY, "invalid_public_key"),
    (InvalidRequestError, "base", "invalid_input"),
    (CloudSipUaAuthenticationError, "base", "invalid_auth"),
    (CloudSipUaNotTheApiError, "base", "not_the_api"),
    (CloudSipUaConnectionError, "base", "cannot_connect"),
    (CloudSipUaError, "base", "unknown"),
)


def _credentials_schema(auth_type: str, *, with_domain: bool) -> probatio.Schema:
    """Return the credentials form for one kind of credential.

    Without the domain (reconfiguring), the secret is optional: empty keeps the stored one,
    which never goes back to the browser.
    """
    fields: dict[Any, Any] = {}
    secret = probatio.Required if with_domain else probatio.Optional
    if with_domain:
        fields[probatio.Required(CONF_DOMAIN)] = str
        fields[probatio.Optional(CONF_NAME)] = str
    if auth_type == AUTH_PRIVATE_KEY:
        fields[secret(CONF_PRIVATE_KEY)] = _PEM
    else:
        fields[secret(CONF_TOKEN)] = _SECRET
    fields[probatio.Optional(CONF_CALLBACK_PUBLIC_KEY)] = _PEM
    advanced: dict[Any, Any] = {probatio.Optional(CONF_API_BASE_URL): str}
    if auth_type == AUTH_PRIVATE_KEY:
        advanced |= {
            probatio.Optional(CONF_KEY_ID): str,
            probatio.Optional(CONF_ISSUER): str,
            probatio.Optional(CONF_AUDIENCE): str,
        }
    fields[probatio.Required(SECTION_ADVANCED)] = section(
        probatio.Schema(advanced), {"collapsed": True}
    )
    return probatio.Schema(fields)


def _flatten(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Lift the advanced section's fields to the top level and drop empty values."""
    data = {k: v for k, v in user_input.items() if k != SECTION_ADVANCED}
    data |= dict(user_input.get(SECTION_ADVANCED, {}))
    return {
        k: v.strip() if isinstance(v, str) else v
        for k, v in data.items()
        if v not in (None, "")
    }


async def _async_validate(
    hass: Any, data: dict[str, Any], placeholders: dict[str, str] | None = None
) -> dict[str, str]:
    """Check the domain and keys locally, then with one harmless authenticated request.

    `placeholders` gets `reached`: what answered at the API base URL, for the error text.
    """
    try:
        data[CONF_DOMAIN] = validate_domain(data[CONF_DOMAIN])
    except InvalidRequestError:
        return {CONF_DOMAIN: "invalid_domain"}
    try:
        # Key parsing in the executor; it skips OpenSSL's prime proof, which holds the GIL for
        # 50-300 ms and so stalls the loop even from there (see credentials.load_private_key).
        tokens = await hass.async_add_executor_job(token_provider_from_data, data)
        await hass.async_add_executor_job(
            CallbackVerifier, data.get(CONF_CALLBACK_PUBLIC_KEY)
        )
        client = CloudSipUaClient(
            async_get_clientsession(hass),
            data[CONF_DOMAIN],
            tokens,
            base_url=data.get(CONF_API_BASE_URL),
        )
        await client.validate_credentials()
    except CloudSipUaError as err:
        field, key = next((f, k) for cls, f, k in _ERRORS if isinstance(err, cls))
        if placeholders is not None and isinstance(err, CloudSipUaNotTheApiError):
            placeholders["reached"] = f"HTTP {err.status}, {err.content_type}"
        return {field: key}
    return {}


class CloudSipUaConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a Cloud SIP UA tenant."""

    VERSION = 1

    def __init__(self) -> None:
        """Start with no choice made."""
        self._auth_type = AUTH_PRIVATE_KEY

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: Any) -> CloudSipUaOptionsFlow:
        """Return the options flow."""
        return CloudSipUaOptionsFlow()

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask which kind of credential the user has."""
        return self.async_show_menu(
            step_id="user", menu_options=[AUTH_PRIVATE_KEY, AUTH_TOKEN]
        )

    async def async_step_private_key(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Set up with a private key that mints JWTs."""
        self._auth_type = AUTH_PRIVATE_KEY
        return await self._async_step_credentials("private_key", user_input)

    async def async_step_token(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Set up with a ready-made bearer token."""
        self._auth_type = AUTH_TOKEN
        return await self._async_step_credentials("token", user_input)

    async def _async_step_credentials(
        self, step_id: str, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """Validate the form and create the entry."""
        errors: dict[str, str] = {}
        placeholders = {"reached": ""}
        if user_input is not None:
            data = _flatten(user_input) | {CONF_AUTH_TYPE: self._auth_type}
            if not (errors := await _async_validate(self.hass, data, placeholders)):
                await self.async_set_unique_id(data[CONF_DOMAIN])
                self._abort_if_unique_id_configured()
                data[CONF_WEBHOOK_ID] = secrets.token_hex(32)
                data[CONF_NAME] = device_name(data)
                return self.async_create_entry(
                    title=data[CONF_NAME],
                    data=data,
                    description_placeholders={
                        "callback_url": async_callback_base_url(
                            self.hass, data[CONF_WEBHOOK_ID]
                        )
                    },
                )
        schema = _credentials_schema(self._auth_type, with_domain=True)
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(schema, user_input or {}),
            description_placeholders=placeholders,
            errors=errors,
        )

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Start reauthentication after the service refused the credentials."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for a new private key or token."""
        entry = self._get_reauth_entry()
        auth_type = entry.data.get(CONF_AUTH_TYPE, AUTH_PRIVATE_KEY)
        secret_field = CONF_PRIVATE_KEY if auth_type == AUTH_PRIVATE_KEY else CONF_TOKEN
        errors: dict[str, str] = {}
        placeholders = {"domain": entry.data[CONF_DOMAIN], "reached": ""}
        if user_input is not None:
            data = {**entry.data, **_flatten(user_input)}
            if not (errors := await _async_validate(self.hass, data, placeholders)):
                return self.async_update_reload_and_abort(
                    entry, data_updates={secret_field: data[secret_field]}
                )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=probatio.Schema(
                {
                    probatio.Required(secret_field): _PEM
                    if secret_field == CONF_PRIVATE_KEY
                    else _SECRET
                }
            ),
            description_placeholders=placeholders,
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change credentials, the callback-signing key or the API URL of an entry."""
        entry = self._get_reconfigure_entry()
        auth_type = entry.data.get(CONF_AUTH_TYPE, AUTH_PRIVATE_KEY)
        errors: dict[str, str] = {}
        placeholders = {"reached": ""}
        if user_input is not None:
            # The stored secret stays unless a new one was pasted.
            keep = {CONF_DOMAIN, CONF_NAME, CONF_AUTH_TYPE, CONF_WEBHOOK_ID}
            keep.add(CONF_PRIVATE_KEY if auth_type == AUTH_PRIVATE_KEY else CONF_TOKEN)
            data = {k: v for k, v in entry.data.items() if k in keep} | _flatten(
                user_input
            )
            if not (errors := await _async_validate(self.hass, data, placeholders)):
                return self.async_update_reload_and_abort(entry, data=data)
        schema = _credentials_schema(auth_type, with_domain=False)
        # Never the private key or token: the form goes to the browser.
        suggested = {
            k: v
            for k, v in (user_input or {}).items()
            if k not in (CONF_PRIVATE_KEY, CONF_TOKEN)
        } or {
            **{k: v for k, v in entry.data.items() if k == CONF_CALLBACK_PUBLIC_KEY},
            SECTION_ADVANCED: {
                k: entry.data[k] for k in _ADVANCED_FIELDS if k in entry.data
            },
        }
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            description_placeholders={
                **placeholders,
                "domain": entry.data[CONF_DOMAIN],
                "callback_url": async_callback_base_url(
                    self.hass, entry.data[CONF_WEBHOOK_ID]
                ),
            },
            errors=errors,
        )


class CloudSipUaOptionsFlow(OptionsFlowWithReload):
    """Call handling options."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show and save the options."""
        errors: dict[str, str] = {}
        if user_input is not None:
            if user_input[CONF_RTP_PORT_MIN] + 1 >= user_input[CONF_RTP_PORT_MAX]:
                errors[CONF_RTP_PORT_MAX] = "port_range"
            elif not _is_ip(user_input.get(CONF_MEDIA_ADDRESS)):
                errors[CONF_MEDIA_ADDRESS] = "invalid_media_address"
            elif not _are_site_patterns(user_input.get(CONF_ALLOWED_SITES)):
                errors[CONF_ALLOWED_SITES] = "invalid_allowed_sites"
            elif not _is_door_code(user_input.get(CONF_DOOR_CODE)):
                errors[CONF_DOOR_CODE] = "invalid_door_code"
            else:
                return self.async_create_entry(data=user_input)
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                _OPTIONS_SCHEMA,
                user_input or await self._async_current_options(),
            ),
            # Where an admin finds the callback URL again after the setup dialog is gone.
            description_placeholders={
                "callback_url": async_callback_base_url(
                    self.hass, self.config_entry.data[CONF_WEBHOOK_ID]
                )
            },
            errors=errors,
        )

    async def _async_current_options(self) -> dict[str, Any]:
        """Return the saved options over the defaults; the media policy's follows the address."""
        options = {**_OPTION_DEFAULTS, **self.config_entry.options}
        if CONF_ALLOW_PRIVATE_MEDIA not in options:
            address = media_address_option(options) or await async_get_source_ip(
                self.hass
            )
            options[CONF_ALLOW_PRIVATE_MEDIA] = allow_private_media(options, address)
        return options


def _are_site_patterns(value: str | None) -> bool:
    """Return True for an empty value or comma-separated `host` / `*.domain` entries."""
    try:
        allowed_sites_option({CONF_ALLOWED_SITES: value})
    except InvalidRequestError:
        return False
    return True


def _is_door_code(value: str | None) -> bool:
    """Return True for an empty value or DTMF digits."""
    return not value or DTMF_DIGITS.fullmatch(value) is not None


def _is_ip(value: str | None) -> bool:
    """Return True for an empty value or an IP address literal."""
    if not value:
        return True
    try:
        ip_address(value)
    except ValueError:
        return False
    return True


def _select(options: list[str], key: str) -> SelectSelector:
    """Return a translated dropdown."""
    return SelectSelector(
        SelectSelectorConfig(
            options=options, translation_key=key, mode=SelectSelectorMode.DROPDOWN
        )
    )


def _number(minimum: int, maximum: int, unit: str | None = None) -> NumberSelector:
    """Return a number box."""
    config = NumberSelectorConfig(
        min=minimum, max=maximum, step=1, mode=NumberSelectorMode.BOX
    )
    if unit is not None:
        config["unit_of_measurement"] = unit
    return NumberSelector(config)


_OPTION_DEFAULTS: dict[str, Any] = {
    CONF_CODEC: DEFAULT_CODEC,
    CONF_DTMF_PAYLOAD_TYPE: DEFAULT_DTMF_PAYLOAD_TYPE,
    CONF_RTP_PORT_MIN: DEFAULT_RTP_PORT_MIN,
    CONF_RTP_PORT_MAX: DEFAULT_RTP_PORT_MAX,
    CONF_SRTP_POLICY: DEFAULT_SRTP_POLICY,
    CONF_RING_TIMEOUT: DEFAULT_RING_TIMEOUT,
    CONF_SECOND_CALL: DEFAULT_SECOND_CALL,
    CONF_SRTP_PLACED_CALLS: DEFAULT_SRTP_PLACED_CALLS,
    CONF_PLACE_CALLS_ADMIN_ONLY: DEFAULT_PLACE_CALLS_ADMIN_ONLY,
    CONF_LISTEN_FORMAT: DEFAULT_LISTEN_FORMAT,
    CONF_RECORD_ALL_CALLS: DEFAULT_RECORD_ALL_CALLS,
    CONF_RECORDING_RETENTION_DAYS: DEFAULT_RECORDING_RETENTION_DAYS,
    CONF_RECORDING_RETENTION_COUNT: DEFAULT_RECORDING_RETENTION_COUNT,
    CONF_ASSIST: DEFAULT_ASSIST,
}

_OPTIONS_SCHEMA = probatio.Schema(
    {
        probatio.Optional(CONF_SOURCE_USER): str,
        probatio.Required(CONF_CODEC): _select(["PCMA", "PCMU"], CONF_CODEC),
        probatio.Required(CONF_DTMF_PAYLOAD_TYPE): probatio.All(
            _number(96, 127), probatio.Coerce(int)
        ),
        probatio.Optional(CONF_MEDIA_ADDRESS): str,
        probatio.Optional(CONF_ALLOW_PRIVATE_MEDIA): BooleanSelector(),
        probatio.Required(CONF_RTP_PORT_MIN): probatio.All(
            _number(1024, 65534), probatio.Coerce(int)
        ),
        probatio.Required(CONF_RTP_PORT_MAX): probatio.All(
            _number(1025, 65535), probatio.Coerce(int)
        ),
        probatio.Required(CONF_SRTP_POLICY): _select(
            ["off", "offer", "require"], CONF_SRTP_POLICY
        ),
        probatio.Optional(
            CONF_SRTP_PLACED_CALLS, default=DEFAULT_SRTP_PLACED_CALLS
        ): BooleanSelector(),
        probatio.Optional(CONF_ALLOWED_SITES): str,
        probatio.Optional(
            CONF_PLACE_CALLS_ADMIN_ONLY, default=DEFAULT_PLACE_CALLS_ADMIN_ONLY
        ): BooleanSelector(),
        probatio.Required(CONF_RING_TIMEOUT): probatio.All(
            _number(5, 600, "s"), probatio.Coerce(int)
        ),
        probatio.Required(CONF_SECOND_CALL): _select(
            ["busy", "ring"], CONF_SECOND_CALL
        ),
        probatio.Optional(CONF_LISTEN_FORMAT, default=DEFAULT_LISTEN_FORMAT): _select(
            ["mp3", "wav"], CONF_LISTEN_FORMAT
        ),
        probatio.Optional(
            CONF_RECORD_ALL_CALLS, default=DEFAULT_RECORD_ALL_CALLS
        ): BooleanSelector(),
        probatio.Optional(
            CONF_RECORDING_RETENTION_DAYS, default=DEFAULT_RECORDING_RETENTION_DAYS
        ): probatio.All(_number(0, 3650, "d"), probatio.Coerce(int)),
        probatio.Optional(
            CONF_RECORDING_RETENTION_COUNT, default=DEFAULT_RECORDING_RETENTION_COUNT
        ): probatio.All(_number(0, 100000), probatio.Coerce(int)),
        probatio.Optional(CONF_ASSIST, default=DEFAULT_ASSIST): BooleanSelector(),
        probatio.Optional(CONF_DOOR_SATELLITES): EntitySelector(
            EntitySelectorConfig(domain="assist_satellite", multiple=True)
        ),
        probatio.Optional(CONF_DOOR_CODE): str,
        probatio.Optional(CONF_DOOR_TTS): EntitySelector(
            EntitySelectorConfig(domain="tts")
        ),
    }
)
