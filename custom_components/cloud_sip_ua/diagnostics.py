"""Diagnostics: settings, calls and counters, with every secret redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .const import (
    CONF_CALLBACK_PUBLIC_KEY,
    CONF_PRIVATE_KEY,
    CONF_TOKEN,
    CONF_WEBHOOK_ID,
)
from .data import CloudSipUaConfigEntry

# The public key is no secret, but long and of no use here; whether one is set shows below.
TO_REDACT = {
    CONF_CALLBACK_PUBLIC_KEY,
    CONF_PRIVATE_KEY,
    CONF_TOKEN,
    CONF_WEBHOOK_ID,
    "reply_id",
    "replyId",
    "callback_url",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: CloudSipUaConfigEntry
) -> dict[str, Any]:
    """Return what helps debugging a tenant, without its secrets."""
    data = entry.runtime_data
    manager = data.manager
    settings = asdict(manager.settings)
    settings.pop("callback_base_url", None)
    return {
        "entry": async_redact_data(
            {"data": dict(entry.data), "options": dict(entry.options)}, TO_REDACT
        ),
        "settings": settings,
        "calls": [
            {
                **call.as_public_dict(),
                "media": asdict(call.stats) if call.stats is not None else None,
            }
            for call in manager.snapshots()
        ],
        "recent_calls": [call.snapshot().as_public_dict() for call in manager.history],
        "call_counters": dict(manager.counters),
        "refused_callbacks": dict(data.rejections.counts),
        "callback_signature_check": data.verifier.enabled,
    }
