"""The intercom controller: what happens on a ring or an answer (Assist, recording), in one place.

Entities show its state and forward the user's intent; the policy (Assist answers incoming calls,
Assist runs on every connected call, every call is recorded, satellites ask on a ring) is decided
here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
import logging

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval

from ..cloudsipua.call_manager import CallManager
from ..cloudsipua.calls import CallDirection, CallEvent, CallEventType, CallState
from ..cloudsipua.exceptions import CallError, CloudSipUaError
from ..const import DOMAIN
from .assist_session import AssistHost, CallAssistant
from .recording import CallRecorder
from .satellite_relay import (
    DoorSettings,
    SatelliteDoor,
    door_settings,
    usable_satellites,
)

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
        self._door_settings = door_settings(entry.options)
        self._doors: dict[str, tuple[SatelliteDoor, asyncio.Task[None]]] = {}

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
        entry.async_on_unload(self._async_stop_doors)
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

    # ---- answering the door from satellites -----------------------------------------------

    @callback
    def async_door_on_satellites(
        self, satellites: Sequence[str], call_id: str | None = None
    ) -> str:
        """Ask on the satellites while the call rings, relay once connected; return its id.

        CallError unless the call rings or is connected, or when none of the satellites can
        announce and ask questions.
        """
        call = self._manager.get_call(call_id)
        if call.state not in (CallState.RINGING, CallState.CONNECTED):
            raise CallError("not_ringing", "The call neither rings nor is connected")
        if not usable_satellites(self.hass, satellites):
            raise CallError("no_satellite", "No satellite can announce and ask")
        if (running := self._doors.pop(call.call_id, None)) is not None:
            running[1].cancel()
        door = SatelliteDoor(
            self.hass, self._manager, call.call_id, satellites, self._door_settings
        )
        if call.state is CallState.CONNECTED:
            door.call_connected()
        task = self._entry.async_create_background_task(
            self.hass, self._async_run_door(door), f"{DOMAIN} satellites"
        )
        self._doors[call.call_id] = (door, task)
        return call.call_id

    @property
    def door_settings(self) -> DoorSettings:
        """Return the options of answering the door from satellites."""
        return self._door_settings

    @property
    def door_calls(self) -> list[str]:
        """Return the ids of the calls satellites are on."""
        return list(self._doors)

    def door_of(self, call_id: str) -> SatelliteDoor | None:
        """Return the satellite flow running on a call, if any."""
        found = self._doors.get(call_id)
        return None if found is None else found[0]

    async def _async_run_door(self, door: SatelliteDoor) -> None:
        """Run a flow and forget it when it ends."""
        try:
            await door.run()
        except CloudSipUaError as err:
            _LOGGER.debug("Satellites on call %s: %s", door.call_id, err)
        finally:
            if (found := self._doors.get(door.call_id)) is not None and found[
                0
            ] is door:
                del self._doors[door.call_id]

    async def _async_stop_doors(self) -> None:
        """End every flow (the entry unloads)."""
        tasks = [task for _door, task in self._doors.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # ---- the policy ------------------------------------------------------------------------

    @callback
    def _on_call_event(self, event: CallEvent) -> None:
        """Answer and assist when set to, record when set to; end both with the call."""
        call = event.call
        if event.type is CallEventType.RING:
            if call.direction is not CallDirection.INCOMING:
                return
            if self._assist_answers:
                self._entry.async_create_background_task(
                    self.hass,
                    self.async_answer(call.call_id),
                    f"{DOMAIN} assist answer",
                )
            elif self._door_settings.satellites:
                self._ring_satellites(call.call_id)
        elif event.type is CallEventType.ANSWERED:
            if self._assist_answers:
                self.async_start_assist(call.call_id)
            if (door := self.door_of(call.call_id)) is not None:
                door.call_connected()
            self.recorder.async_call_answered(call.call_id)
        elif event.type is CallEventType.HUNG_UP:
            if call.call_id == self._session_call_id:
                self.async_stop_assist()
            self.recorder.async_call_ended(call.call_id)
        if not call.active and (running := self._doors.pop(call.call_id, None)):
            running[1].cancel()

    def _ring_satellites(self, call_id: str) -> None:
        """Ask on the satellites of the options (a missing satellite is logged, not raised)."""
        try:
            self.async_door_on_satellites(self._door_settings.satellites, call_id)
        except CallError as err:
            _LOGGER.warning("Satellites cannot take call %s: %s", call_id, err)

    async def async_answer(self, call_id: str) -> None:
        """Pick up a ringing call for Assist (failures are logged: nobody waits for this)."""
        try:
            await self._manager.answer(call_id)
        except CloudSipUaError as err:
            _LOGGER.warning("Assist could not answer call %s: %s", call_id, err)
