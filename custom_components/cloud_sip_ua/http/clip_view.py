"""The clip view: serves the caller's utterances to Assist satellites (URLs: intercom/clips.py)."""

from __future__ import annotations

from http import HTTPStatus

from aiohttp import web

from homeassistant.helpers.http import KEY_HASS, HomeAssistantView

from ..intercom.clips import clip_store


class ClipView(HomeAssistantView):
    """Returns one WAV clip; 404 once it has expired."""

    url = "/api/cloud_sip_ua/clip/{clip_id:[0-9a-f]{32}}.wav"
    name = "api:cloud_sip_ua:clip"
    # Satellites cannot log in: they get a URL signed by async_sign_path.
    requires_auth = True

    async def get(self, request: web.Request, clip_id: str) -> web.Response:
        """Return the clip."""
        wav = clip_store(request.app[KEY_HASS]).get(clip_id)
        if wav is None:
            return web.Response(status=HTTPStatus.NOT_FOUND)
        return web.Response(
            body=wav, content_type="audio/wav", headers={"Cache-Control": "no-store"}
        )
