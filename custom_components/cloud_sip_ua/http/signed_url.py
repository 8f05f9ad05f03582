"""Absolute signed URLs that speakers and satellites fetch without logging in."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.components.http.auth import async_sign_path
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.network import NoURLAvailableError, get_url

from ..const import DOMAIN


def absolute_signed_url(hass: HomeAssistant, path: str, lifetime: timedelta) -> str:
    """Return Home Assistant's own URL of `path`, signed for the read-only content user."""
    signed = async_sign_path(hass, path, lifetime, use_content_user=True)
    try:
        base = get_url(hass, allow_cloud=False)
    except NoURLAvailableError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN, translation_key="no_url"
        ) from err
    return f"{base}{signed}"
