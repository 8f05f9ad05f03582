"""Fixtures: keys, the emulator in the test's event loop, and Home Assistant with a loaded entry."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
import json
from pathlib import Path
import time
from typing import Any
from unittest.mock import PropertyMock, patch

import aiohttp
from cryptography.hazmat.primitives.asymmetric import rsa
import jwt
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.cloud_sip_ua.const import (
    AUTH_PRIVATE_KEY,
    CONF_API_BASE_URL,
    CONF_ASSIST,
    CONF_AUTH_TYPE,
    CONF_CALLBACK_PUBLIC_KEY,
    CONF_DOMAIN,
    CONF_MEDIA_ADDRESS,
    CONF_PRIVATE_KEY,
    CONF_RTP_PORT_MAX,
    CONF_RTP_PORT_MIN,
    CONF_WEBHOOK_ID,
    DOMAIN,
)
from emulator import Emulator, EmulatorConfig
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from tests.library.conftest import KeyPair, _pems

from .assist_providers import Doorkeeper, RecordingEars, async_setup_doorstep_pipeline

TENANT = "customer.prod-eu-north-1.iotcomms.io"
WEBHOOK_ID = "a1" * 32


def _key_pair() -> KeyPair:
    """Make an RSA key pair."""
    return _pems(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="session")
def api_keys() -> KeyPair:
    """Return the customer's API key pair."""
    return _key_pair()


@pytest.fixture(scope="session")
def callback_keys() -> KeyPair:
    """Return the platform's callback-signing key pair."""
    return _key_pair()


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load our integration."""


@pytest.fixture(autouse=True)
def tts_cache(tmp_path: Path) -> Iterator[None]:
    """Keep the TTS cache in the test's folder."""
    with patch(
        "homeassistant.components.tts._init_tts_cache_dir", return_value=str(tmp_path)
    ):
        yield


@pytest.fixture
async def ha_base_url(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator
) -> str:
    """Serve Home Assistant's HTTP app on a real loopback port and make it the external URL."""
    # Everything that registers HTTP views must load before the server freezes its routes.
    for component in (
        "homeassistant",
        "diagnostics",
        "media_player",
        "tts",
        "websocket_api",
    ):
        assert await async_setup_component(hass, component, {})
    assert await async_setup_component(hass, DOMAIN, {})
    client = await hass_client_no_auth()
    base = str(client.make_url("")).rstrip("/")
    await hass.config.async_update(external_url=base, internal_url=base)
    return base


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    """Return extra emulator settings (a test module overrides this fixture to change them)."""
    return {}


@pytest.fixture
def callback_signing() -> bool:
    """Return whether the entry checks callback signatures (most users cannot turn it on)."""
    return True


@pytest.fixture
async def emulator(
    api_keys: KeyPair,
    callback_keys: KeyPair,
    ha_base_url: str,
    emulator_options: dict[str, Any],
) -> AsyncIterator[Emulator]:
    """Run the emulator, posting incoming-call callbacks to the test entry's webhook."""
    emu = Emulator(
        EmulatorConfig(
            **emulator_options,
            domain=TENANT,
            api_public_key_pem=api_keys.public_pem,
            callback_signing_private_key_pem=callback_keys.private_pem,
            default_callback_base_url=f"{ha_base_url}/api/cloud_sip_ua/{WEBHOOK_ID}",
            ring_timeout=30.0,
            media_port_range=(40000, 40999),
        )
    )
    await emu.start()
    yield emu
    await emu.stop()


def entry_data(
    api_keys: KeyPair, callback_keys: KeyPair, api_base_url: str
) -> dict[str, Any]:
    """Return config entry data for the emulator's tenant."""
    return {
        CONF_DOMAIN: TENANT,
        CONF_AUTH_TYPE: AUTH_PRIVATE_KEY,
        CONF_PRIVATE_KEY: api_keys.private_pem.decode(),
        CONF_CALLBACK_PUBLIC_KEY: callback_keys.public_pem.decode(),
        CONF_API_BASE_URL: api_base_url,
        CONF_WEBHOOK_ID: WEBHOOK_ID,
    }


@pytest.fixture
def mock_config_entry(
    api_keys: KeyPair,
    callback_keys: KeyPair,
    emulator: Emulator,
    callback_signing: bool,
) -> MockConfigEntry:
    """Return a config entry for the emulator's tenant, with media on loopback."""
    data = entry_data(api_keys, callback_keys, emulator.base_url)
    if not callback_signing:
        del data[CONF_CALLBACK_PUBLIC_KEY]
    return MockConfigEntry(
        domain=DOMAIN,
        title=TENANT,
        unique_id=TENANT,
        data=data,
        options={
            CONF_MEDIA_ADDRESS: "127.0.0.1",
            CONF_RTP_PORT_MIN: 41000,
            CONF_RTP_PORT_MAX: 41999,
            CONF_ASSIST: True,
        },
    )


@pytest.fixture
async def init_integration(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> MockConfigEntry:
    """Set up the integration with the test entry."""
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    return mock_config_entry


@pytest.fixture
async def doorstep(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> tuple[RecordingEars, Doorkeeper]:
    """Return the test STT and agent, in the preferred pipeline of the loaded entry."""
    return await async_setup_doorstep_pipeline(hass)


@pytest.fixture
def entity_registry_enabled_by_default() -> Iterator[None]:
    """Enable the entities that are disabled by default (as core's fixture does)."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


def sign(private_pem: bytes, *, lifetime: int = 60, **claims: Any) -> str:
    """Return an Authorization value the way the platform signs callbacks."""
    now = int(time.time())
    return "Bearer " + jwt.encode(
        {"iat": now, "exp": now + lifetime, **claims}, private_pem, "RS256"
    )


@pytest.fixture
async def post(
    init_integration: MockConfigEntry, ha_base_url: str, callback_keys: KeyPair
) -> AsyncIterator[Any]:
    """Return a function that POSTs a callback over HTTP and gives (status, body)."""
    session = aiohttp.ClientSession()

    async def send(
        name: str,
        body: bytes | dict[str, Any] | list[Any],
        *,
        authorization: str | None = "sign",
        webhook_id: str = WEBHOOK_ID,
    ) -> tuple[int, bytes]:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if authorization == "sign":
            authorization = sign(
                callback_keys.private_pem, jti=str(time.monotonic_ns())
            )
        if authorization is not None:
            headers["Authorization"] = authorization
        async with session.post(
            f"{ha_base_url}/api/cloud_sip_ua/{webhook_id}/{name}",
            data=raw,
            headers=headers,
        ) as resp:
            return resp.status, await resp.read()

    yield send
    await session.close()
