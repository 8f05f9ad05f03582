"""The emulator's HTTP application: vendor API, control API and the demo page."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from .api import add_api_routes
from .control import control_app

if TYPE_CHECKING:
    from .core import EmulatorCore

PAGE_PATH = Path(__file__).with_name("page.html")


async def _page(request: web.Request) -> web.Response:
    """Serve the single-file demo page."""
    return web.Response(
        body=PAGE_PATH.read_bytes(),
        content_type="text/html",
        charset="utf-8",
        headers={"Cache-Control": "no-store"},
    )


def build_app(emulator: EmulatorCore) -> web.Application:
    """Return the application serving everything on one port."""
    app = web.Application()
    add_api_routes(app, emulator)
    app.add_subapp("/control/", control_app(emulator))
    app.router.add_get("/", _page)
    return app
