"""HTTP handlers of the vendor API: `/mediaservice/{domain}/...jwt` and their CORS answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .auth import ApiAuthError
from .openapi import OPERATIONS, BodyError, validate_request
from .timers import sleep

if TYPE_CHECKING:
    from .core import EmulatorCore

_LOGGER = logging.getLogger(__name__)

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST,OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type,Authorization,X-Amz-Date,X-Api-Key",
}
_ALLOW_ORIGIN = {"Access-Control-Allow-Origin": "*"}

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(body: dict[str, Any], status: int = 200, **headers: str) -> web.Response:
    """Return a JSON answer carrying the CORS origin header like every vendor answer."""
    return web.json_response(body, status=status, headers={**_ALLOW_ORIGIN, **headers})


def _failure(status: int, reason: str, **extra: Any) -> web.Response:
    """Return a failure answer."""
    return _json({"success": False, "reason": reason, **extra}, status)


def _post_handler(emulator: EmulatorCore, operation: str) -> Handler:
    """Return the handler of one POST operation."""

    async def handle(request: web.Request) -> web.StreamResponse:
        """Check faults, domain, token and body, then let the emulator act."""
        emulator.api_requests[operation] += 1
        faults = emulator.faults
        if faults.api_delay > 0 and faults.api_matches(operation):
            await sleep(emulator.timers(), faults.api_delay)
        if (status := faults.take_api_error(operation)) is not None:
            return _failure(status, "injected fault")
        if request.match_info["domain"] != emulator.config.domain:
            return _failure(404, "unknown domain")
        try:
            emulator.verifier.verify(request.headers.get("Authorization"))
        except ApiAuthError as err:
            _LOGGER.info("Refused %s: %s", operation, err)
            return _json(
                {"success": False, "reason": str(err)},
                401,
                **{"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        try:
            body = validate_request(operation, await request.read())
        except BodyError as err:
            return _failure(400, f"invalid request: {err}", field=err.field)
        result = await emulator.api_request(operation, body)
        if not result["success"]:
            _LOGGER.info("Refused %s: %s", operation, result["reason"])
        return _json(result)

    return handle


async def _options(request: web.Request) -> web.StreamResponse:
    """Answer a CORS preflight the way the vendor's API gateway does: 200 with `{}`."""
    return web.json_response({}, headers=CORS_HEADERS)


def add_api_routes(app: web.Application, emulator: EmulatorCore) -> None:
    """Register the four operations and their OPTIONS answers."""
    for operation in OPERATIONS:
        path = f"/mediaservice/{{domain}}/{operation}"
        app.router.add_post(path, _post_handler(emulator, operation))
        app.router.add_options(path, _options)
