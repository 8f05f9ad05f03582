"""Every branch of the config flow, reauth, reconfigure and options, against the emulator."""

from __future__ import annotations

import socket
import time
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
import jwt
import probatio
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.cloud_sip_ua.config_flow import _OPTION_DEFAULTS
from custom_components.cloud_sip_ua.const import (
    AUTH_TOKEN,
    CONF_API_BASE_URL,
    CONF_ASSIST,
    CONF_AUTH_TYPE,
    CONF_CALLBACK_PUBLIC_KEY,
    CONF_CODEC,
    CONF_DOMAIN,
    CONF_DTMF_PAYLOAD_TYPE,
    CONF_MEDIA_ADDRESS,
    CONF_PRIVATE_KEY,
    CONF_RING_TIMEOUT,
    CONF_RTP_PORT_MAX,
    CONF_RTP_PORT_MIN,
    CONF_SECOND_CALL,
    CONF_SOURCE_USER,
    CONF_SRTP_POLICY,
    CONF_TOKEN,
    CONF_WEBHOOK_ID,
    DOMAIN,
    SECTION_ADVANCED,
)
from emulator import Emulator
from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er

from .conftest import TENANT, KeyPair, _key_pair


def _closed_port() -> int:
    """Return a loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _start(hass: HomeAssistant, step: str) -> dict[str, Any]:
    """Open the flow and pick a credential kind from the menu."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["private_key", "token"]
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": step}
    )


def _private_key_input(
    keys: KeyPair, callback_keys: KeyPair, base_url: str, **changes: Any
) -> dict[str, Any]:
    """Return a filled private-key form."""
    form: dict[str, Any] = {
        CONF_DOMAIN: TENANT,
        CONF_PRIVATE_KEY: keys.private_pem.decode(),
        CONF_CALLBACK_PUBLIC_KEY: callback_keys.public_pem.decode(),
        SECTION_ADVANCED: {CONF_API_BASE_URL: base_url},
    }
    return form | changes


async def test_private_key_flow_creates_entry(
    hass: HomeAssistant, emulator: Emulator, api_keys: KeyPair, callback_keys: KeyPair
) -> None:
    """A valid key reaches the service once and creates the entry with a fresh webhook id."""
    result = await _start(hass, "private_key")
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        _private_key_input(
            api_keys, callback_keys, emulator.base_url, domain=f" {TENANT.upper()} "
        ),
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.unique_id == TENANT
    assert entry.data[CONF_DOMAIN] == TENANT
    # Named after the domain's first label unless the user chose a name.
    assert entry.title == entry.data[CONF_NAME] == "customer"
    assert entry.data[CONF_API_BASE_URL] == emulator.base_url
    webhook_id = entry.data[CONF_WEBHOOK_ID]
    assert len(webhook_id) == 64
    int(webhook_id, 16)
    assert result["description_placeholders"]["callback_url"].endswith(
        f"/api/cloud_sip_ua/{webhook_id}"
    )
    assert entry.state is ConfigEntryState.LOADED


async def test_token_flow_creates_entry(
    hass: HomeAssistant, emulator: Emulator, api_keys: KeyPair, callback_keys: KeyPair
) -> None:
    """A pasted bearer token works as well as a key."""
    now = int(time.time())
    token = jwt.encode(
        {"iss": TENANT, "sub": TENANT, "iat": now, "exp": now + 3600},
        api_keys.private_pem,
        "RS256",
    )
    result = await _start(hass, "token")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_DOMAIN: TENANT,
            CONF_NAME: " Front door ",
            CONF_TOKEN: token,
            SECTION_ADVANCED: {CONF_API_BASE_URL: emulator.base_url},
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_AUTH_TYPE] == AUTH_TOKEN
    assert CONF_CALLBACK_PUBLIC_KEY not in result["data"]
    assert result["title"] == "Front door"
    await hass.async_block_till_done()
    assert hass.states.get("event.front_door_doorbell") is not None


def _ec_private_pem() -> str:
    """Return an EC private key, which RS256 cannot use."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.mark.parametrize(
    ("changes", "field", "error"),
    [
        ({CONF_DOMAIN: "not a domain"}, CONF_DOMAIN, "invalid_domain"),
        (
            {
                CONF_PRIVATE_KEY: "-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----"
            },
            CONF_PRIVATE_KEY,
            "invalid_private_key",
        ),
        ({CONF_PRIVATE_KEY: "public"}, CONF_PRIVATE_KEY, "not_a_private_key"),
        ({CONF_PRIVATE_KEY: "ec"}, CONF_PRIVATE_KEY, "unsupported_key_type"),
        (
            {CONF_CALLBACK_PUBLIC_KEY: "not a key"},
            CONF_CALLBACK_PUBLIC_KEY,
            "invalid_public_key",
        ),
        ({CONF_PRIVATE_KEY: "other"}, "base", "invalid_auth"),
        ({SECTION_ADVANCED: {CONF_API_BASE_URL: "closed"}}, "base", "cannot_connect"),
        (
            {SECTION_ADVANCED: {CONF_API_BASE_URL: "ftp://example"}},
            "base",
            "invalid_input",
        ),
    ],
)
async def test_flow_errors_then_recover(
    hass: HomeAssistant,
    emulator: Emulator,
    api_keys: KeyPair,
    callback_keys: KeyPair,
    changes: dict[str, Any],
    field: str,
    error: str,
) -> None:
    """Each problem is shown on its field, and the form then accepts corrected input."""
    replacements = {
        "public": api_keys.public_pem.decode(),
        "ec": _ec_private_pem(),
        "other": _key_pair().private_pem.decode(),
        "closed": f"http://127.0.0.1:{_closed_port()}",
    }
    resolved = {
        key: (
            {k: replacements.get(v, v) for k, v in value.items()}
            if isinstance(value, dict)
            else replacements.get(value, value)
        )
        for key, value in changes.items()
    }
    result = await _start(hass, "private_key")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        _private_key_input(api_keys, callback_keys, emulator.base_url, **resolved),
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: error}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        _private_key_input(api_keys, callback_keys, emulator.base_url),
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_same_tenant_twice_aborts(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    api_keys: KeyPair,
    callback_keys: KeyPair,
) -> None:
    """The domain is the unique id."""
    result = await _start(hass, "private_key")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        _private_key_input(api_keys, callback_keys, emulator.base_url),
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_reauth_after_401(
    hass: HomeAssistant,
    emulator: Emulator,
    mock_config_entry: MockConfigEntry,
    api_keys: KeyPair,
) -> None:
    """A key the service refuses starts reauth; a good key repairs the entry."""
    wrong = _key_pair().private_pem.decode()
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry, data={**mock_config_entry.data, CONF_PRIVATE_KEY: wrong}
    )
    assert not await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress()
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]
    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"], {CONF_PRIVATE_KEY: wrong}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"], {CONF_PRIVATE_KEY: api_keys.private_pem.decode()}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.LOADED
    assert (
        mock_config_entry.data[CONF_PRIVATE_KEY]
        == api_keys.private_pem.decode().strip()
    )


async def test_reconfigure(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    api_keys: KeyPair,
    callback_keys: KeyPair,
) -> None:
    """Reconfigure validates like setup and keeps the domain and webhook id."""
    result = await init_integration.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    callback_url = result["description_placeholders"]["callback_url"]
    assert callback_url.endswith(f"/api/cloud_sip_ua/{'a1' * 32}")
    user_input = {
        CONF_PRIVATE_KEY: api_keys.private_pem.decode(),
        SECTION_ADVANCED: {CONF_API_BASE_URL: f"http://127.0.0.1:{_closed_port()}"},
    }
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input
    )
    assert result["errors"] == {"base": "cannot_connect"}
    user_input[SECTION_ADVANCED] = {CONF_API_BASE_URL: emulator.base_url}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert CONF_CALLBACK_PUBLIC_KEY not in init_integration.data
    assert init_integration.data[CONF_WEBHOOK_ID] == "a1" * 32
    assert init_integration.state is ConfigEntryState.LOADED


async def test_reconfigure_never_sends_the_secret(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    api_keys: KeyPair,
) -> None:
    """The form holds no key, not as default nor as suggestion; empty keeps the stored one."""
    stored = init_integration.data[CONF_PRIVATE_KEY]
    result = await init_integration.start_reconfigure_flow(hass)
    schema = result["data_schema"].schema
    (key,) = [field for field in schema if field == CONF_PRIVATE_KEY]
    assert not isinstance(key, probatio.Required)
    assert key.default is probatio.UNDEFINED
    assert "suggested_value" not in (key.description or {})
    assert "PRIVATE KEY" not in repr(result)
    user_input = {SECTION_ADVANCED: {CONF_API_BASE_URL: emulator.base_url}}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert init_integration.data[CONF_PRIVATE_KEY] == stored
    assert init_integration.state is ConfigEntryState.LOADED


async def test_options_flow(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Options are validated, saved, and the entry reloads with them."""
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["description_placeholders"]["callback_url"] == (
        init_integration.runtime_data.callback_url
    )
    options = {
        CONF_SOURCE_USER: "4600",
        CONF_CODEC: "PCMU",
        CONF_DTMF_PAYLOAD_TYPE: 96,
        CONF_MEDIA_ADDRESS: "127.0.0.1",
        CONF_RTP_PORT_MIN: 42000,
        CONF_RTP_PORT_MAX: 42000,
        CONF_SRTP_POLICY: "require",
        CONF_RING_TIMEOUT: 20,
        CONF_SECOND_CALL: "ring",
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], options
    )
    assert result["errors"] == {CONF_RTP_PORT_MAX: "port_range"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        options | {CONF_MEDIA_ADDRESS: "not an address", CONF_RTP_PORT_MAX: 42999},
    )
    assert result["errors"] == {CONF_MEDIA_ADDRESS: "invalid_media_address"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], options | {CONF_RTP_PORT_MAX: 42999}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.LOADED
    settings = init_integration.runtime_data.manager.settings
    assert settings.port_range == (42000, 42999)
    assert settings.srtp_policy.value == "require"
    assert settings.codec_preference[0].value == "PCMU"
    assert settings.default_source_user == "4600"
    assert settings.ring_timeout == 20


async def test_assist_entities_come_with_the_option(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Without Assist on calls the device has no satellite (so no voice wizard after setup)."""
    assert hass.states.get("assist_satellite.customer_assist") is not None
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {**_OPTION_DEFAULTS, **init_integration.options, CONF_ASSIST: False},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    for entity_id in (
        "assist_satellite.customer_assist",
        "switch.customer_assist_answers_calls",
        "select.customer_assist_pipeline",
        "select.customer_finished_speaking_detection",
    ):
        assert hass.states.get(entity_id) is None, entity_id
        assert er.async_get(hass).async_get(entity_id) is None, entity_id
    assert hass.states.get("event.customer_doorbell") is not None
