"""Keys, tokens and a callback receiver for the emulator tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cache
import hashlib
import json
import time
from typing import Any

from aiohttp import web
import jwt

from custom_components.cloud_sip_ua.cloudsipua.media import DtmfEvent, MediaSession
from custom_components.cloud_sip_ua.cloudsipua.media.clock import ManualClock
from custom_components.cloud_sip_ua.cloudsipua.models import Codec
from emulator.keys import generate_private_key_pem, public_key_pem
from emulator.openapi import schema_validator, webhook_schema_name

API_BASE_PATH = "/mediaservice/{domain}/{operation}"


@dataclass(frozen=True)
class KeyPair:
    """A PEM private key and its public half."""

    private: bytes
    public: bytes


@cache
def key_pair(name: str) -> KeyPair:
    """Return a key pair made once per test run for this name."""
    private = generate_private_key_pem()
    return KeyPair(private, public_key_pem(private))


def api_token(
    private_pem: bytes | None = None,
    *,
    lifetime: float = 300.0,
    algorithm: str = "RS256",
) -> str:
    """Return an API bearer JWT (signed with the API key pair unless another key is given)."""
    now = int(time.time())
    key: Any = private_pem if private_pem is not None else key_pair("api").private
    return jwt.encode(
        {"iss": "tests", "sub": "device", "iat": now, "exp": now + int(lifetime)},
        key,
        algorithm=algorithm,
    )


def verify_callback(authorization: str, body: bytes) -> dict[str, Any]:
    """Verify a callback's bearer JWT with the callback-signing public key; return its claims."""
    scheme, _, token = authorization.partition(" ")
    assert scheme == "Bearer"
    claims: dict[str, Any] = jwt.decode(
        token,
        key_pair("callback").public,
        algorithms=["RS256"],
        options={"require": ["exp", "iat", "iss"]},
    )
    assert claims["iss"] == "cloud-sip-ua-emulator"
    assert claims["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert 0 < claims["exp"] - claims["iat"] <= 120
    return claims


@dataclass
class Received:
    """One callback as the receiver got it."""

    name: str
    authorization: str
    raw: bytes
    body: dict[str, Any]


type Hook = Callable[[Received], Awaitable[web.StreamResponse | None]]


@dataclass
class CallbackReceiver:
    """A real HTTP server on loopback that receives callbacks and answers as told."""

    received: list[Received] = field(default_factory=list)
    # Statuses to answer with, consumed per callback name; 200 when empty.
    statuses: dict[str, list[int]] = field(default_factory=dict)
    # JSON to answer with, per callback name.
    replies: dict[str, dict[str, Any]] = field(default_factory=dict)
    hook: Hook | None = None
    url: str = ""
    _runner: web.AppRunner | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> None:
        """Listen on an ephemeral loopback port."""
        app = web.Application()
        app.router.add_post("/callbacks/{name}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/callbacks"

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()

    def named(self, name: str) -> list[Received]:
        """Return the callbacks of this name received so far."""
        return [r for r in self.received if r.name == name]

    async def wait_for(
        self, name: str, count: int = 1, timeout: float = 5.0
    ) -> Received:
        """Wait for the count-th callback of this name and return it."""
        async with asyncio.timeout(timeout):
            while len(self.named(name)) < count:
                await self._changed.wait()
        return self.named(name)[count - 1]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        """Record the callback, then answer with the planned status and body."""
        name = request.match_info["name"]
        raw = await request.read()
        record = Received(
            name, request.headers.get("Authorization", ""), raw, json.loads(raw)
        )
        self.received.append(record)
        self._changed.set()
        self._changed = asyncio.Event()
        if self.hook is not None and (response := await self.hook(record)) is not None:
            return response
        planned = self.statuses.get(name)
        status = planned.pop(0) if planned else 200
        return web.json_response(self.replies.get(name, {}), status=status)


def check_callback(received: Received, *, documented: bool = True) -> dict[str, Any]:
    """Verify a callback's signature and (unless quirky) its body against the document."""
    verify_callback(received.authorization, received.raw)
    body = dict(received.body)
    if documented:
        # The document types callAnswered.sessionReferenceId as an object (a vendor quirk);
        # the emulator sends the string the API caller set.
        if received.name == "callAnswered":
            body.pop("sessionReferenceId", None)
        errors = list(
            schema_validator(webhook_schema_name(received.name)).iter_errors(body)
        )
        assert not errors, [e.message for e in errors]
    return received.body


class Device(MediaSession):
    """The device's media endpoint: the library's media session, keeping the DTMF it hears."""

    def __init__(self) -> None:
        """Bind on loopback, PCMA until told otherwise."""
        self.dtmf: list[str] = []
        super().__init__(
            codec=Codec.PCMA,
            bind_host="127.0.0.1",
            port_range=(45000, 47999),
            inactivity_timeout=None,
            on_dtmf=self._heard,
        )

    def _heard(self, event: DtmfEvent) -> None:
        """Keep a digit."""
        self.dtmf.append(event.digit)


async def advance(clock: ManualClock, seconds: float) -> None:
    """Move the emulator's virtual time; let what fell due run (a few turns of the loop)."""
    clock.advance(seconds)
    for _ in range(4):
        await asyncio.sleep(0)


async def record(session: MediaSession, seconds: float) -> bytes:
    """Return what a media session hears in the next `seconds`."""
    subscription = session.subscribe(8000)
    pcm = bytearray()
    try:
        async with asyncio.timeout(seconds * 3):
            async for frame in subscription:
                pcm += frame
                if len(pcm) >= seconds * 16000:
                    break
    finally:
        subscription.close()
    return bytes(pcm)
