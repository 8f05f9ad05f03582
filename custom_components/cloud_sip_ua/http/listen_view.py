"""The listen view: streams a connected call's received audio to a speaker as WAV or MP3."""

from __future__ import annotations

from http import HTTPStatus
import logging

from aiohttp import web

from homeassistant.components.ffmpeg import get_ffmpeg_manager
from homeassistant.config_entries import ConfigEntryState
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView

from ..cloudsipua.exceptions import CallError
from ..const import DOMAIN
from ..data import CloudSipUaConfigEntry
from ..intercom.listen_fanout import ListenFanouts
from ..intercom.listen_stream import WAV_RATES, wav_stream_header

_LOGGER = logging.getLogger(__name__)

MP3_RATE = 16000
DEFAULT_WAV_RATE = 16000


class ListenView(HomeAssistantView):
    """Streams a connected call's received audio until the call ends (URLs: intercom/listen.py)."""

    url = "/api/cloud_sip_ua/listen/{entry_id}/{call_id}.{fmt:(mp3|wav)}"
    name = "api:cloud_sip_ua:listen"
    # Speakers cannot log in: they get a URL signed by async_sign_path, which the auth
    # middleware checks (and refuses once expired) before this view runs.
    requires_auth = True

    def __init__(self) -> None:
        """Start with no fan-outs: one per call, format and rate while somebody listens."""
        self._fanouts = ListenFanouts()

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
        # The headers (held back by aiohttp to go out with the first bytes) and, for WAV, the
        # header of an endless WAV; the fan-out's chunks go straight to the connection after them.
        ended = False
        try:
            await response.write(wav_stream_header(rate) if fmt == "wav" else b"")
            transport = request.transport
            if transport is not None and not transport.is_closing():
                ffmpeg = get_ffmpeg_manager(hass).binary if fmt == "mp3" else ""
                listener = self._fanouts.join(media, fmt, rate, transport, ffmpeg)
                try:
                    ended = await listener.done
                finally:
                    listener.leave()
            if ended:
                await response.write_eof()
        except ConnectionError:
            ended = False
        if not ended:
            _LOGGER.debug("Listener of call %s went away", call_id)
        return response
