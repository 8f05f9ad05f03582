"""Listening on speakers: a signed, call-scoped URL of the caller's audio, played by media players."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.components.media_player.const import (
    ATTR_MEDIA_CONTENT_ID,
    ATTR_MEDIA_CONTENT_TYPE,
    DOMAIN as MEDIA_PLAYER_DOMAIN,
    SERVICE_PLAY_MEDIA,
    MediaType,
)
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant

from ..cloudsipua.call_manager import CallManager
from ..http.signed_url import absolute_signed_url

# Served by http/listen_view.py.
LISTEN_PATH = "/api/cloud_sip_ua/listen/{entry_id}/{call_id}.{fmt}"
FORMATS = ("mp3", "wav")
# The link stops working once its call ends (404); this only bounds a leaked link's life.
URL_LIFETIME = timedelta(hours=6)


def listen_url(
    hass: HomeAssistant,
    manager: CallManager,
    entry_id: str,
    call_id: str | None,
    fmt: str,
) -> str:
    """Return an absolute signed URL of the connected call's audio (current call if no id)."""
    call = manager.get_call(call_id)
    manager.media_of(call.call_id)  # raises unless connected
    path = LISTEN_PATH.format(entry_id=entry_id, call_id=call.call_id, fmt=fmt)
    return absolute_signed_url(hass, path, URL_LIFETIME)


async def async_listen(
    hass: HomeAssistant,
    manager: CallManager,
    entry_id: str,
    players: list[str],
    *,
    call_id: str | None,
    fmt: str,
) -> str:
    """Have the media players play the call's audio; return the URL they were given."""
    url = listen_url(hass, manager, entry_id, call_id, fmt)
    await hass.services.async_call(
        MEDIA_PLAYER_DOMAIN,
        SERVICE_PLAY_MEDIA,
        {
            ATTR_ENTITY_ID: players,
            ATTR_MEDIA_CONTENT_ID: url,
            ATTR_MEDIA_CONTENT_TYPE: MediaType.MUSIC,
        },
        blocking=True,
    )
    return url
