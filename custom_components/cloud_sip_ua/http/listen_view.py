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
from ..intercom.listen_fanout import AudioSource, WavFanouts
from ..intercom.listen_stream import WAV_RATES, stream_mp3, wav_stream_header

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
        """Start with no WAV fan-outs: one per call and rate while somebody listens."""
        self._wav = WavFanouts()

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
        try:
            if fmt == "mp3":
                subscription = media.subscribe(rate)
                try:
                    await stream_mp3(
                        subscription,
                        rate,
                        response.write,
                        get_ffmpeg_manager(hass).binary,
                    )
                finally:
                    subscription.close()
                ended = True
            else:
                ended = await self._listen_wav(media, rate, request, response)
            if ended:
                await response.write_eof()
        except ConnectionError:
            ended = False
        if not ended:
            _LOGGER.debug("Listener of call %s went away", call_id)
        return response

    async def _listen_wav(
        self,
        media: AudioSource,
        rate: int,
        request: web.Request,
        response: web.StreamResponse,
    ) -> bool:
        """Send the WAV header, then the call's fan-out's batches; True once the call ended."""
        # Also sends the headers: the fan-out's chunks go straight to the connection after them.
        await response.write(wav_stream_header(rate))
        transport = request.transport
        if transport is None or transport.is_closing():
            return False
        listener = self._wav.join(media, rate, transport)
        try:
            return await listener.done
        finally:
            listener.leave()
