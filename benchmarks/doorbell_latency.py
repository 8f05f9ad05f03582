"""From a `newRemoteCall` POST arriving to the doorbell event firing, against a bare view baseline.

Run: `.venv/bin/python -m pytest benchmarks/doorbell_latency.py -q -s -p no:cacheprovider`
Both paths cross the same real HTTP stack into Home Assistant in the same process, alternating;
the ratio shows what our parsing, signature check, call manager and entity update add.
"""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

import aiohttp
from aiohttp import web
import jwt
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.cloud_sip_ua.cloudsipua.calls import CallEventType, EndReason
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers.http import HomeAssistantView
from homeassistant.setup import async_setup_component
from tests.integration.conftest import WEBHOOK_ID
from tests.integration.helpers import entity_id
from tests.library.conftest import KeyPair

ROUNDS = 200


class _Baseline(HomeAssistantView):
    """A view that answers at once: the cost of the HTTP path alone."""

    url = "/api/cloud_sip_ua_bench"
    name = "api:cloud_sip_ua_bench"
    requires_auth = False

    async def post(self, request: web.Request) -> web.Response:
        """Read the body and answer like a callback would."""
        await request.read()
        return web.json_response({})


@pytest.fixture
async def baseline_view(hass: HomeAssistant) -> None:
    """Register the baseline view before the HTTP server starts (it freezes its routes)."""
    assert await async_setup_component(hass, "http", {})
    hass.http.register_view(_Baseline())


async def test_doorbell_latency(
    hass: HomeAssistant,
    baseline_view: None,
    init_integration: MockConfigEntry,
    ha_base_url: str,
    callback_keys: KeyPair,
) -> None:
    """Print median and p95 of newRemoteCall -> doorbell event, and of the baseline round trip."""
    doorbell = entity_id(hass, "event", "doorbell")
    fired_at: list[float] = []

    def on_change(event: Event[Any]) -> None:
        if event.data["entity_id"] == doorbell:
            fired_at.append(time.perf_counter())

    hass.bus.async_listen("state_changed", on_change)
    manager = init_integration.runtime_data.manager
    callback_url = f"{ha_base_url}/api/cloud_sip_ua/{WEBHOOK_ID}/newRemoteCall"
    doorbell_ms: list[float] = []
    baseline_ms: list[float] = []
    async with aiohttp.ClientSession() as session:
        for index in range(ROUNDS):
            body = json.dumps(
                {
                    "replyId": f"r{index}",
                    "callId": f"c{index}",
                    "sourceUser": "1234567",
                    "codec": "PCMA",
                    "remoteRtpIp": "127.0.0.1",
                    "remoteRtpPort": 40002,
                }
            ).encode()
            now = int(time.time())
            token = jwt.encode(
                {"iat": now, "exp": now + 60, "jti": str(index)},
                callback_keys.private_pem,
                "RS256",
            )
            headers = {
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
            }
            start = time.perf_counter()
            async with session.post(
                f"{ha_base_url}/api/cloud_sip_ua_bench", data=body, headers=headers
            ) as resp:
                await resp.read()
            baseline_ms.append((time.perf_counter() - start) * 1000)
            fired_at.clear()
            start = time.perf_counter()
            async with session.post(callback_url, data=body, headers=headers) as resp:
                assert resp.status == 200
                await resp.read()
            await hass.async_block_till_done()
            assert fired_at, "the doorbell did not fire"
            doorbell_ms.append((fired_at[0] - start) * 1000)
            # Forget the call without API traffic so every round rings afresh.
            for call in manager.calls:
                await manager._finish(call, EndReason.SHUTDOWN, CallEventType.HUNG_UP)  # noqa: SLF001
    report(doorbell_ms, baseline_ms)


def report(doorbell_ms: list[float], baseline_ms: list[float]) -> None:
    """Print the figures."""

    def p95(values: list[float]) -> float:
        return sorted(values)[int(len(values) * 0.95)]

    median_doorbell = statistics.median(doorbell_ms)
    median_baseline = statistics.median(baseline_ms)
    print()
    print(f"rounds: {len(doorbell_ms)}")
    print(
        f"newRemoteCall -> doorbell event: median {median_doorbell:.2f} ms, p95 {p95(doorbell_ms):.2f} ms"
    )
    print(
        f"baseline HTTP round trip:        median {median_baseline:.2f} ms, p95 {p95(baseline_ms):.2f} ms"
    )
    print(f"ratio (median): {median_doorbell / median_baseline:.2f}x")
