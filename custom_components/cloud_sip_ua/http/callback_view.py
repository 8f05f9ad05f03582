"""The HTTP endpoint the cloud posts its callbacks to: /api/cloud_sip_ua/<webhook id>/<callbackName>."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from hashlib import sha256
import logging
import time
from typing import Any

from aiohttp import web

from homeassistant.core import HomeAssistant
from homeassistant.helpers.http import HomeAssistantView
from homeassistant.util.hass_dict import HassKey

from ..cloudsipua.callback_auth import CallbackVerifier
from ..cloudsipua.callbacks import CallbackName, parse_callback_bytes
from ..cloudsipua.exceptions import (
    CallbackAuthenticationError,
    CallbackParseError,
    CallbackRefusedError,
)
from ..cloudsipua.rate_limit import SourceThrottle
from ..const import CALLBACK_PATH, DOMAIN, MAX_CALLBACK_BODY
from ..data import CloudSipUaData

CALLBACK_NAMES = frozenset(name.value for name in CallbackName)
# Generous for a doorbell, tight enough that a flood is cut off within a second.
THROTTLE_RATE = 20.0
THROTTLE_BURST = 40.0
# Callbacks answered, remembered this long (beyond the longest signed token's lifetime) so that
# a redelivery gets the first answer again; a signed token with another body is refused.
REPLAY_WINDOW = 900.0
MAX_REMEMBERED = 1024
# How a refused callback is answered: the reason is a stable key, never a detail of ours.
REFUSAL_STATUS = {"untrusted_site": 403, "not_answered": 409}

_LOGGER = logging.getLogger(__name__)

DATA_ROUTER: HassKey[CallbackRouter] = HassKey(f"{DOMAIN}_callback_router")


@dataclass(frozen=True, slots=True)
class _Answer:
    """What a callback was answered with, kept to answer a redelivery the same way."""

    status: int
    body: dict[str, Any]
    stamp: float


@dataclass(slots=True)
class _Route:
    """One entry's receiver, with the answers it gave recently."""

    data: CloudSipUaData
    # (callback name, token digest, body digest) -> answer
    answers: OrderedDict[tuple[str, str, str], _Answer] = field(
        default_factory=OrderedDict
    )
    # token digest -> body digest: a signed token is good for one body only
    token_bodies: OrderedDict[str, str] = field(default_factory=OrderedDict)


class CallbackRouter:
    """Map webhook ids to the entries that own them; the view is registered once per instance."""

    def __init__(self) -> None:
        """Start with no entries."""
        self.routes: dict[str, _Route] = {}
        self.throttle = SourceThrottle(THROTTLE_RATE, THROTTLE_BURST)

    def register(self, webhook_id: str, data: CloudSipUaData) -> None:
        """Deliver the webhook id's callbacks to an entry."""
        self.routes[webhook_id] = _Route(data)

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
        # A body that ends short of its Content-Length never gets here: aiohttp drops it.
        body = await _read_body(request)
        if body is None:
            rejections.record("too_large")
            return web.Response(status=413)
        verifier: CallbackVerifier = route.data.verifier
        try:
            verifier.verify(request.headers, body)
        except CallbackAuthenticationError:
            rejections.record("bad_signature", callback_name)
            return web.Response(status=401)
        token = (
            sha256(request.headers.get("Authorization", "").encode()).hexdigest()
            if verifier.enabled
            else ""
        )
        key = (callback_name, token, sha256(body).hexdigest())
        now = time.monotonic()
        _forget_old(route, now)
        if (earlier := route.answers.get(key)) is not None:
            # The platform sent it again (a lost response?): same answer, nothing changes.
            route.data.manager.counters["callbacks_redelivered"] += 1
            return web.json_response(earlier.body, status=earlier.status)
        if token and route.token_bodies.setdefault(token, key[2]) != key[2]:
            rejections.record("replay", callback_name)
            return web.json_response({"error": "replayed"}, status=409)
        status, answer = await self._apply(route, callback_name, body)
        route.answers[key] = _Answer(status, answer, now)
        _forget_old(route, now)
        return web.json_response(answer, status=status)

    async def _apply(
        self, route: _Route, callback_name: str, body: bytes
    ) -> tuple[int, dict[str, Any]]:
        """Parse and apply a callback; return the status and body to answer with."""
        rejections = route.data.rejections
        try:
            callback = parse_callback_bytes(callback_name, body)
        except CallbackParseError as err:
            rejections.record("invalid_body", f"{callback_name}: {err}")
            return 400, {"error": "invalid_callback", "field": err.field}
        try:
            answer = await route.data.manager.handle_callback(callback)
        except CallbackRefusedError as err:
            rejections.record(err.reason, callback_name)
            return REFUSAL_STATUS.get(err.reason, 409), {"error": err.reason}
        except Exception:
            # Never a 500 for the platform to retry: the call manager already ended the call
            # it could not apply this to; this is a last line for anything it did not foresee.
            _LOGGER.exception("Applying %s failed", callback_name)
            rejections.record("failed_to_apply", callback_name)
            return 422, {"error": "failed_to_apply"}
        return 200, answer.to_json() if answer else {}


async def _read_body(request: web.Request) -> bytes | None:
    """Read the whole body, however it is chunked; None past MAX_CALLBACK_BODY."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(MAX_CALLBACK_BODY + 1 - size):
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_CALLBACK_BODY:
            return None
    return b"".join(chunks)


def _forget_old(route: _Route, now: float) -> None:
    """Drop remembered answers past the replay window or beyond the bound (oldest first)."""
    answers = route.answers
    while answers and (
        len(answers) > MAX_REMEMBERED
        or now - next(iter(answers.values())).stamp > REPLAY_WINDOW
    ):
        answers.popitem(last=False)
    while len(route.token_bodies) > MAX_REMEMBERED:
        route.token_bodies.popitem(last=False)
