"""The HTTP endpoint the cloud posts its callbacks to: /api/cloud_sip_ua/<webhook id>/<callbackName>."""

from __future__ import annotations

from dataclasses import dataclass
from hashlib import sha256
import time
from typing import TYPE_CHECKING

from aiohttp import web

from homeassistant.core import HomeAssistant
from homeassistant.helpers.http import HomeAssistantView
from homeassistant.util.hass_dict import HassKey

from .cloudsipua.callback_auth import CallbackVerifier
from .cloudsipua.callbacks import CallbackName, parse_callback_bytes
from .cloudsipua.exceptions import CallbackAuthenticationError, CallbackParseError
from .const import CALLBACK_PATH, DOMAIN, MAX_CALLBACK_BODY
from .throttle import SourceThrottle

if TYPE_CHECKING:
    from .data import CloudSipUaData

CALLBACK_NAMES = frozenset(name.value for name in CallbackName)
# Generous for a doorbell, tight enough that a flood is cut off within a second.
THROTTLE_RATE = 20.0
THROTTLE_BURST = 40.0
# A signed callback token is accepted once; remembered this long (beyond any sane token lifetime).
REPLAY_WINDOW = 600.0

DATA_ROUTER: HassKey[CallbackRouter] = HassKey(f"{DOMAIN}_callback_router")


@dataclass(slots=True)
class _Route:
    """One entry's receiver."""

    data: CloudSipUaData
    seen_tokens: dict[str, float]


class CallbackRouter:
    """Map webhook ids to the entries that own them; the view is registered once per instance."""

    def __init__(self) -> None:
        """Start with no entries."""
        self.routes: dict[str, _Route] = {}
        self.throttle = SourceThrottle(THROTTLE_RATE, THROTTLE_BURST)

    def register(self, webhook_id: str, data: CloudSipUaData) -> None:
        """Deliver the webhook id's callbacks to an entry."""
        self.routes[webhook_id] = _Route(data, {})

    def unregister(self, webhook_id: str) -> None:
        """Stop delivering the webhook id's callbacks."""
        self.routes.pop(webhook_id, None)


def async_get_router(hass: HomeAssistant) -> CallbackRouter:
    """Return the router, registering the view the first time (before the HTTP server starts)."""
    if (router := hass.data.get(DATA_ROUTER)) is None:
        router = hass.data[DATA_ROUTER] = CallbackRouter()
        hass.http.register_view(CallbackView(router))
    return router


class CallbackView(HomeAssistantView):
    """Receive Cloud SIP UA callbacks; the unguessable webhook id and the signature protect it."""

    url = CALLBACK_PATH + "/{callback_name}"
    name = f"api:{DOMAIN}:callback"
    requires_auth = False

    def __init__(self, router: CallbackRouter) -> None:
        """Serve the router's entries."""
        self._router = router

    async def post(
        self, request: web.Request, webhook_id: str, callback_name: str
    ) -> web.Response:
        """Check, parse and apply one callback."""
        route = self._router.routes.get(webhook_id)
        if route is None or callback_name not in CALLBACK_NAMES:
            # No detail: an unknown id must look the same as an unknown path.
            return web.Response(status=404)
        rejections = route.data.rejections
        if not self._router.throttle.allow(request.remote or "unknown"):
            rejections.record("throttled", request.remote or "")
            return web.Response(status=429)
        if (request.content_length or 0) > MAX_CALLBACK_BODY:
            rejections.record("too_large")
            return web.Response(status=413)
        body = await request.content.read(MAX_CALLBACK_BODY + 1)
        if len(body) > MAX_CALLBACK_BODY:
            rejections.record("too_large")
            return web.Response(status=413)
        verifier: CallbackVerifier = route.data.verifier
        try:
            verifier.verify(request.headers, body)
        except CallbackAuthenticationError:
            rejections.record("bad_signature", callback_name)
            return web.Response(status=401)
        if verifier.enabled and _is_replay(
            route, request.headers.get("Authorization", "")
        ):
            rejections.record("replay", callback_name)
            return web.json_response({"error": "replayed"}, status=409)
        try:
            callback = parse_callback_bytes(callback_name, body)
        except CallbackParseError as err:
            rejections.record("invalid_body", f"{callback_name}: {err}")
            return web.json_response(
                {"error": "invalid_callback", "field": err.field}, status=400
            )
        answer = await route.data.manager.handle_callback(callback)
        return web.json_response(answer.to_json() if answer else {})


def _is_replay(route: _Route, authorization: str) -> bool:
    """Return True if this exact signed token was accepted before."""
    now = time.monotonic()
    seen = route.seen_tokens
    for digest, stamp in list(seen.items()):
        if now - stamp > REPLAY_WINDOW:
            del seen[digest]
    digest = sha256(authorization.encode()).hexdigest()
    if digest in seen:
        return True
    seen[digest] = now
    return False
