"""Answering the door from Assist satellites: ask on a ring, then relay the call half duplex.

The caller's utterances play on the satellite as the caller's own voice (a WAV clip behind a
signed URL, announced with its media id: no transcription); the reply spoken to the satellite
comes back as text and is said into the call with a TTS voice. A short tone tells the caller
that it is their turn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
import contextlib
from dataclasses import dataclass
import io
import logging
import time
from typing import Any
import wave

import numpy as np

from homeassistant.components import tts
from homeassistant.components.assist_satellite import (
    AssistSatelliteAnswer,
    AssistSatelliteEntity,
    AssistSatelliteEntityFeature,
)
from homeassistant.components.assist_satellite.const import (
    DATA_COMPONENT as SATELLITES,
    PREANNOUNCE_URL,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from ..cloudsipua.call_manager import CallManager
from ..cloudsipua.calls import CallState
from ..cloudsipua.exceptions import CloudSipUaError
from ..cloudsipua.media.session import MediaSession
from ..const import CONF_DOOR_CODE, CONF_DOOR_SATELLITES, CONF_DOOR_TTS
from .audio import wav_pcm
from .clips import clip_store, clip_url
from .utterance import UtteranceCutter

_LOGGER = logging.getLogger(__name__)

RELAY_RATE = 16000
# What the satellites say on a ring (their own pipeline's voice and language).
RING_QUESTION = "Someone is at the door"
RING_QUESTION_NAMED = "Someone is at the door: {name}"
ANSWER, REJECT, OPEN_DOOR, HANG_UP = "answer", "reject", "open_door", "hang_up"
_OPEN_DOOR_SENTENCES = ["open [the] door", "let (them|him|her) in", "open it"]
RING_ANSWERS: list[dict[str, Any]] = [
    {"id": ANSWER, "sentences": ["answer [it|the door|the call]", "pick up", "yes"]},
    {
        "id": REJECT,
        "sentences": ["reject [it|the call]", "decline", "ignore [it]", "no"],
    },
    {"id": OPEN_DOOR, "sentences": _OPEN_DOOR_SENTENCES},
]
# Spoken commands during the relay; any other reply is said to the caller.
RELAY_COMMANDS: list[dict[str, Any]] = [
    {"id": OPEN_DOOR, "sentences": _OPEN_DOOR_SENTENCES},
    {"id": HANG_UP, "sentences": ["hang up", "end [the] call"]},
]
# The caller's turn: how long they may stay silent before the person at home is asked anyway.
CALLER_TURN_SECONDS = 20.0
# Rounds in a row in which neither side said anything before the call is ended.
MAX_SILENT_ROUNDS = 3
# From answering to media up: the cloud's callAnswered normally takes well under a second.
CONNECT_TIMEOUT = 15.0
DOOR_CODE_DURATION_MS = 160
# "Your turn": a short beep, quieter than speech.
TURN_TONE_HZ = 1500.0
TURN_TONE_SECONDS = 0.15
TURN_TONE_LEVEL = 0.3
_TTS_OPTIONS = {
    tts.ATTR_PREFERRED_FORMAT: "wav",
    tts.ATTR_PREFERRED_SAMPLE_RATE: RELAY_RATE,
    tts.ATTR_PREFERRED_SAMPLE_CHANNELS: 1,
    tts.ATTR_PREFERRED_SAMPLE_BYTES: 2,
}


@dataclass(frozen=True, slots=True)
class DoorSettings:
    """The options of answering the door from satellites."""

    satellites: tuple[str, ...] = ()
    door_code: str | None = None
    tts_engine: str | None = None


def door_settings(options: Mapping[str, Any]) -> DoorSettings:
    """Read the entry's options."""
    return DoorSettings(
        satellites=tuple(options.get(CONF_DOOR_SATELLITES) or ()),
        door_code=options.get(CONF_DOOR_CODE) or None,
        tts_engine=options.get(CONF_DOOR_TTS) or None,
    )


def usable_satellites(
    hass: HomeAssistant, entity_ids: Sequence[str]
) -> list[AssistSatelliteEntity]:
    """Return the satellites among `entity_ids` that can announce and ask questions."""
    if (component := hass.data.get(SATELLITES)) is None:
        return []
    needed = (
        AssistSatelliteEntityFeature.ANNOUNCE
        | AssistSatelliteEntityFeature.START_CONVERSATION
    )
    found: list[AssistSatelliteEntity] = []
    for entity_id in entity_ids:
        entity = component.get_entity(entity_id)
        if entity is not None and (entity.supported_features or 0) & needed == needed:
            found.append(entity)
    return found


def turn_tone() -> bytes:
    """Return the "your turn" beep at the relay rate, faded in and out against clicks."""
    t = np.arange(int(TURN_TONE_SECONDS * RELAY_RATE)) / RELAY_RATE
    envelope = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.01)
    wave_ = np.sin(2 * np.pi * TURN_TONE_HZ * t) * envelope * TURN_TONE_LEVEL
    pcm: bytes = (wave_ * 32767).astype("<i2").tobytes()
    return pcm


def wav_clip(pcm: bytes, rate: int = RELAY_RATE) -> bytes:
    """Wrap 16-bit mono PCM in a WAV container."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm)
    return out.getvalue()


@dataclass(slots=True)
class RelayTimings:
    """When things happened in the relay (time.monotonic()), for the latency benchmark."""

    # The last loud frame of each relayed utterance, as it left the jitter buffer.
    utterance_ends: list[float]
    # When each reply's text came back from the satellite.
    replies: list[float]


class SatelliteDoor:
    """One call on the satellites: the question on a ring, then the relay until the call ends."""

    def __init__(
        self,
        hass: HomeAssistant,
        manager: CallManager,
        call_id: str,
        satellites: Sequence[str],
        settings: DoorSettings,
    ) -> None:
        """Take the call and the satellites' entity ids; nothing runs before run()."""
        self._hass = hass
        self._manager = manager
        self.call_id = call_id
        self._satellites = tuple(satellites)
        self._settings = settings
        self._connected = asyncio.Event()
        self.satellite: str | None = None
        self.timings = RelayTimings([], [])

    def call_connected(self) -> None:
        """Tell the flow that the call it answered is up."""
        self._connected.set()

    async def run(self) -> None:
        """Ask while the call rings, then relay on the satellite that answered."""
        satellites = usable_satellites(self._hass, self._satellites)
        if not satellites:
            _LOGGER.warning("None of %s can announce and ask", self._satellites)
            return
        call = self._manager.get_call(self.call_id)
        satellite = satellites[0]
        if call.state is CallState.RINGING:
            decision = await self._ask_on_ring(satellites, call.remote_party)
            if decision is None:
                return
            choice, satellite = decision
            if not await self._act_on_ring(choice):
                return
        self.satellite = satellite.entity_id
        await self._relay(satellite)

    # ---- the ring --------------------------------------------------------------------------

    async def _ask_on_ring(
        self, satellites: list[AssistSatelliteEntity], caller: str | None
    ) -> tuple[str, AssistSatelliteEntity] | None:
        """Ask every satellite at once; the first that hears a known answer decides."""
        question = RING_QUESTION_NAMED.format(name=caller) if caller else RING_QUESTION
        asking = {
            asyncio.ensure_future(
                satellite.async_internal_ask_question(
                    question=question, preannounce=True, answers=RING_ANSWERS
                )
            ): satellite
            for satellite in satellites
        }
        pending = set(asking)
        try:
            while pending:
                done, pending = await asyncio.wait(
                    pending, return_when=asyncio.FIRST_COMPLETED
                )
                for task in done:
                    answer = _answer_of(task)
                    if answer is not None and answer.id is not None:
                        return answer.id, asking[task]
            return None
        finally:
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _act_on_ring(self, choice: str) -> bool:
        """Reject, or answer (and open the door); return whether to relay."""
        try:
            if choice == REJECT:
                await self._manager.hang_up(self.call_id)
                return False
            await self._manager.answer(self.call_id)
            async with asyncio.timeout(CONNECT_TIMEOUT):
                await self._connected.wait()
        except (CloudSipUaError, TimeoutError) as err:
            _LOGGER.warning("Could not %s call %s: %s", choice, self.call_id, err)
            return False
        if choice == OPEN_DOOR:
            await self._open_door()
        return True

    # ---- the relay -------------------------------------------------------------------------

    async def _relay(self, satellite: AssistSatelliteEntity) -> None:
        """Take turns until the call ends (its audio stream ends) or someone hangs up."""
        media = self._manager.media_of(self.call_id)
        subscription = media.subscribe(RELAY_RATE)
        cutter = UtteranceCutter(RELAY_RATE)
        utterances: asyncio.Queue[bytes] = asyncio.Queue()
        listening = False

        async def pump() -> None:
            """Cut the caller's audio into utterances while it is their turn."""
            nonlocal listening
            async for frame in subscription:
                if listening and (utterance := cutter.feed(frame)) is not None:
                    listening = False
                    self.timings.utterance_ends.append(time.monotonic())
                    utterances.put_nowait(utterance)

        async def turns() -> None:
            """Caller speaks, the satellite plays it and hears the reply, the caller hears it."""
            nonlocal listening
            silent_rounds = 0
            while silent_rounds < MAX_SILENT_ROUNDS:
                await media.play_audio(turn_tone(), RELAY_RATE)
                cutter.reset()
                listening = True
                utterance: bytes | None = None
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(CALLER_TURN_SECONDS):
                        utterance = await utterances.get()
                listening = False
                answer = await self._ask_home(satellite, utterance)
                if answer is None and utterance is None:
                    silent_rounds += 1
                    continue
                silent_rounds = 0
                if answer is not None and not await self._on_reply(media, answer):
                    return
            _LOGGER.debug("Nobody spoke on call %s: hanging up", self.call_id)
            await self._hang_up()

        listener = asyncio.ensure_future(pump())
        talker = asyncio.ensure_future(turns())
        try:
            await asyncio.wait({listener, talker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            subscription.close()
            for task in (listener, talker):
                task.cancel()
            results = await asyncio.gather(listener, talker, return_exceptions=True)
            for result in results:
                if isinstance(result, Exception):
                    _LOGGER.debug("Relay on call %s ended: %r", self.call_id, result)

    async def _ask_home(
        self, satellite: AssistSatelliteEntity, utterance: bytes | None
    ) -> AssistSatelliteAnswer | None:
        """Play the caller's words (or a chime) on the satellite and return the reply."""
        if utterance is not None:
            clip_id = clip_store(self._hass).add(wav_clip(utterance))
            media_id = clip_url(self._hass, clip_id)
        else:
            media_id = PREANNOUNCE_URL
        try:
            answer = await satellite.async_internal_ask_question(
                question_media_id=media_id, preannounce=False, answers=RELAY_COMMANDS
            )
        except HomeAssistantError as err:
            _LOGGER.debug("No reply on %s: %s", satellite.entity_id, err)
            return None
        self.timings.replies.append(time.monotonic())
        return answer

    async def _on_reply(
        self, media: MediaSession, answer: AssistSatelliteAnswer
    ) -> bool:
        """Act on a command or say the reply to the caller; return whether to go on."""
        if answer.id == HANG_UP:
            await self._hang_up()
            return False
        if answer.id == OPEN_DOOR:
            await self._open_door()
        elif answer.sentence.strip():
            await self._speak(media, answer.sentence)
        return True

    async def _speak(self, media: MediaSession, text: str) -> None:
        """Say the text into the call with the configured (or default) TTS voice."""
        engine = self._settings.tts_engine or tts.async_default_engine(self._hass)
        if engine is None:
            _LOGGER.warning("No text-to-speech to say the reply into the call")
            return
        try:
            data = await async_synthesize(self._hass, engine, text)
        except HomeAssistantError as err:
            _LOGGER.warning("Could not say the reply into the call: %s", err)
            return
        if (decoded := wav_pcm(data)) is None:
            _LOGGER.warning("The TTS voice did not give 16-bit mono WAV")
            return
        await media.play_audio(*decoded)

    async def _open_door(self) -> None:
        """Send the door code as DTMF."""
        if not self._settings.door_code:
            _LOGGER.warning("No door code set: the door stays closed")
            return
        try:
            await self._manager.send_dtmf(
                self._settings.door_code,
                duration_ms=DOOR_CODE_DURATION_MS,
                call_id=self.call_id,
            )
        except CloudSipUaError as err:
            _LOGGER.warning("Could not open the door: %s", err)

    async def _hang_up(self) -> None:
        """End the call."""
        try:
            await self._manager.hang_up(self.call_id)
        except CloudSipUaError as err:
            _LOGGER.debug("Hang-up of call %s: %s", self.call_id, err)


async def async_synthesize(hass: HomeAssistant, engine: str, text: str) -> bytes:
    """Return the text said by the TTS engine, asked for as 16 kHz 16-bit mono WAV."""
    stream = tts.async_create_stream(hass, engine, options=_TTS_OPTIONS)
    stream.async_set_message(text)
    return b"".join([chunk async for chunk in stream.async_stream_result()])


def _answer_of(
    task: asyncio.Future[AssistSatelliteAnswer | None],
) -> AssistSatelliteAnswer | None:
    """Return a satellite's answer, None when it had none (no reply, busy, gone)."""
    try:
        return task.result()
    except HomeAssistantError as err:
        _LOGGER.debug("A satellite gave no answer: %s", err)
        return None
