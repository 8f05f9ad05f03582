"""Fixtures for the emulator tests: keys, a callback receiver, a running emulator, a client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from custom_components.cloud_sip_ua.cloudsipua.media.clock import ManualClock
from emulator import Emulator, EmulatorConfig

from .helpers import CallbackReceiver, Device, api_token, key_pair

DOMAIN = "customer.prod-eu-north-1.iotcomms.io"

type ApiCall = Callable[..., Awaitable[tuple[int, dict[str, Any]]]]


def make_config(receiver_url: str | None, **overrides: Any) -> EmulatorConfig:
    """Return an emulator config for tests: loopback, ephemeral port, fast retries."""
    settings: dict[str, Any] = {
        "domain": DOMAIN,
        "host": "127.0.0.1",
        "port": 0,
        "api_public_key_pem": key_pair("api").public,
        "callback_signing_private_key_pem": key_pair("callback").private,
        "default_callback_base_url": receiver_url,
        "ring_timeout": 30.0,
        "media_port_range": (41000, 44999),
        "callback_backoff": 0.02,
        "callback_timeout": 2.0,
    }
    settings.update(overrides)
    return EmulatorConfig(**settings)


@pytest.fixture
async def receiver() -> AsyncIterator[CallbackReceiver]:
    """Return a running callback receiver."""
    receiver = CallbackReceiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    """Return settings a test module wants changed."""
    return {}


@pytest.fixture
def emulator_clock() -> ManualClock | None:
    """Return the virtual clock a test module wants the emulator's timers on (None: real time)."""
    return None


@pytest.fixture
async def emulator(
    receiver: CallbackReceiver,
    config_overrides: dict[str, Any],
    emulator_clock: ManualClock | None,
) -> AsyncIterator[Emulator]:
    """Return a running emulator whose tenant callbacks go to the receiver."""
    emulator = Emulator(
        make_config(receiver.url, **config_overrides), clock=emulator_clock
    )
    await emulator.start()
    yield emulator
    await emulator.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """Return an HTTP client session."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def api(emulator: Emulator, http: aiohttp.ClientSession) -> ApiCall:
    """Return a function that calls one vendor API operation and returns (status, JSON)."""

    async def call(
        operation: str,
        body: Any,
        *,
        token: str | None = None,
        authorization: str | None = None,
        domain: str = DOMAIN,
    ) -> tuple[int, dict[str, Any]]:
        # authorization="" sends no Authorization header at all.
        headers = (
            {}
            if authorization == ""
            else {"Authorization": authorization or f"Bearer {token or api_token()}"}
        )
        url = f"{emulator.base_url}/mediaservice/{domain}/{operation}"
        async with http.post(url, json=body, headers=headers) as response:
            assert response.headers["Access-Control-Allow-Origin"] == "*"
            return response.status, await response.json()

    return call


@pytest.fixture
async def device() -> AsyncIterator[Device]:
    """Return a started device endpoint."""
    session = Device()
    await session.start()
    yield session
    await session.close()
