"""Call recording: both directions as a stereo WAV in the media folder, with retention."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from functools import partial
import logging
from pathlib import Path
import re
import time
import wave

import numpy as np

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util

from ..cloudsipua.call_manager import CallManager
from ..cloudsipua.calls import Call
from ..cloudsipua.exceptions import CallError
from ..cloudsipua.media.codecs import CLOCK_RATE, FRAME_BYTES
from ..cloudsipua.media.session import MediaSession
from ..const import (
    CONF_RECORD_ALL_CALLS,
    CONF_RECORDING_RETENTION_COUNT,
    CONF_RECORDING_RETENTION_DAYS,
    DEFAULT_RECORD_ALL_CALLS,
    DEFAULT_RECORDING_RETENTION_COUNT,
    DEFAULT_RECORDING_RETENTION_DAYS,
    DOMAIN,
)

_LOGGER = logging.getLogger(__name__)

RECORDINGS_FOLDER = DOMAIN
FLUSH_SECONDS = 1.0
# Four hours of 8 kHz stereo (about 460 MB): a forgotten call cannot fill the disk.
MAX_SECONDS = 4 * 3600
_SILENCE = bytes(FRAME_BYTES)
# Only files named like this are ours: retention never touches anything else in the folder.
_OWN_FILE = re.compile(r"^call-\d{8}-\d{6}-[0-9a-f]{8}(?:-[0-9A-Za-z+_]{1,32})?\.wav$")
_UNSAFE = re.compile(r"[^0-9A-Za-z+_]")


def recordings_dir(hass: HomeAssistant) -> Path:
    """Return our folder inside Home Assistant's local media folder."""
    base = hass.config.media_dirs.get("local") or hass.config.path("media")
    return Path(base) / RECORDINGS_FOLDER


def recording_name(call: Call, now: datetime) -> str:
    """Return the file name of a call's recording: time, call id and caller, nothing unsafe."""
    party = _UNSAFE.sub("_", call.remote_party or "")[:32]
    stem = f"call-{now:%Y%m%d-%H%M%S}-{call.call_id[:8]}"
    return f"{stem}-{party}.wav" if party else f"{stem}.wav"


def is_own_recording(path: Path) -> bool:
    """Tell whether a file is one of our recordings."""
    return bool(_OWN_FILE.match(path.name)) and path.is_file()


def apply_retention(
    folder: Path,
    *,
    max_age_days: int,
    max_count: int,
    now: float,
    spare: frozenset[Path] = frozenset(),
) -> list[Path]:
    """Delete our recordings older than `max_age_days` or beyond the newest `max_count` (0: no limit).

    Files in `spare` (recordings still being written) are neither counted nor deleted.
    """
    if not folder.is_dir():
        return []
    own = sorted(
        (
            path
            for path in folder.iterdir()
            if path not in spare and is_own_recording(path)
        ),
        key=lambda path: path.stat().st_mtime,
        reverse=True,
    )
    doomed = own[max_count:] if max_count else []
    if max_age_days:
        cutoff = now - max_age_days * 86400
        doomed += [
            path
            for path in own[: len(own) - len(doomed)]
            if path.stat().st_mtime < cutoff
        ]
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


class CallRecording:
    """Writes one call to a stereo WAV: left what the caller sent, right what Home Assistant sent."""

    def __init__(self, hass: HomeAssistant, media: MediaSession, path: Path) -> None:
        """Prepare; nothing is written before start()."""
        self.hass = hass
        self.path = path
        self._media = media
        self._left = bytearray()
        self._right = bytearray()
        self._frames = 0
        self._wav: wave.Wave_write | None = None
        self._untap: Callable[[], None] = lambda: None
        self._flusher: asyncio.Task[None] | None = None
        self._stopped = False

    async def start(self) -> None:
        """Create the file and start taking both directions' frames."""
        self._wav = await self.hass.async_add_executor_job(_open_wav, self.path)
        self._untap = self._media.add_tap(self._on_tick)
        self._flusher = self.hass.async_create_background_task(
            self._flush_periodically(), f"{DOMAIN} recording flush"
        )

    @callback
    def _on_tick(self, received: bytes | None, sent: bytes | None) -> None:
        """Keep this tick's frames (silence where a direction had none)."""
        if self._frames >= MAX_SECONDS * 50:
            return
        self._frames += 1
        self._left += received or _SILENCE
        self._right += sent or _SILENCE

    async def _flush_periodically(self) -> None:
        """Write what has gathered every second, so a crash loses at most a second."""
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            await self._flush()

    async def _flush(self) -> None:
        """Interleave the gathered frames and append them to the file."""
        if not self._left or self._wav is None:
            return
        left = np.frombuffer(self._left, dtype="<i2")
        right = np.frombuffer(self._right, dtype="<i2")
        stereo = np.empty(left.size * 2, dtype="<i2")
        stereo[0::2] = left
        stereo[1::2] = right
        self._left = bytearray()
        self._right = bytearray()
        await self.hass.async_add_executor_job(self._wav.writeframes, stereo.tobytes())

    async def stop(self) -> Path:
        """Stop taking frames, write the rest and close the file; return its path."""
        if self._stopped:
            return self.path
        self._stopped = True
        self._untap()
        if self._flusher is not None:
            self._flusher.cancel()
            await asyncio.gather(self._flusher, return_exceptions=True)
        await self._flush()
        if self._wav is not None:
            await self.hass.async_add_executor_job(self._wav.close)
        return self.path


def _open_wav(path: Path) -> wave.Wave_write:
    """Create the folder and a 16-bit stereo 8 kHz WAV file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wav = wave.open(str(path), "wb")  # noqa: SIM115 - closed by CallRecording.stop
    wav.setnchannels(2)
    wav.setsampwidth(2)
    wav.setframerate(CLOCK_RATE)
    return wav


class CallRecorder:
    """Records the entry's calls on request or all of them, and keeps the folder within limits."""

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry, manager: CallManager
    ) -> None:
        """Record the calls of the entry's call manager."""
        self.hass = hass
        self._entry = entry
        self._manager = manager
        self._recordings: dict[str, CallRecording] = {}

    @property
    def record_all(self) -> bool:
        """Return whether every call is recorded."""
        return bool(
            self._entry.options.get(CONF_RECORD_ALL_CALLS, DEFAULT_RECORD_ALL_CALLS)
        )

    def is_recording(self, call_id: str) -> bool:
        """Tell whether a call is being recorded."""
        return call_id in self._recordings

    @callback
    def async_call_answered(self, call_id: str) -> None:
        """Start recording a call that just connected, if every call is recorded."""
        if self.record_all:
            self._entry.async_create_task(
                self.hass,
                self._start_quietly(self._manager.get_call(call_id)),
                f"{DOMAIN} start recording",
                eager_start=False,
            )

    @callback
    def async_call_ended(self, call_id: str) -> None:
        """Finish the recording of a call that ended, if it had one."""
        if (recording := self._recordings.pop(call_id, None)) is not None:
            self._entry.async_create_task(
                self.hass,
                self._finish(recording),
                f"{DOMAIN} finish recording",
                eager_start=False,
            )

    async def _start_quietly(self, call: Call) -> None:
        """Start recording a call, logging instead of raising (nobody waits for it)."""
        try:
            await self._start(call)
        except CallError:
            _LOGGER.debug("Call %s ended before its recording started", call.call_id)
        except OSError as err:
            _LOGGER.error("Cannot record call %s: %s", call.call_id, err)

    async def async_start(self, call_id: str | None = None) -> Path:
        """Start recording the connected call (the current one without an id); return the file."""
        call = self._manager.get_call(call_id)
        self._manager.media_of(call.call_id)  # raises unless connected
        try:
            return await self._start(call)
        except OSError as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="recording_failed",
                translation_placeholders={"error": str(err)},
            ) from err

    async def _start(self, call: Call) -> Path:
        """Start a recording of a connected call, or return the running one."""
        if (running := self._recordings.get(call.call_id)) is not None:
            return running.path
        media = self._manager.media_of(call.call_id)
        path = recordings_dir(self.hass) / recording_name(call, dt_util.now())
        recording = CallRecording(self.hass, media, path)
        self._recordings[call.call_id] = recording
        try:
            await recording.start()
        except OSError:
            del self._recordings[call.call_id]
            raise
        return path

    async def async_stop(self, call_id: str | None = None) -> Path:
        """Stop recording a call (the current one without an id); return the file."""
        call = self._manager.get_call(call_id)
        if call.call_id not in self._recordings:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="not_recording"
            )
        return await self._finish(self._recordings.pop(call.call_id))

    async def _finish(self, recording: CallRecording) -> Path:
        """Close a recording taken out of the running ones, then apply retention."""
        path = await recording.stop()
        await self.async_apply_retention()
        return path

    async def async_apply_retention(self) -> list[Path]:
        """Delete what the retention settings no longer keep; never a running recording."""
        options = self._entry.options
        days = int(
            options.get(CONF_RECORDING_RETENTION_DAYS, DEFAULT_RECORDING_RETENTION_DAYS)
        )
        count = int(
            options.get(
                CONF_RECORDING_RETENTION_COUNT, DEFAULT_RECORDING_RETENTION_COUNT
            )
        )
        running = frozenset(recording.path for recording in self._recordings.values())
        deleted = await self.hass.async_add_executor_job(
            partial(
                apply_retention,
                recordings_dir(self.hass),
                max_age_days=days,
                max_count=count,
                now=time.time(),
                spare=running,
            )
        )
        if deleted:
            _LOGGER.debug("Retention deleted %s recording(s)", len(deleted))
        return deleted

    async def async_close(self) -> None:
        """Finish every running recording (all taken at once, before the calls are hung up)."""
        recordings = list(self._recordings.values())
        self._recordings.clear()
        await asyncio.gather(*(recording.stop() for recording in recordings))
