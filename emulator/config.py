"""Settings of one emulator instance."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_DOMAIN = "customer.prod-eu-north-1.iotcomms.io"


@dataclass(frozen=True, slots=True, kw_only=True)
class EmulatorConfig:
    """Everything an emulator needs: tenant, keys, addresses and timings."""

    domain: str = DEFAULT_DOMAIN
    host: str = "127.0.0.1"
    port: int = 0
    # PEM of the key the client signs API JWTs with (the customer uploads it at the vendor).
    api_public_key_pem: bytes
    # PEM of the key the emulator signs callbacks with (its public half goes to the receiver).
    callback_signing_private_key_pem: bytes
    default_callback_base_url: str | None = None
    ring_timeout: float = 60.0
    media_host: str = "127.0.0.1"
    media_port_range: tuple[int, int] = (40000, 40999)
    quirks: bool = False
    # Send the vendor's own callback samples (emulator/vendor_samples) instead of our bodies.
    vendor_samples: bool = False
    state_dir: Path | None = None
    # API JWT checks: the platform's claim rules are not published, so these are settings.
    api_jwt_require_exp: bool = True
    api_jwt_audience: str | None = None
    api_jwt_issuer: str | None = None
    # replyIds live this long unless a fault expires them early.
    reply_id_ttl: float = 24 * 3600.0
    # Callback delivery: attempts = 1 + retries, waiting backoff * 2**n between them.
    callback_issuer: str = "cloud-sip-ua-emulator"
    callback_token_ttl: float = 60.0
    callback_timeout: float = 5.0
    callback_retries: int = 3
    callback_backoff: float = 0.2
    # Hybrid deployments add these to callAnswered and callNotify.
    site_id: str | None = None
    site_base_url: str | None = None
    # The remote party hangs up when no RTP arrives for this long (None: never).
    media_inactivity_timeout: float | None = None
    ivr_server: str = "127.0.0.1"
