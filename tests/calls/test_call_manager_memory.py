"""10,000 calls through the call manager: every table it keeps stays bounded."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import aiohttp

from custom_components.cloud_sip_ua.cloudsipua.call_index import IdKind
from custom_components.cloud_sip_ua.cloudsipua.call_manager import (
    ENDED_CALL_HISTORY,
    CallManager,
    CallSettings,
)
from custom_components.cloud_sip_ua.cloudsipua.callbacks import parse_callback
from custom_components.cloud_sip_ua.cloudsipua.calls import CallState
from custom_components.cloud_sip_ua.cloudsipua.client import CloudSipUaClient
from custom_components.cloud_sip_ua.cloudsipua.credentials import StaticTokenProvider
from tests.integration.conftest import TENANT

CALLS = 10_000


class _CountingClient(CloudSipUaClient):
    """The real client with the HTTP exchange replaced by a counter (10,000 calls stay fast)."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        super().__init__(session, TENANT, StaticTokenProvider("token"))
        self.sent: Counter[str] = Counter()

    async def _post(
        self, operation: str, body: dict[str, Any], site_base_url: str | None
    ) -> None:
        self.operation_url(operation, site_base_url)
        self.sent[operation] += 1


class _Media:
    """A media session that binds nothing (the sockets are not what this test measures)."""

    local_port = 40000
    last_packet_at = 0.0

    def __init__(self, **_: Any) -> None:
        """Accept the manager's arguments."""

    async def start(self) -> None:
        """Nothing to bind."""

    async def close(self) -> None:
        """Nothing to release."""

    def set_remote(self, host: str, port: int) -> None:
        """Accept the remote address."""

    def set_codec(self, codec: Any) -> None:
        """Accept the codec."""


async def test_ten_thousand_calls_leave_bounded_tables() -> None:
    """Ring, answer, connect (with the vendor's `{}` reference) and end 10,000 calls."""
    async with aiohttp.ClientSession() as session:
        client = _CountingClient(session)
        manager = CallManager(
            client,
            CallSettings(media_address="127.0.0.1", callback_base_url="http://x/cb"),
            media_factory=_Media,
        )
        peak: Counter[str] = Counter()
        for index in range(CALLS):
            # The SIP Call-ID repeats every 100 calls: a reused id is a new call.
            answer = await manager.handle_callback(
                parse_callback(
                    "newRemoteCall",
                    {
                        "replyId": f"ring-{index}",
                        "callId": f"sip-{index % 100}",
                        "traceId": f"trace-{index}",
                        "remoteRtpIp": "127.0.0.1",
                        "remoteRtpPort": 40002,
                    },
                )
            )
            assert answer is not None
            call = await manager.answer()
            assert call.call_id == answer.session_reference_id
            await manager.handle_callback(
                parse_callback(
                    "callAnswered",
                    {"replyId": f"up-{index}", "sessionReferenceId": {}},
                )
            )
            assert call.state is CallState.CONNECTED
            for name, size in manager.sizes().items():
                peak[name] = max(peak[name], size)
            if index % 2:
                await manager.hang_up()
            else:
                await manager.handle_callback(
                    parse_callback(
                        "callHungup",
                        {"callId": f"sip-{index % 100}", "sessionReferenceId": 20000},
                    )
                )
            await asyncio.sleep(0)
            for name, size in manager.sizes().items():
                peak[name] = max(peak[name], size)
        await manager.close()
        sizes = manager.sizes()
        print(f"after {CALLS} calls: {sizes}; peak: {dict(peak)}")  # noqa: T201
        assert client.sent["answerremotecalljwt"] == CALLS
        # Every call ended with a hang-up at the cloud, remote hang-ups included.
        assert client.sent["hangupcalljwt"] == CALLS
        assert sizes["calls"] == sizes["live_ids"] == sizes["live_calls"] == 0
        assert sizes["timers"] == sizes["tasks"] == sizes["unacknowledged_hangups"] == 0
        assert sizes["history"] == 10
        assert sizes["recent_ids"] <= ENDED_CALL_HISTORY * len(IdKind)
        assert peak["calls"] == 1
        assert 3 <= peak["live_ids"] <= len(IdKind)
        assert sizes["logged_reasons"] < 10
        assert manager.counters["callbacks_duplicate"] == 0
