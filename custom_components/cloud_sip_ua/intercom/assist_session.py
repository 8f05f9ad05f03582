"""Assist on one connected call: wait for speech, run the pipeline, speak the reply, allow barge-in."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator
import contextlib
from dataclasses import dataclass
import logging
from typing import Protocol

from ..cloudsipua.media.session import MediaSession
from .speech import SpeechDetector

_LOGGER = logging.getLogger(__name__)

LISTEN_RATE = 16000
# Audio kept from before speech was detected, so the command's first syllable reaches STT.
PRE_ROLL_FRAMES = 30
# A doorstep visitor answers a question within this long, or is gone.
ANSWER_TIMEOUT = 8.0
# A single turn (STT, agent, TTS synthesis) that takes longer than this has hung.
TURN_TIMEOUT = 60.0


@dataclass(slots=True)
class TurnResult:
    """What one pipeline run produced."""

    tts_media_id: str | None = None
    continue_conversation: bool = False


class AssistHost(Protocol):
    """What the session needs from the satellite entity."""

    async def async_run_turn(self, audio: AsyncIterator[bytes]) -> TurnResult:
        """Run the pipeline on a command and return what it produced."""

    async def async_decode(self, media_id: str) -> tuple[bytes, int]:
        """Decode media to 16-bit mono PCM at a rate the call takes; return it and the rate."""

    def reply_finished(self) -> None:
        """Tell the satellite that its spoken reply has ended."""

    def no_answer(self) -> None:
        """Tell the satellite that nobody spoke when an answer was expected."""


class CallAssistant:
    """Runs Assist turns on a call until the call ends, it is stopped, or (one-shot) the talk ends."""

    def __init__(
        self, host: AssistHost, media: MediaSession, *, continuous: bool
    ) -> None:
        """Attach to the call's media; nothing runs before run()."""
        self._host = host
        self._media = media
        self.continuous = continuous
        self._detector = SpeechDetector()
        self._pre_roll: deque[bytes] = deque(maxlen=PRE_ROLL_FRAMES)
        self._speech = asyncio.Event()
        self._ended = asyncio.Event()
        self._detecting = False
        self._queue: asyncio.Queue[bytes | None] | None = None
        self._speech_pending = False
        self.turns = 0
        self.barge_ins = 0

    async def run(self) -> None:
        """Take the call's audio and hold conversations until there is nothing more to do."""
        subscription = self._media.subscribe(LISTEN_RATE)
        pump = asyncio.create_task(self._pump(subscription))
        try:
            while not self._ended.is_set():
                timeout = None if self.continuous else ANSWER_TIMEOUT
                if not await self._wait_for_speech(timeout):
                    if not self._ended.is_set():
                        self._host.no_answer()
                    return
                result = await self._turn()
                if result.tts_media_id is not None:
                    await self._reply(result.tts_media_id)
                if (
                    not self.continuous
                    and not result.continue_conversation
                    and not self._speech_pending
                ):
                    return
        finally:
            subscription.close()
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump

    async def _pump(self, frames: AsyncIterator[bytes]) -> None:
        """Route every caller frame: pre-roll, the running command, and the speech detector."""
        async for frame in frames:
            self._pre_roll.append(frame)
            if self._queue is not None:
                self._queue.put_nowait(frame)
            # The VAD hears every frame: a model that skipped audio would judge by stale state.
            if self._detector.feed(frame) and self._detecting:
                self._detecting = False
                self._speech.set()
        self._ended.set()
        self._speech.set()
        if self._queue is not None:
            self._queue.put_nowait(None)

    async def _wait_for_speech(self, timeout: float | None) -> bool:
        """Wait until the caller talks; False on timeout or when the call ends."""
        if self._speech_pending:
            self._speech_pending = False
            return True
        self._start_detecting()
        try:
            async with asyncio.timeout(timeout):
                await self._speech.wait()
        except TimeoutError:
            return False
        finally:
            self._detecting = False
        return not self._ended.is_set()

    def _start_detecting(self) -> None:
        """Listen for speech from now on."""
        self._detector.reset()
        self._speech.clear()
        self._detecting = True

    async def _turn(self) -> TurnResult:
        """Stream the command (pre-roll first) into the pipeline and return its result."""
        self.turns += 1
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        for frame in self._pre_roll:
            queue.put_nowait(frame)
        self._queue = queue
        audio = _drain(queue)
        try:
            async with asyncio.timeout(TURN_TIMEOUT):
                return await self._host.async_run_turn(audio)
        except TimeoutError:
            _LOGGER.warning("Assist turn timed out")
            return TurnResult()
        finally:
            self._queue = None
            await audio.aclose()

    async def _reply(self, media_id: str) -> None:
        """Speak the reply into the call; the caller talking over it stops it (barge-in)."""
        try:
            pcm, rate = await self._host.async_decode(media_id)
            self._start_detecting()
            playing = asyncio.ensure_future(self._media.play_audio(pcm, rate))
            interrupted = asyncio.ensure_future(self._speech.wait())
            done, _pending = await asyncio.wait(
                {playing, interrupted}, return_when=asyncio.FIRST_COMPLETED
            )
            if interrupted in done and not playing.done() and not self._ended.is_set():
                self.barge_ins += 1
                self._media.clear_audio()
                self._speech_pending = True
            interrupted.cancel()
            await _settle(playing)
        finally:
            self._detecting = False
            self._host.reply_finished()

    def stop(self) -> None:
        """End the session at the next step (the call goes on)."""
        self._ended.set()
        self._speech.set()
        if self._queue is not None:
            self._queue.put_nowait(None)


async def _drain(queue: asyncio.Queue[bytes | None]) -> AsyncGenerator[bytes]:
    """Yield queued frames until the end marker."""
    while (frame := await queue.get()) is not None:
        yield frame


async def _settle(task: asyncio.Future[None]) -> None:
    """Wait for a play task, ignoring its cancellation and media errors (the call may be gone)."""
    with contextlib.suppress(Exception, asyncio.CancelledError):
        await task
