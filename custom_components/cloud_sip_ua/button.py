"""Buttons: answer, hang up or reject, send ringback."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .cloudsipua.call_manager import CallManager
from .cloudsipua.calls import CallState
from .data import CloudSipUaConfigEntry
from .entity import CloudSipUaEntity
from .errors import translate_errors

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class CloudSipUaButtonDescription(ButtonEntityDescription):
    """A button: what it does and when it makes sense."""

    press_fn: Callable[[CallManager], Awaitable[Any]]
    available_states: frozenset[CallState]


BUTTONS = (
    CloudSipUaButtonDescription(
        key="answer",
        translation_key="answer",
        press_fn=lambda manager: manager.answer(),
        available_states=frozenset({CallState.RINGING}),
    ),
    CloudSipUaButtonDescription(
        key="hang_up",
        translation_key="hang_up",
        press_fn=lambda manager: manager.hang_up(),
        available_states=frozenset(
            {
                CallState.RINGING,
                CallState.DIALING,
                CallState.REMOTE_RINGING,
                CallState.CONNECTED,
            }
        ),
    ),
    CloudSipUaButtonDescription(
        key="send_ringback",
        translation_key="send_ringback",
        press_fn=lambda manager: manager.send_ringback(),
        available_states=frozenset({CallState.RINGING}),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CloudSipUaConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the call buttons."""
    async_add_entities(CloudSipUaButton(entry, description) for description in BUTTONS)


class CloudSipUaButton(CloudSipUaEntity, ButtonEntity):
    """A call action; unavailable when it makes no sense."""

    entity_description: CloudSipUaButtonDescription

    @property
    def available(self) -> bool:
        """Return True when the current call is in a state the button acts on."""
        call = self._manager.current_snapshot()
        return (
            call is not None and call.state in self.entity_description.available_states
        )

    async def async_press(self) -> None:
        """Act on the current call."""
        async with translate_errors(self.hass, self._entry):
            await self.entity_description.press_fn(self._manager)
