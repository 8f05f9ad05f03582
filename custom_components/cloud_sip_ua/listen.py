"""Listening on speakers: a signed, call-scoped URL that streams the caller's audio, and the action."""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus
import logging

from aiohttp import web

from homeassistant.components.ffmpeg import get_ffmpeg_manager
from homeassistant.components.http.auth import async_sign_path
from homeassistant.components.media_player.const import (
    ATTR_MEDIA_CONTENT_ID,
    ATTR_MEDIA_CONTENT_TYPE,
    DOMAIN as MEDIA_PLAYER_DOMAIN,
    SERVICE_PLAY_MEDIA,
    MediaType,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView
from homeassistant.helpers.network import NoURLAvailableError, get_url

from .cloudsipua.exceptions import CallError
from .const import CONF_LISTEN_FORMAT, DEFAULT_LISTEN_FORMAT, DOMAIN
from .data import CloudSipUaConfigEntry
from .listen_stream import WAV_RATES, stream_mp3, stream_wav

_LOGGER = logging.getLogger(__name__)

LISTEN_PATH = "/api/cloud_sip_ua/listen/{entry_id}/{call_id}.{fmt}"
FORMATS = ("mp3", "wav")
MP3_RATE = 16000
DEFAULT_WAV_RATE = 16000
# The link stops working once its call ends (404); this only bounds a leaked link's life.
URL_LIFETIME = timedelta(hours=6)


class ListenView(HomeAssistantView):
    """Streams a connected call's received audio until the call ends."""

    url = "/api/cloud_sip_ua/listen/{entry_id}/{call_id}.{fmt:(mp3|wav)}"
    name = "api:cloud_sip_ua:listen"
    # Speakers cannot log in: they get a URL signed by async_sign_path, which the auth
    # middleware checks (and refuses once expired) before this view runs.
    requires_auth = True

    async def get(
        self, request: web.Request, entry_id: str, call_id: str, fmt: str
    ) -> web.StreamResponse:
        """Stream the call as WAV or MP3; 404 for an unknown or ended call."""
        hass = request.app[KEY_HASS]
        entry: CloudSipUaConfigEntry | None = hass.config_entries.async_get_entry(
            entry_id
        )
        if (
            entry is None
            or entry.domain != DOMAIN
            or entry.state is not ConfigEntryState.LOADED
        ):
            return web.Response(status=HTTPStatus.NOT_FOUND)
        try:
            media = entry.runtime_data.manager.media_of(call_id)
        except CallError:
            return web.Response(status=HTTPStatus.NOT_FOUND)
        rate = MP3_RATE
        if fmt == "wav":
            try:
                rate = int(request.query.get("rate", DEFAULT_WAV_RATE))
            except ValueError:
                rate = 0
            if rate not in WAV_RATES:
                return web.Response(status=HTTPStatus.BAD_REQUEST)
        response = web.StreamResponse(
            headers={
                "Content-Type": "audio/mpeg" if fmt == "mp3" else "audio/wav",
                "Cache-Control": "no-store",
            }
        )
        # Chunked, and no compression: each write must leave at once.
        response.enable_chunked_encoding()
        await response.prepare(request)
        subscription = media.subscribe(rate)
        try:
            if fmt == "mp3":
                await stream_mp3(
                    subscription, rate, response.write, get_ffmpeg_manager(hass).binary
                )
            else:
                await stream_wav(subscription, rate, response.write)
            await response.write_eof()
        except ConnectionError:
            _LOGGER.debug("Listener of call %s went away", call_id)
        finally:
            subscription.close()
        return response


def listen_url(
    hass: HomeAssistant,
    entry: CloudSipUaConfigEntry,
    call_id: str | None,
    fmt: str | None,
) -> str:
    """Return an absolute signed URL of the connected call's audio (current call if no id)."""
    call = entry.runtime_data.manager.get_call(call_id)
    entry.runtime_data.manager.media_of(call.call_id)  # raises unless connected
    path = LISTEN_PATH.format(
        entry_id=entry.entry_id,
        call_id=call.call_id,
        fmt=fmt or entry.options.get(CONF_LISTEN_FORMAT, DEFAULT_LISTEN_FORMAT),
    )
    # The content user is Home Assistant's read-only user for signed media links.
    signed = async_sign_path(hass, path, URL_LIFETIME, use_content_user=True)
    try:
        base = get_url(hass, allow_cloud=False)
    except NoURLAvailableError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN, translation_key="no_url"
        ) from err
    return f"{base}{signed}"


async def async_listen(
    hass: HomeAssistant,
    entry: CloudSipUaConfigEntry,
    players: list[str],
    *,
    call_id: str | None = None,
    fmt: str | None = None,
) -> str:
    """Have the media players play the call's audio; return the URL they were given."""
    url = listen_url(hass, entry, call_id, fmt)
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
