"""The emulator served over HTTP: the vendor API, the control API and the demo page on one port."""

from __future__ import annotations

import logging

from aiohttp import web

from .app import build_app
from .config import EmulatorConfig
from .core import EmulatorCore
from .timers import Timers

_LOGGER = logging.getLogger(__name__)


class Emulator(EmulatorCore):
    """An emulator that serves its own web application while it runs (tests, the CLI)."""

    def __init__(self, config: EmulatorConfig, *, clock: Timers | None = None) -> None:
        """Prepare; nothing listens until start()."""
        super().__init__(config, clock=clock)
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Start serving the API, the control API and the web page on the configured port."""
        await super().start()
        runner = self._runner = web.AppRunner(build_app(self), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.config.host, self.config.port)
        try:
            await site.start()
        except OSError:
            await self.stop()
            raise
        host, port = runner.addresses[0][:2]
        self._base_url = f"http://{host}:{port}"
        _LOGGER.info("Cloud SIP UA emulator serving on %s", self._base_url)

    async def stop(self) -> None:
        """End every call without callbacks, stop serving and close the HTTP client."""
        await self._end_calls()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await super().stop()
