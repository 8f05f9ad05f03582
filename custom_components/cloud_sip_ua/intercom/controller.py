"""The intercom controller: what happens on a ring or an answer (Assist, recording), in one place.

Entities show its state and forward the user's intent; the policy (Assist answers incoming calls,
Assist runs on every connected call, every call is recorded) is decided here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
import logging

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval

from ..cloudsipua.call_manager import CallManager
from ..cloudsipua.calls import CallDirection, CallEvent, CallEventType, CallState
from ..cloudsipua.exceptions import CloudSipUaError
from ..const import DOMAIN
from .assist_session import AssistHost, CallAssistant
from .recording import CallRecorder

_LOGGER = logging.getLogger(__name__)

RETENTION_INTERVAL = timedelta(hours=6)

type Listener = Callable[[], None]


class IntercomController:
    """The entry's intercom: Assist sessions on calls, recordings, and when each starts."""

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry, manager: CallManager
    ) -> None:
        """Take the entry's call manager; nothing runs before async_start."""
        self.hass = hass
        self._entry = entry
        self._manager = manager
        self.recorder = CallRecorder(hass, entry, manager)
        self._assist_answers = False
        self._host: AssistHost | None = None
        self._assistant: CallAssistant | None = None
        self._session_task: asyncio.Task[None] | None = None
        self._session_call_id: str | None = None
        self._listeners: list[Listener] = []

    async def async_start(self) -> None:
        """Follow the calls until the entry unloads; recordings end before calls are hung up."""
        entry = self._entry
        entry.async_on_unload(self._manager.add_listener(self._on_call_event))
        entry.async_on_unload(
            async_track_time_interval(
                self.hass, self._async_retention, RETENTION_INTERVAL
            )
        )
        entry.async_on_unload(self.recorder.async_close)
        await self.recorder.async_apply_retention()

    async def _async_retention(self, _now: datetime) -> None:
        """Apply the retention settings (periodically)."""
        await self.recorder.async_apply_retention()

    # ---- what entities show --------------------------------------------------------------

    @callback
    def async_add_listener(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` whenever what the controller shows changes; return its remover."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _changed(self) -> None:
        """Tell the listeners."""
        for listener in list(self._listeners):
            listener()

    @property
    def assist_answers(self) -> bool:
        """Return whether Assist answers incoming calls and runs on every connected call."""
        return self._assist_answers

    @property
    def assistant(self) -> CallAssistant | None:
        """Return the running Assist session, if any."""
        return self._assistant

    @property
    def session_call_id(self) -> str | None:
        """Return the id of the call Assist runs on."""
        return self._session_call_id

    @property
    def assist_active(self) -> bool:
        """Return whether Assist is running on a call."""
        return self._session_task is not None

    # ---- what entities forward -----------------------------------------------------------

    @callback
    def async_attach_assist(self, host: AssistHost) -> Callable[[], None]:
        """Run Assist turns through `host` (the satellite) until the returned function is called."""
        self._host = host

        @callback
        def detach() -> None:
            if self._host is host:
                self._host = None
                self.async_stop_assist()

        return detach

    @callback
    def async_restore_assist_answers(self, on: bool) -> None:
        """Take the setting back from before a restart (nothing starts)."""
        self._assist_answers = on
        self._changed()

    @callback
    def async_set_assist_answers(self, on: bool) -> None:
        """Let Assist answer (starting on a call already connected), or stop it answering."""
        self._assist_answers = on
        call = self._manager.current_call
        if not on:
            self.async_stop_assist()
        elif call is not None and call.state is CallState.CONNECTED:
            self.async_start_assist(call.call_id)
        self._changed()

    @callback
    def async_start_assist(
        self, call_id: str | None = None, *, continuous: bool = True
    ) -> str:
        """Run Assist on the connected call until it ends; return its id (CallError if none)."""
        media = self._manager.media_of(call_id)
        call = self._manager.get_call(call_id)
        if self._assistant is not None and self._session_call_id == call.call_id:
            self._assistant.continuous |= continuous
            return call.call_id
        if self._host is None:
            _LOGGER.debug("No Assist satellite to run on call %s", call.call_id)
            return call.call_id
        self.async_stop_assist()
        assistant = CallAssistant(self._host, media, continuous=continuous)
        self._assistant = assistant
        self._session_call_id = call.call_id
        self._session_task = self._entry.async_create_background_task(
            self.hass, self._async_run_session(assistant), f"{DOMAIN} assist"
        )
        self._changed()
        return call.call_id

    @callback
    def async_stop_assist(self) -> str | None:
        """Stop Assist (the call goes on); return the id of the call it ran on, if any."""
        call_id = self._session_call_id
        if self._assistant is not None:
            self._assistant.stop()
        return call_id

    async def async_wait_assist(self) -> None:
        """Wait until a stopped session has ended."""
        if (task := self._session_task) is not None:
            await asyncio.gather(task, return_exceptions=True)

    async def _async_run_session(self, assistant: CallAssistant) -> None:
        """Run a session and forget it when it ends."""
        try:
            await assistant.run()
        finally:
            if self._assistant is assistant:
                self._assistant = None
                self._session_task = None
                self._session_call_id = None
                self._changed()

    # ---- the policy ------------------------------------------------------------------------

    @callback
    def _on_call_event(self, event: CallEvent) -> None:
        """Answer and assist when set to, record when set to; end both with the call."""
        call = event.call
        if event.type is CallEventType.RING:
            if self._assist_answers and call.direction is CallDirection.INCOMING:
                self._entry.async_create_background_task(
                    self.hass,
                    self.async_answer(call.call_id),
                    f"{DOMAIN} assist answer",
                )
        elif event.type is CallEventType.ANSWERED:
            if self._assist_answers:
                self.async_start_assist(call.call_id)
            self.recorder.async_call_answered(call.call_id)
        elif event.type is CallEventType.HUNG_UP:
            if call.call_id == self._session_call_id:
                self.async_stop_assist()
            self.recorder.async_call_ended(call.call_id)

    async def async_answer(self, call_id: str) -> None:
        """Pick up a ringing call for Assist (failures are logged: nobody waits for this)."""
        try:
            await self._manager.answer(call_id)
        except CloudSipUaError as err:
            _LOGGER.warning("Assist could not answer call %s: %s", call_id, err)
