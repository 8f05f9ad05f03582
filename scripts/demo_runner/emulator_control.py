"""The emulator's control API (/control/...), as far as the demo uses it."""

from __future__ import annotations

from typing import Any

import aiohttp

from .http_json import DemoError, request_json, wait_for


class EmulatorControl:
    """A client of one running emulator."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        """Talk to the emulator at base_url, e.g. `http://127.0.0.1:8765`."""
        self.session = session
        self.base_url = base_url

    async def info(self) -> dict[str, Any]:
        """Return the tenant, URLs and callback-signing key."""
        info: dict[str, Any] = await request_json(
            self.session, "GET", f"{self.base_url}/control/info"
        )
        return info

    async def wait_until_serving(self, timeout: float) -> dict[str, Any]:
        """Wait until the emulator answers; return its info."""
        info: dict[str, Any] = await wait_for(
            "the emulator", self.info, timeout, interval=0.1
        )
        return info

    async def ring(self, **body: Any) -> dict[str, Any]:
        """Ring the doorbell; return the new call."""
        call: dict[str, Any] = await request_json(
            self.session, "POST", f"{self.base_url}/control/ring", json=body
        )
        return call

    async def call(self, call_id: str) -> dict[str, Any]:
        """Return one call as the emulator sees it."""
        call: dict[str, Any] = await request_json(
            self.session, "GET", f"{self.base_url}/control/calls/{call_id}"
        )
        return call

    async def recording(self, call_id: str) -> bytes:
        """Return what the remote party heard so far, as WAV."""
        url = f"{self.base_url}/control/calls/{call_id}/recording.wav"
        try:
            async with self.session.get(url) as response:
                if response.status != 200:
                    raise DemoError(f"GET {url} answered {response.status}")
                return await response.read()
        except aiohttp.ClientError as err:
            raise DemoError(f"GET {url} failed: {err}") from err
