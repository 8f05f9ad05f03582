"""REST client for the four Cloud SIP UA operations."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
import ipaddress
import json
import logging
from typing import Any

import aiohttp
from yarl import URL

from .credentials import TokenProvider
from .exceptions import (
    CloudSipUaAuthenticationError,
    CloudSipUaConnectionError,
    CloudSipUaNotTheApiError,
    CloudSipUaRequestRefusedError,
    CloudSipUaResponseError,
    CloudSipUaTimeoutError,
    InvalidRequestError,
    UntrustedSiteError,
)
from .requests import AnswerCallRequest, PlaceCallRequest
from .validation import validate_domain, validate_http_url

__all__ = ["CloudSipUaClient", "api_base_url", "site_host_pattern", "validate_domain"]

_LOGGER = logging.getLogger(__name__)

OPERATION_PLACE_CALL = "placeremotecalljwt"
OPERATION_ANSWER_CALL = "answerremotecalljwt"
OPERATION_SEND_RINGBACK = "sendremotecallringbackjwt"
OPERATION_HANG_UP = "hangupcalljwt"

# The answer is `{"success": ...}`; anything much bigger is not the service talking.
MAX_RESPONSE_BYTES = 64 * 1024
# A reply id no real call can have: used to test credentials without touching a call.
CREDENTIAL_CHECK_REPLY_ID = "cloud-sip-ua-credential-check"
_MAX_TEXT = 500


def api_base_url(domain: str) -> str:
    """Return the regional API host for a tenant domain: https://api.<domain minus first label>."""
    region = validate_domain(domain).split(".", 1)[1]
    return f"https://api.{region}"


def _registrable_domain(host: str) -> str:
    """Return the host's registrable domain: its last two labels, or the whole IP or name."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        labels = host.split(".")
        return ".".join(labels[-2:]) if len(labels) > 2 else host
    return host


def site_host_pattern(value: str) -> str:
    """Return an allow-list entry in canonical form: `host` or `*.domain`, lower case.

    Raises InvalidRequestError for anything else (a URL, a bare `*`, a path).
    """
    text = value.strip().lower().rstrip(".")
    name = text.removeprefix("*.")
    labels = name.split(".")
    if not name or "*" in name or "/" in name or ":" in name or "" in labels:
        raise InvalidRequestError("allowed_sites", f"not a host name: {value[:100]!r}")
    return text


def _host_allowed(host: str, patterns: Iterable[str]) -> bool:
    """Return True if the host is named by one of the patterns (`host` or `*.domain`)."""
    for pattern in patterns:
        if pattern.startswith("*."):
            suffix = pattern[1:]
            if host.endswith(suffix) or host == pattern[2:]:
                return True
        elif host == pattern:
            return True
    return False


def _optional_text(value: object) -> str | None:
    """Return a reason/error text from the response, clipped; other types become None."""
    if isinstance(value, str) and value:
        return value[:_MAX_TEXT]
    return None


async def _read_limited(response: aiohttp.ClientResponse) -> bytes:
    """Read the response body, refusing bodies larger than MAX_RESPONSE_BYTES."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(16 * 1024):
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise CloudSipUaResponseError(
                "Response body is too large", status=response.status
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _check_answer(status: int, raw: bytes, content_type: str) -> None:
    """Turn the HTTP status and body into success or the matching library error."""
    if status >= 500:
        raise CloudSipUaResponseError("The service failed", status=status)
    if not 200 <= status < 300:
        raise CloudSipUaNotTheApiError(status, content_type)
    try:
        answer = json.loads(raw)
    except (ValueError, RecursionError) as err:
        raise CloudSipUaNotTheApiError(status, content_type) from err
    if not isinstance(answer, Mapping) or not isinstance(answer.get("success"), bool):
        raise CloudSipUaNotTheApiError(status, f"{content_type} without 'success'")
    if not answer["success"]:
        raise CloudSipUaRequestRefusedError(
            _optional_text(answer.get("reason")), _optional_text(answer.get("error"))
        )


class CloudSipUaClient:
    """Calls the Cloud SIP UA REST API of one tenant domain."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        domain: str,
        token_provider: TokenProvider,
        *,
        base_url: str | None = None,
        request_timeout: float = 10.0,
        connect_retries: int = 2,
        retry_backoff: float = 0.2,
        allowed_sites: Iterable[str] = (),
    ) -> None:
        """Check the settings; the base URL defaults to the tenant's regional API host.

        Follow-up requests go to a callback's siteBaseUrl only when its host is the API's own
        registrable domain (or a subdomain of it) or matches `allowed_sites` (`host` or
        `*.domain`): our bearer token must never go to a host a forged callback names.
        """
        self._session = session
        self._domain = validate_domain(domain)
        self._token_provider = token_provider
        self._base_url = validate_http_url(
            base_url if base_url is not None else api_base_url(self._domain), "base_url"
        )
        # Site URLs come from callbacks: to keep our token off plain HTTP they must be https,
        # unless the client itself talks plain HTTP (emulator and test set-ups).
        self._site_urls_need_https = self._base_url.startswith("https:")
        own = _registrable_domain(URL(self._base_url).host or "")
        self._allowed_sites = (
            own if own == URL(self._base_url).host else f"*.{own}",
            *(site_host_pattern(site) for site in allowed_sites),
        )
        if not request_timeout > 0:
            raise InvalidRequestError("request_timeout", "must be positive")
        if (
            isinstance(connect_retries, bool)
            or not isinstance(connect_retries, int)
            or connect_retries < 0
        ):
            raise InvalidRequestError(
                "connect_retries", "must be a non-negative integer"
            )
        if not retry_backoff >= 0:
            raise InvalidRequestError("retry_backoff", "must not be negative")
        self._request_timeout = request_timeout
        self._connect_retries = connect_retries
        self._retry_backoff = retry_backoff

    @property
    def domain(self) -> str:
        """Return the normalised tenant domain."""
        return self._domain

    @property
    def base_url(self) -> str:
        """Return the API base URL used when no site URL is given."""
        return self._base_url

    @property
    def allowed_sites(self) -> tuple[str, ...]:
        """Return the host patterns a siteBaseUrl may name."""
        return self._allowed_sites

    def site_allowed(self, site_base_url: str) -> bool:
        """Return True if requests may go to this siteBaseUrl (scheme and host checked)."""
        try:
            base = validate_http_url(
                site_base_url, "site_base_url", require_https=self._site_urls_need_https
            )
        except InvalidRequestError:
            return False
        return _host_allowed((URL(base).host or "").lower(), self._allowed_sites)

    def operation_url(self, operation: str, site_base_url: str | None = None) -> str:
        """Return the URL of an operation, on the hybrid site's host when one is given."""
        if site_base_url is None:
            return f"{self._base_url}/mediaservice/{self._domain}/{operation}"
        if not self.site_allowed(site_base_url):
            raise UntrustedSiteError(
                "The siteBaseUrl is not an allowed host: not sending credentials there"
            )
        base = validate_http_url(site_base_url, "site_base_url")
        return f"{base}/mediaservice/{self._domain}/{operation}"

    async def place_call(self, request: PlaceCallRequest) -> None:
        """Ask the cloud user agent to call request.destination_uri."""
        await self._post(OPERATION_PLACE_CALL, request.to_json(), None)

    async def answer_call(
        self, request: AnswerCallRequest, *, site_base_url: str | None = None
    ) -> None:
        """Answer the incoming call announced by newRemoteCall."""
        await self._post(OPERATION_ANSWER_CALL, request.to_json(), site_base_url)

    async def send_ringback(
        self, reply_id: str, *, site_base_url: str | None = None
    ) -> None:
        """Send 180 Ringing for the incoming call announced by newRemoteCall."""
        await self._post(OPERATION_SEND_RINGBACK, _reply_body(reply_id), site_base_url)

    async def hang_up(self, reply_id: str, *, site_base_url: str | None = None) -> None:
        """Hang up an answered call, or reject (busy) one that is not answered yet."""
        await self._post(OPERATION_HANG_UP, _reply_body(reply_id), site_base_url)

    async def validate_credentials(self) -> None:
        """Check that the base URL is the API and that it takes our credentials.

        The check hangs up a call no one can have. Only the API's own answer counts: a 2xx
        JSON body with a boolean `success` (false, for that impossible call). Raises
        CloudSipUaAuthenticationError (401/403), CloudSipUaConnectionError, or
        CloudSipUaNotTheApiError naming what answered instead.
        """
        try:
            await self._post(
                OPERATION_HANG_UP, {"replyId": CREDENTIAL_CHECK_REPLY_ID}, None
            )
        except CloudSipUaRequestRefusedError:
            # The service got past authentication and judged the (fake) call: credentials work.
            return

    async def _post(
        self, operation: str, body: dict[str, Any], site_base_url: str | None
    ) -> None:
        """POST one operation, retrying only while the request provably never left."""
        url = self.operation_url(operation, site_base_url)
        token = await self._token_provider.async_get_token()
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        attempt = 0
        while True:
            try:
                status, raw, content_type = await self._send_once(url, body, headers)
            except aiohttp.ClientConnectorCertificateError as err:
                # A certificate will not change between attempts.
                raise CloudSipUaConnectionError(
                    f"TLS certificate of the service is not trusted ({operation})"
                ) from err
            except aiohttp.ClientConnectorError as err:
                # Connecting failed, so the request was never sent: safe to try again.
                if attempt < self._connect_retries:
                    attempt += 1
                    _LOGGER.debug("Cannot connect for %s, retry %d", operation, attempt)
                    await asyncio.sleep(self._retry_backoff * 2 ** (attempt - 1))
                    continue
                raise CloudSipUaConnectionError(
                    f"Cannot connect to the service ({operation})"
                ) from err
            except TimeoutError as err:
                # The request may have reached the service: never resend it.
                raise CloudSipUaTimeoutError(
                    f"The service did not answer in time ({operation})"
                ) from err
            except aiohttp.ClientError as err:
                raise CloudSipUaConnectionError(
                    f"Connection to the service failed ({operation}): {type(err).__name__}"
                ) from err
            break
        _LOGGER.debug("%s answered HTTP %d", operation, status)
        if status in (401, 403):
            self._token_provider.invalidate()
            raise CloudSipUaAuthenticationError(
                f"The service rejected the credentials (HTTP {status})"
            )
        _check_answer(status, raw, content_type)

    async def _send_once(
        self, url: str, body: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, bytes, str]:
        """Send one request and return status, body and content type."""
        async with (
            asyncio.timeout(self._request_timeout),
            # A redirect would carry our token to wherever it points: never follow one.
            self._session.post(
                url, json=body, headers=headers, allow_redirects=False
            ) as response,
        ):
            return (
                response.status,
                await _read_limited(response),
                response.content_type,
            )


def _reply_body(reply_id: str) -> dict[str, Any]:
    """Return the body of the operations that only carry a reply id."""
    if not isinstance(reply_id, str) or not reply_id.strip():
        raise InvalidRequestError("reply_id", "must be a non-empty string")
    return {"replyId": reply_id}
