"""Turn any media Home Assistant can name (TTS, media sources, files, URLs) into 8 kHz mono PCM."""

from __future__ import annotations

from functools import partial
import io
from pathlib import Path
import subprocess
from urllib.parse import unquote
import wave

from homeassistant.components import media_source, tts
from homeassistant.components.ffmpeg import get_ffmpeg_manager
from homeassistant.components.media_player.browse_media import (
    async_process_play_media_url,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from ..const import DOMAIN, SAMPLE_RATE

DECODE_TIMEOUT = 60.0
# Ten minutes of 8 kHz 16-bit audio: longer media is cut, not buffered without bound.
MAX_PCM_BYTES = SAMPLE_RATE * 2 * 600
_LOCAL_PREFIX = "media-source://media_source/"


async def async_media_to_pcm(
    hass: HomeAssistant, media_id: str, entity_id: str | None
) -> bytes:
    """Fetch and decode the media behind `media_id` to 16-bit 8 kHz mono PCM."""
    if media_id.startswith(_LOCAL_PREFIX):
        path = await hass.async_add_executor_job(_local_media_path, hass, media_id)
        return await _async_decode(hass, str(path))
    if media_source.is_media_source_id(media_id) and media_id.startswith(
        "media-source://tts/"
    ):
        # Straight from the TTS manager: no HTTP round trip through Home Assistant's own URL.
        try:
            _extension, data = await tts.async_get_media_source_audio(hass, media_id)
        except (HomeAssistantError, ValueError) as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN, translation_key="media_not_found"
            ) from err
        return await _async_decode(hass, "pipe:0", data)
    if media_source.is_media_source_id(media_id):
        try:
            item = await media_source.async_resolve_media(hass, media_id, entity_id)
        except media_source.Unresolvable as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN, translation_key="media_not_found"
            ) from err
        media_id = item.url
    return await _async_decode(hass, async_process_play_media_url(hass, media_id))


def _local_media_path(hass: HomeAssistant, media_id: str) -> Path:
    """Map a local media source id to its file, refusing paths that leave the media folder.

    In the executor: resolving and checking the path touch the disk.
    """
    source_dir_id, _, relative = media_id.removeprefix(_LOCAL_PREFIX).partition("/")
    if (base := hass.config.media_dirs.get(source_dir_id)) is None:
        raise HomeAssistantError(
            translation_domain=DOMAIN, translation_key="media_not_found"
        )
    root = Path(base).resolve()
    path = (root / unquote(relative)).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise HomeAssistantError(
            translation_domain=DOMAIN, translation_key="media_not_found"
        )
    return path


async def _async_decode(
    hass: HomeAssistant, source: str, data: bytes | None = None
) -> bytes:
    """Run Home Assistant's ffmpeg to decode `source` (a path, URL or pipe:0 with `data`).

    In the executor: starting a process blocks the caller until the child has started ffmpeg
    (0.5 ms on an idle PC, 3-6 ms measured on a busy one), which must not be the event loop.
    """
    command = [
        get_ffmpeg_manager(hass).binary,
        "-hide_banner",
        "-loglevel",
        "error",
        "-nostdin" if data is None else "-y",
        "-i",
        source,
        "-f",
        "s16le",
        "-ac",
        "1",
        "-ar",
        str(SAMPLE_RATE),
        "pipe:1",
    ]
    try:
        result = await hass.async_add_executor_job(
            partial(_run, command, data, DECODE_TIMEOUT)
        )
    except subprocess.TimeoutExpired as err:  # the child is killed by then
        raise HomeAssistantError(
            translation_domain=DOMAIN, translation_key="media_decode_failed"
        ) from err
    pcm = result.stdout
    if result.returncode != 0 or not pcm:
        raise HomeAssistantError(
            translation_domain=DOMAIN, translation_key="media_decode_failed"
        )
    return pcm[:MAX_PCM_BYTES]


def _run(
    command: list[str], data: bytes | None, timeout: float
) -> subprocess.CompletedProcess[bytes]:
    """Run a command with `data` (or nothing) on stdin; return its outcome with its output."""
    return subprocess.run(
        command,
        input=data,
        stdin=None if data is not None else subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
        check=False,
    )


# Rates a call takes as is (the media session resamples them); anything else goes through ffmpeg.
CALL_RATES = (8000, 16000, 48000)


def wav_pcm(data: bytes) -> tuple[bytes, int] | None:
    """Return the samples and rate of a 16-bit mono WAV the call takes as is, else None."""
    try:
        with wave.open(io.BytesIO(data), "rb") as wav:
            if (
                wav.getsampwidth() != 2
                or wav.getnchannels() != 1
                or wav.getframerate() not in CALL_RATES
            ):
                return None
            return wav.readframes(wav.getnframes()), wav.getframerate()
    except wave.Error, EOFError:
        return None
