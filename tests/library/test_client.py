"""The REST client against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
from types import SimpleNamespace
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from custom_components.cloud_sip_ua.cloudsipua import (
    AnswerCallRequest,
    CloudSipUaAuthenticationError,
    CloudSipUaClient,
    CloudSipUaConnectionError,
    CloudSipUaRequestRefusedError,
    CloudSipUaResponseError,
    CloudSipUaTimeoutError,
    Codec,
    CryptoEntry,
    InvalidRequestError,
    PlaceCallRequest,
    PrivateKeyTokenProvider,
    StaticTokenProvider,
    api_base_url,
    validate_domain,
)
from custom_components.cloud_sip_ua.cloudsipua.client import (
    CREDENTIAL_CHECK_REPLY_ID,
    MAX_RESPONSE_BYTES,
    site_host_pattern,
)
from custom_components.cloud_sip_ua.cloudsipua.exceptions import (
    CloudSipUaNotTheApiError,
    UntrustedSiteError,
)

from .conftest import (
    DOMAIN,
    KeyPair,
    RecordingServer,
    self_signed_certificate,
    start_server,
)

REPLY_ID = "eyJhbGciOiJIUzI1NiJ9.secret-reply.sig"
CRYPTO = (CryptoEntry("AES_CM_128_HMAC_SHA1_80", 1, "inline:" + "A" * 40),)


def _client(
    session: aiohttp.ClientSession,
    base_url: str,
    keys: KeyPair,
    **kwargs: Any,
) -> tuple[CloudSipUaClient, PrivateKeyTokenProvider]:
    """Return a client that talks to base_url with freshly minted tokens."""
    provider = PrivateKeyTokenProvider(keys.private_pem, DOMAIN, key_id="key-1")
    return CloudSipUaClient(
        session, DOMAIN, provider, base_url=base_url, **kwargs
    ), provider


def _free_port() -> int:
    """Return a loopback port nothing listens on (connecting to it is refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _counting_session() -> tuple[aiohttp.ClientSession, SimpleNamespace]:
    """Return a session whose trace hooks count every request attempt."""
    counts = SimpleNamespace(starts=0, failures=0)
    trace = aiohttp.TraceConfig()

    async def on_start(*_: Any) -> None:
        counts.starts += 1

    async def on_exception(*_: Any) -> None:
        counts.failures += 1

    trace.on_request_start.append(on_start)
    trace.on_request_exception.append(on_exception)
    return aiohttp.ClientSession(trace_configs=[trace]), counts


def test_api_base_url_is_the_regional_host() -> None:
    """The API host is api.<domain without its first label>."""
    assert api_base_url(DOMAIN) == "https://api.prod-eu-north-1.iotcomms.io"
    assert api_base_url(" Tenant.Emulator.Local. ") == "https://api.emulator.local"
    assert validate_domain("A.B.IOTCOMMS.IO") == "a.b.iotcomms.io"


@pytest.mark.parametrize(
    "domain",
    [
        "",
        "localhost",
        "-bad.example.com",
        "a..b",
        "a b.example.com",
        "1.2.3.4",
        "x" * 64 + ".a.b",
        42,
    ],
)
def test_invalid_domains_are_refused(domain: Any) -> None:
    """Domains that are not host names with a parent are refused before anything is sent."""
    with pytest.raises(InvalidRequestError) as err:
        validate_domain(domain)
    assert err.value.field == "domain"


async def test_place_call_sends_every_field(
    http_session: aiohttp.ClientSession, api_server: RecordingServer, rsa_keys: KeyPair
) -> None:
    """Placeremotecalljwt gets the documented body and a valid RS256 bearer token."""
    client, _ = _client(http_session, api_server.url, rsa_keys)
    await client.place_call(
        PlaceCallRequest(
            "sip:+4690200@example.com",
            "192.0.2.10",
            40000,
            "https://hooks.example.net/api/cloud_sip_ua/abc/",
            codec=Codec.GSM,
            source_user="+4690510",
            telephone_event_payload_type=101,
            crypto=CRYPTO,
            session_reference_id="call-7",
        )
    )
    [request] = api_server.requests
    assert request.method == "POST"
    assert request.path == f"/mediaservice/{DOMAIN}/placeremotecalljwt"
    assert request.headers["Content-Type"].startswith("application/json")
    assert request.claims is not None
    assert request.claims["iss"] == request.claims["sub"] == DOMAIN
    assert request.jwt_header == {"alg": "RS256", "kid": "key-1", "typ": "JWT"}
    assert request.json() == {
        "destinationUri": "sip:+4690200@example.com",
        "receiveIp": "192.0.2.10",
        "receivePort": 40000,
        "callbackBaseUrl": "https://hooks.example.net/api/cloud_sip_ua/abc",
        "codec": "GSM",
        "sourceUser": "+4690510",
        "telephoneEventPayloadType": 101,
        "crypto": [
            {
                "suite": "AES_CM_128_HMAC_SHA1_80",
                "id": 1,
                "config": "inline:" + "A" * 40,
            }
        ],
        "sessionReferenceId": "call-7",
    }


async def test_answer_ringback_and_hang_up_send_their_bodies(
    http_session: aiohttp.ClientSession, api_server: RecordingServer, rsa_keys: KeyPair
) -> None:
    """The three reply-id operations go to their paths with the documented bodies."""
    client, provider = _client(http_session, api_server.url, rsa_keys)
    await client.send_ringback(REPLY_ID)
    await client.answer_call(
        AnswerCallRequest(
            REPLY_ID,
            "2001:db8::5",
            30000,
            codec=Codec.PCMU,
            telephone_event_payload_type=None,
            crypto=CRYPTO,
            session_reference_id="in-1",
        )
    )
    await client.hang_up(REPLY_ID)
    paths = [request.path.rsplit("/", 1)[1] for request in api_server.requests]
    assert paths == [
        "sendremotecallringbackjwt",
        "answerremotecalljwt",
        "hangupcalljwt",
    ]
    ringback, answer, hang_up = (request.json() for request in api_server.requests)
    assert ringback == hang_up == {"replyId": REPLY_ID}
    assert answer == {
        "replyId": REPLY_ID,
        "receiveIp": "2001:db8::5",
        "receivePort": 30000,
        "codec": "PCMU",
        "crypto": [
            {
                "suite": "AES_CM_128_HMAC_SHA1_80",
                "id": 1,
                "config": "inline:" + "A" * 40,
            }
        ],
        "sessionReferenceId": "in-1",
    }
    assert all(request.claims is not None for request in api_server.requests)
    # One cached token serves all three calls.
    assert provider.tokens_minted == 1
    assert client.domain == DOMAIN
    assert client.base_url == api_server.url


async def test_static_token_is_sent_as_is(
    http_session: aiohttp.ClientSession, api_server: RecordingServer
) -> None:
    """A pasted token goes into the Authorization header unchanged."""
    client = CloudSipUaClient(
        http_session,
        DOMAIN,
        StaticTokenProvider("Bearer abc.def.ghi"),
        base_url=api_server.url,
    )
    await client.hang_up(REPLY_ID)
    assert api_server.requests[0].headers["Authorization"] == "Bearer abc.def.ghi"


async def test_site_base_url_replaces_the_base(
    http_session: aiohttp.ClientSession,
    api_server: RecordingServer,
    site_server: RecordingServer,
    rsa_keys: KeyPair,
) -> None:
    """Follow-up calls of a hybrid-site call go to the site's base URL, path prefix kept."""
    client, _ = _client(http_session, api_server.url, rsa_keys)
    site = f"{site_server.url}/site-a/"
    await client.send_ringback(REPLY_ID, site_base_url=site)
    await client.answer_call(
        AnswerCallRequest(REPLY_ID, "192.0.2.1", 5000), site_base_url=site
    )
    await client.hang_up(REPLY_ID, site_base_url=site)
    assert api_server.requests == []
    assert [request.path for request in site_server.requests] == [
        f"/site-a/mediaservice/{DOMAIN}/sendremotecallringbackjwt",
        f"/site-a/mediaservice/{DOMAIN}/answerremotecalljwt",
        f"/site-a/mediaservice/{DOMAIN}/hangupcalljwt",
    ]


async def test_site_base_url_must_be_https_for_an_https_client(
    http_session: aiohttp.ClientSession, rsa_keys: KeyPair
) -> None:
    """A callback cannot steer our token onto plain HTTP when the API itself is https."""
    client, _ = _client(http_session, "https://api.example.com", rsa_keys)
    with pytest.raises(UntrustedSiteError):
        await client.hang_up(REPLY_ID, site_base_url="http://198.51.100.1")
    with pytest.raises(UntrustedSiteError):
        await client.hang_up(REPLY_ID, site_base_url="http://site.example.com")
    assert client.operation_url("hangupcalljwt", "https://site.example.com/x") == (
        f"https://site.example.com/x/mediaservice/{DOMAIN}/hangupcalljwt"
    )


@pytest.mark.parametrize(
    ("site", "allowed"),
    [
        ("https://site-a.example.com/x", True),
        ("https://example.com", True),
        ("https://EXAMPLE.com.", False),
        ("https://attacker.test", False),
        ("https://example.com.attacker.test", False),
        ("https://attackerexample.com", False),
        ("https://hybrid.customer.test:8443/api", True),
        ("https://deep.sites.other.test", True),
        ("https://sites.other.test", True),
        ("https://other.test", False),
        ("not a url", False),
        ("ftp://example.com", False),
    ],
)
async def test_site_allow_list(
    http_session: aiohttp.ClientSession, rsa_keys: KeyPair, site: str, allowed: bool
) -> None:
    """A siteBaseUrl must be the API's own domain or on the allow-list before a token goes there."""
    provider = PrivateKeyTokenProvider(rsa_keys.private_pem, DOMAIN)
    client = CloudSipUaClient(
        http_session,
        DOMAIN,
        provider,
        base_url="https://api.example.com",
        allowed_sites=["hybrid.customer.test", "*.sites.other.test"],
    )
    assert client.allowed_sites == (
        "*.example.com",
        "hybrid.customer.test",
        "*.sites.other.test",
    )
    assert client.site_allowed(site) is allowed


async def test_forged_site_receives_no_request(
    http_session: aiohttp.ClientSession,
    rsa_keys: KeyPair,
    api_server: RecordingServer,
    site_server: RecordingServer,
) -> None:
    """With an https API, a siteBaseUrl on another host never receives the bearer token."""
    client, _ = _client(http_session, "https://api.example.com", rsa_keys)
    with pytest.raises(UntrustedSiteError):
        await client.hang_up(REPLY_ID, site_base_url=site_server.url)
    assert site_server.requests == []


@pytest.mark.parametrize(
    "bad", ["", "*", "https://x.test", "a/b", "x..test", "*.", "h:1"]
)
def test_allow_list_entries_are_host_names(bad: str) -> None:
    """Only `host` and `*.domain` entries are accepted."""
    with pytest.raises(InvalidRequestError):
        site_host_pattern(bad)
    assert site_host_pattern(" *.Sites.Test. ") == "*.sites.test"


async def test_default_base_url_is_the_regional_host(
    http_session: aiohttp.ClientSession, rsa_keys: KeyPair
) -> None:
    """Without base_url the client targets the regional API host."""
    provider = PrivateKeyTokenProvider(rsa_keys.private_pem, DOMAIN)
    client = CloudSipUaClient(http_session, DOMAIN.upper(), provider)
    assert client.operation_url("hangupcalljwt") == (
        f"https://api.prod-eu-north-1.iotcomms.io/mediaservice/{DOMAIN}/hangupcalljwt"
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"base_url": "ftp://example.com"}, "base_url"),
        ({"base_url": "https://user:pw@example.com"}, "base_url"),
        ({"base_url": "https://example.com/?q=1"}, "base_url"),
        ({"base_url": "https://exa mple.com"}, "base_url"),
        ({"base_url": "http://"}, "base_url"),
        ({"base_url": "http://[::1"}, "base_url"),
        ({"request_timeout": 0}, "request_timeout"),
        ({"connect_retries": -1}, "connect_retries"),
        ({"connect_retries": True}, "connect_retries"),
        ({"retry_backoff": -0.1}, "retry_backoff"),
    ],
)
async def test_client_settings_are_checked(
    http_session: aiohttp.ClientSession, kwargs: dict[str, Any], field: str
) -> None:
    """Bad client settings raise InvalidRequestError naming the setting."""
    with pytest.raises(InvalidRequestError) as err:
        CloudSipUaClient(http_session, DOMAIN, StaticTokenProvider("t"), **kwargs)
    assert err.value.field == field


@pytest.mark.parametrize("reply_id", ["", "   ", None])
async def test_blank_reply_id_is_refused_before_sending(
    http_session: aiohttp.ClientSession,
    api_server: RecordingServer,
    rsa_keys: KeyPair,
    reply_id: Any,
) -> None:
    """hang_up and send_ringback refuse a blank reply id without calling the service."""
    client, _ = _client(http_session, api_server.url, rsa_keys)
    for operation in (client.hang_up, client.send_ringback):
        with pytest.raises(InvalidRequestError) as err:
            await operation(reply_id)
        assert err.value.field == "reply_id"
    assert api_server.requests == []


@pytest.mark.parametrize("status", [401, 403])
async def test_rejected_credentials_invalidate_the_token(
    http_session: aiohttp.ClientSession,
    api_server: RecordingServer,
    rsa_keys: KeyPair,
    status: int,
) -> None:
    """401/403 raise CloudSipUaAuthenticationError and the next call mints a new token."""
    client, provider = _client(http_session, api_server.url, rsa_keys)
    api_server.answer(status, {"message": "Unauthorized"})
    with pytest.raises(CloudSipUaAuthenticationError) as err:
        await client.hang_up(REPLY_ID)
    assert REPLY_ID not in str(err.value)
    assert provider.tokens_minted == 1
    api_server.answer(200, {"success": True})
    await client.hang_up(REPLY_ID)
    assert provider.tokens_minted == 2


async def test_success_false_raises_request_refused(
    http_session: aiohttp.ClientSession, api_server: RecordingServer, rsa_keys: KeyPair
) -> None:
    """success:false raises CloudSipUaRequestRefusedError with the reason and error texts."""
    client, _ = _client(http_session, api_server.url, rsa_keys)
    api_server.answer(
        200, {"success": False, "reason": "Call not found", "error": "E_NOCALL"}
    )
    with pytest.raises(CloudSipUaRequestRefusedError) as err:
        await client.hang_up(REPLY_ID)
    assert (err.value.reason, err.value.error) == ("Call not found", "E_NOCALL")
    assert "Call not found" in str(err.value)
    api_server.answer(200, {"success": False, "reason": 5, "error": "x" * 900})
    with pytest.raises(CloudSipUaRequestRefusedError) as err:
        await client.hang_up(REPLY_ID)
    assert err.value.reason is None
    assert err.value.error == "x" * 500
    assert len(str(err.value)) < 300
    api_server.answer(200, {"success": False})
    with pytest.raises(CloudSipUaRequestRefusedError, match="without giving a reason"):
        await client.hang_up(REPLY_ID)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, b"<html>gateway</html>"),
        (200, b""),
        (200, b"\xff\xfe\x00garbage"),
        (200, b"[" * 60_000),
        (200, b'["success", true]'),
        (200, b'{"ok": true}'),
        (200, b'{"success": "true"}'),
        (200, b'{"success": 1}'),
        (500, b'{"success": true}'),
        (502, b"Bad gateway"),
        (404, b'{"success": false, "reason": "no such route"}'),
        (400, b"bad request"),
        (302, b""),
        (200, b" " * (MAX_RESPONSE_BYTES + 1)),
    ],
)
async def test_unusable_answers_raise_response_error(
    http_session: aiohttp.ClientSession,
    api_server: RecordingServer,
    rsa_keys: KeyPair,
    status: int,
    body: bytes,
) -> None:
    """Non-JSON, wrong shape, 5xx, other 4xx, redirects and giant bodies: CloudSipUaResponseError."""
    client, _ = _client(http_session, api_server.url, rsa_keys)
    api_server.answer(status, body)
    api_server.headers = (
        {"Location": f"{api_server.url}/elsewhere"} if status == 302 else {}
    )
    with pytest.raises(CloudSipUaResponseError) as err:
        await client.hang_up(REPLY_ID)
    assert err.value.status == status
    # Redirects are not followed: our token must not travel to wherever they point.
    assert len(api_server.requests) == 1


async def test_timeout_raises_timeout_error_without_retry(
    http_session: aiohttp.ClientSession, api_server: RecordingServer, rsa_keys: KeyPair
) -> None:
    """A service that does not answer in time gives CloudSipUaTimeoutError; nothing is resent."""
    client, _ = _client(http_session, api_server.url, rsa_keys, request_timeout=0.2)
    api_server.hold = True
    with pytest.raises(CloudSipUaTimeoutError):
        await client.hang_up(REPLY_ID)
    assert len(api_server.requests) == 1
    assert isinstance(CloudSipUaTimeoutError(), CloudSipUaConnectionError)


async def test_connection_refused_is_retried_then_raised(rsa_keys: KeyPair) -> None:
    """Refused connections never reached the service, so they are retried connect_retries times."""
    session, counts = _counting_session()
    async with session:
        client, _ = _client(
            session,
            f"http://127.0.0.1:{_free_port()}",
            rsa_keys,
            connect_retries=2,
            retry_backoff=0.01,
        )
        with pytest.raises(CloudSipUaConnectionError) as err:
            await client.hang_up(REPLY_ID)
    assert not isinstance(err.value, CloudSipUaTimeoutError)
    assert (counts.starts, counts.failures) == (3, 3)


async def test_connection_refused_without_retries(rsa_keys: KeyPair) -> None:
    """connect_retries=0 makes exactly one attempt."""
    session, counts = _counting_session()
    async with session:
        client, _ = _client(
            session, f"http://127.0.0.1:{_free_port()}", rsa_keys, connect_retries=0
        )
        with pytest.raises(CloudSipUaConnectionError):
            await client.hang_up(REPLY_ID)
    assert counts.starts == 1


async def test_retry_succeeds_once_the_service_is_back(rsa_keys: KeyPair) -> None:
    """After a refused connection the retry reaches the service that has come up meanwhile."""
    port = _free_port()
    server = RecordingServer(rsa_keys.public_pem)
    runners: list[web.AppRunner] = []
    trace = aiohttp.TraceConfig()

    async def start_after_failure(*_: Any) -> None:
        if not runners:
            runners.append(await start_server(server, port))

    trace.on_request_exception.append(start_after_failure)
    try:
        async with aiohttp.ClientSession(trace_configs=[trace]) as session:
            client, _ = _client(
                session,
                f"http://127.0.0.1:{port}",
                rsa_keys,
                connect_retries=1,
                retry_backoff=0.01,
            )
            await client.hang_up(REPLY_ID)
    finally:
        for runner in runners:
            await runner.cleanup()
    assert len(server.requests) == 1


async def test_server_closing_the_connection_is_not_retried(rsa_keys: KeyPair) -> None:
    """A request that may have reached the service is never resent, even with retries left."""
    connections = 0

    async def slam(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await reader.read(100)
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(slam, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with aiohttp.ClientSession() as session:
            client, _ = _client(
                session, f"http://127.0.0.1:{port}", rsa_keys, connect_retries=3
            )
            with pytest.raises(CloudSipUaConnectionError) as err:
                await client.hang_up(REPLY_ID)
    finally:
        server.close()
        await server.wait_closed()
    assert connections == 1
    assert not isinstance(err.value, CloudSipUaTimeoutError)
    assert "ServerDisconnectedError" in str(err.value)


@pytest.mark.parametrize(
    "body", [{"success": True}, {"success": False, "reason": "Unknown replyId"}]
)
async def test_validate_credentials_passes_on_the_apis_own_answer(
    http_session: aiohttp.ClientSession,
    api_server: RecordingServer,
    rsa_keys: KeyPair,
    body: Any,
) -> None:
    """A 2xx JSON answer with a boolean `success` proves the API; the probe uses a fake reply id."""
    client, _ = _client(http_session, api_server.url, rsa_keys)
    api_server.answer(200, body)
    await client.validate_credentials()
    [request] = api_server.requests
    assert request.path == f"/mediaservice/{DOMAIN}/hangupcalljwt"
    assert request.json() == {"replyId": CREDENTIAL_CHECK_REPLY_ID}


@pytest.mark.parametrize(
    ("status", "body", "reached"),
    [
        (404, {"message": "not found"}, "application/octet-stream"),
        (404, b"<html>Home Assistant</html>", "application/octet-stream"),
        (200, b"not json", "application/octet-stream"),
        (200, {"ok": True}, "application/octet-stream without 'success'"),
        (302, b"", "application/octet-stream"),
    ],
)
async def test_validate_credentials_refuses_what_is_not_the_api(
    http_session: aiohttp.ClientSession,
    api_server: RecordingServer,
    rsa_keys: KeyPair,
    status: int,
    body: Any,
    reached: str,
) -> None:
    """Another service (a 404 page, HTML, other JSON) is named, never taken for the API."""
    client, _ = _client(http_session, api_server.url, rsa_keys)
    api_server.answer(status, body)
    with pytest.raises(CloudSipUaNotTheApiError) as err:
        await client.validate_credentials()
    assert err.value.status == status
    assert err.value.content_type == reached


async def test_validate_credentials_reports_a_failing_service(
    http_session: aiohttp.ClientSession, api_server: RecordingServer, rsa_keys: KeyPair
) -> None:
    """A 5xx is the service failing, not a wrong URL."""
    client, _ = _client(http_session, api_server.url, rsa_keys)
    api_server.answer(500, b"boom")
    with pytest.raises(CloudSipUaResponseError) as err:
        await client.validate_credentials()
    assert not isinstance(err.value, CloudSipUaNotTheApiError)


@pytest.mark.parametrize("status", [401, 403])
async def test_validate_credentials_raises_on_auth_failure(
    http_session: aiohttp.ClientSession,
    api_server: RecordingServer,
    rsa_keys: KeyPair,
    status: int,
) -> None:
    """validate_credentials raises CloudSipUaAuthenticationError on 401/403."""
    client, _ = _client(http_session, api_server.url, rsa_keys)
    api_server.answer(status, b"")
    with pytest.raises(CloudSipUaAuthenticationError):
        await client.validate_credentials()


async def test_validate_credentials_raises_when_unreachable(
    http_session: aiohttp.ClientSession, rsa_keys: KeyPair
) -> None:
    """validate_credentials raises CloudSipUaConnectionError when nothing listens."""
    client, _ = _client(
        http_session, f"http://127.0.0.1:{_free_port()}", rsa_keys, connect_retries=0
    )
    with pytest.raises(CloudSipUaConnectionError):
        await client.validate_credentials()


async def test_untrusted_certificate_is_not_retried(
    rsa_keys: KeyPair, tmp_path: Any, api_server: RecordingServer
) -> None:
    """A TLS certificate we do not trust fails at once: retrying cannot change it."""
    import ssl

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    certificate = self_signed_certificate(key, "127.0.0.1")
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", api_server.handle)
    runner = web.AppRunner(app, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = runner.addresses[0][1]
    session, counts = _counting_session()
    try:
        async with session:
            client, _ = _client(
                session, f"https://127.0.0.1:{port}", rsa_keys, connect_retries=3
            )
            with pytest.raises(CloudSipUaConnectionError, match="certificate"):
                await client.hang_up(REPLY_ID)
    finally:
        await runner.cleanup()
    assert counts.starts == 1
    assert api_server.requests == []
