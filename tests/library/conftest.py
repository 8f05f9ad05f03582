"""Keys, a recording API server and an HTTP session for the library tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
import datetime as dt
import json
from typing import Any

from aiohttp import ClientSession, web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
import jwt
import pytest

DOMAIN = "customer47.prod-eu-north-1.iotcomms.io"


@dataclass(frozen=True)
class KeyPair:
    """PEM texts of one key pair."""

    private_pem: bytes
    public_pem: bytes


def _pems(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> KeyPair:
    """Return the PEM texts of a private key and its public key."""
    return KeyPair(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    )


def self_signed_certificate(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, common_name: str
) -> x509.Certificate:
    """Return a one-day self-signed certificate for the key."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )


@pytest.fixture(scope="session")
def rsa_keys() -> KeyPair:
    """Return an RSA 2048 key pair (made once: key generation is slow)."""
    return _pems(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="session")
def other_rsa_keys() -> KeyPair:
    """Return a second RSA 2048 key pair, for signatures made with the wrong key."""
    return _pems(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="session")
def ec_keys() -> KeyPair:
    """Return an EC P-256 key pair, which RS256 cannot use."""
    return _pems(ec.generate_private_key(ec.SECP256R1()))


@dataclass
class RecordedRequest:
    """What one request looked like when it arrived."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    claims: dict[str, Any] | None
    jwt_header: dict[str, Any] | None

    def json(self) -> Any:
        """Return the decoded body."""
        return json.loads(self.body)


@dataclass
class RecordingServer:
    """An aiohttp server on 127.0.0.1 that records requests and answers as told."""

    public_pem: bytes
    url: str = ""
    requests: list[RecordedRequest] = field(default_factory=list)
    status: int = 200
    body: bytes = b'{"success": true}'
    headers: dict[str, str] = field(default_factory=dict)
    hold: bool = False
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def answer(
        self, status: int = 200, body: bytes | Any = b'{"success": true}'
    ) -> None:
        """Set the answer for the next requests (non-bytes bodies are JSON-encoded)."""
        self.status = status
        self.body = body if isinstance(body, bytes) else json.dumps(body).encode()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Record the request, then answer as configured."""
        body = await request.read()
        claims = jwt_header = None
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme == "Bearer":
            try:
                claims = jwt.decode(
                    token,
                    self.public_pem,
                    algorithms=["RS256"],
                    options={"verify_aud": False},
                )
                jwt_header = jwt.get_unverified_header(token)
            except jwt.PyJWTError:
                claims = None
        self.requests.append(
            RecordedRequest(
                request.method,
                request.path,
                dict(request.headers),
                body,
                claims,
                jwt_header,
            )
        )
        if self.hold:
            await self.release.wait()
        return web.Response(status=self.status, body=self.body, headers=self.headers)


async def start_server(server: RecordingServer, port: int = 0) -> web.AppRunner:
    """Start the recording server on 127.0.0.1 and fill in its URL."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    server.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    return runner


@pytest.fixture
async def api_server(rsa_keys: KeyPair) -> AsyncIterator[RecordingServer]:
    """Run a recording API server for one test."""
    server = RecordingServer(rsa_keys.public_pem)
    runner = await start_server(server)
    yield server
    server.release.set()
    await runner.cleanup()


@pytest.fixture
async def site_server(rsa_keys: KeyPair) -> AsyncIterator[RecordingServer]:
    """Run a second recording server standing in for a hybrid site."""
    server = RecordingServer(rsa_keys.public_pem)
    runner = await start_server(server)
    yield server
    server.release.set()
    await runner.cleanup()


@pytest.fixture
async def http_session() -> AsyncIterator[ClientSession]:
    """Return an aiohttp client session closed after the test."""
    async with ClientSession() as session:
        yield session
