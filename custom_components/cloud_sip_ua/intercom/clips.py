"""The caller's utterances as short WAV clips in memory, behind signed URLs a speaker can fetch."""

from __future__ import annotations

from collections import OrderedDict
from datetime import timedelta
import secrets
import time

from homeassistant.core import HomeAssistant
from homeassistant.util.hass_dict import HassKey

from ..const import DOMAIN
from ..http.signed_url import absolute_signed_url

# Served by http/clip_view.py.
CLIP_PATH = "/api/cloud_sip_ua/clip/{clip_id}.wav"
# A satellite fetches a clip within seconds; an old clip is of no use to anyone.
CLIP_LIFETIME = timedelta(minutes=5)
# Clips kept at most (all calls of all entries): a long relay cannot fill the memory.
MAX_CLIPS = 32

DATA_CLIPS: HassKey[ClipStore] = HassKey(f"{DOMAIN}_clips")


class ClipStore:
    """Keeps the newest clips for a while, by random id."""

    def __init__(self) -> None:
        """Start empty."""
        self._clips: OrderedDict[str, tuple[bytes, float]] = OrderedDict()

    def add(self, wav: bytes) -> str:
        """Keep a clip and return its id."""
        self._prune()
        clip_id = secrets.token_hex(16)
        self._clips[clip_id] = (
            wav,
            time.monotonic() + CLIP_LIFETIME.total_seconds(),
        )
        while len(self._clips) > MAX_CLIPS:
            self._clips.popitem(last=False)
        return clip_id

    def get(self, clip_id: str) -> bytes | None:
        """Return a clip that has not expired."""
        self._prune()
        found = self._clips.get(clip_id)
        return None if found is None else found[0]

    def _prune(self) -> None:
        """Drop expired clips."""
        now = time.monotonic()
        for clip_id in [key for key, (_, end) in self._clips.items() if end <= now]:
            del self._clips[clip_id]


def clip_store(hass: HomeAssistant) -> ClipStore:
    """Return Home Assistant's clip store."""
    if (store := hass.data.get(DATA_CLIPS)) is None:
        store = hass.data[DATA_CLIPS] = ClipStore()
    return store


def clip_url(hass: HomeAssistant, clip_id: str) -> str:
    """Return an absolute signed URL of a clip (the read-only content user, no login)."""
    return absolute_signed_url(hass, CLIP_PATH.format(clip_id=clip_id), CLIP_LIFETIME)
