"""10,000 hostile callback requests over real HTTP: no 5xx, no traceback, flat memory."""

from __future__ import annotations

from collections import Counter
import contextlib
import json
import logging
import random
import tracemalloc
from typing import Any

import aiohttp
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.cloud_sip_ua.cloudsipua.exceptions import CloudSipUaError
from custom_components.cloud_sip_ua.cloudsipua.rate_limit import SourceThrottle
from custom_components.cloud_sip_ua.http.callback_view import DATA_ROUTER
from homeassistant.core import HomeAssistant

from .conftest import WEBHOOK_ID

REQUESTS = 10_000
NAMES = ["newRemoteCall", "callAnswered", "callFailed", "callHungup", "callNotify"]
FIELDS = [
    "replyId",
    "sessionReferenceId",
    "callId",
    "sipCallId",
    "traceId",
    "connectionId",
    "sessionId",
    "remoteRtpIp",
    "remoteRtpPort",
    "codec",
    "crypto",
    "telephoneEventPayloadType",
    "sourceUser",
    "destinationUri",
    "siteBaseUrl",
    "sipStatus",
    "event",
]


@pytest.fixture
def callback_signing() -> bool:
    """Unsigned: every forged body reaches the parser and the call manager."""
    return False


def _value(rng: random.Random, depth: int = 0) -> Any:
    """Return a random JSON value, hostile more often than not."""
    choice = rng.randrange(12)
    if choice == 0:
        return rng.randrange(-(2**70), 2**70)
    if choice == 1:
        return rng.random() * 10.0 ** rng.randrange(-5, 300)
    if choice == 2:
        return "".join(
            chr(rng.randrange(0x0, 0x2FFF)) for _ in range(rng.randrange(40))
        )
    if choice == 3:
        return "x" * rng.randrange(5000)
    if choice == 4 and depth < 4:
        return [_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if choice == 5 and depth < 4:
        return {
            rng.choice(FIELDS): _value(rng, depth + 1) for _ in range(rng.randrange(4))
        }
    if choice == 6:
        return rng.choice([None, True, False, {}, [], ""])
    if choice == 7:
        return rng.choice(["127.0.0.1", "10.0.0.2", "224.0.0.1", "::1", "0.0.0.0"])
    if choice == 8:
        return rng.choice(
            ["https://127.0.0.2:1", "http://attacker.test", "ftp://x", "//x"]
        )
    if choice == 9:
        return rng.choice(["PCMA", "GSM", "opus", "ringing", "reInvite"])
    return rng.randrange(0, 70000)


def _body(rng: random.Random) -> bytes:
    """Return a random callback body: mostly JSON objects, sometimes garbage."""
    kind = rng.randrange(10)
    if kind == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(200)))
    if kind == 1:
        return b"[" * rng.randrange(1, 5000)
    if kind == 2:
        return json.dumps(_value(rng)).encode()
    body = {rng.choice(FIELDS): _value(rng) for _ in range(rng.randrange(1, 10))}
    return json.dumps(body).encode()


async def test_ten_thousand_hostile_callbacks(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    ha_base_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Random bodies, names and ids: every answer is a 2xx or a precise 4xx; memory stays flat."""
    router = hass.data[DATA_ROUTER]
    # All requests come from 127.0.0.1: let them through the per-source throttle to reach
    # the parser and the call manager (the throttle has its own tests).
    router.throttle = SourceThrottle(rate=1e9, burst=1e9)
    rng = random.Random(20261130)
    statuses: Counter[int] = Counter()
    manager = init_integration.runtime_data.manager
    caplog.set_level(logging.WARNING)

    async def end_calls() -> None:
        for call in list(manager.calls):
            # The cloud refuses the forged replyIds; the call ends here either way.
            with contextlib.suppress(CloudSipUaError):
                await manager.hang_up(call.call_id)

    async with aiohttp.ClientSession() as session:

        async def send(index: int) -> None:
            name = rng.choice(NAMES) if rng.random() < 0.95 else "evil"
            webhook = WEBHOOK_ID if rng.random() < 0.97 else "b2" * 32
            body = _body(rng)
            async with session.post(
                f"{ha_base_url}/api/cloud_sip_ua/{webhook}/{name}",
                data=body,
                headers={"Content-Type": "application/json"},
            ) as resp:
                statuses[resp.status] += 1
                await resp.read()
            if index % 200 == 0:
                # Ringing calls from accepted forgeries end, as they would by timeout.
                await end_calls()

        for index in range(2000):
            await send(index)
        tracemalloc.start()
        baseline, _ = tracemalloc.get_traced_memory()
        for index in range(2000, 6000):
            await send(index)
        await end_calls()
        middle, _ = tracemalloc.get_traced_memory()
        for index in range(6000, REQUESTS):
            await send(index)
        await end_calls()
        current, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    grown = (current - baseline) / 1024
    late = (current - middle) / 1024
    summary = (
        f"{REQUESTS} requests: {dict(sorted(statuses.items()))}; memory "
        f"+{grown:.0f} KiB over requests 2,000-10,000, +{late:.0f} KiB over 6,000-10,000"
    )
    print(summary)  # noqa: T201
    assert sum(statuses.values()) == REQUESTS
    assert not [status for status in statuses if status >= 500]
    assert statuses[200] > 0
    assert statuses[400] > 0
    assert statuses[404] > 0
    ours = [
        r
        for r in caplog.records
        if r.name.startswith("custom_components.cloud_sip_ua") and r.exc_info
    ]
    assert ours == []
    # Bounded tables: the answers remembered for redeliveries and the call history.
    # The tables are bounded: once filled (answers kept for redeliveries, the call history),
    # another 4,000 requests add next to nothing of ours. What still grows is the test
    # harness: its storage mock records every save (about 40 KiB per 4,000 requests here).
    assert grown < 4096
    assert late < 512
    assert len(manager.calls) == 0
