"""The "Assist answers calls" switch: Assist picks up incoming calls and talks to the caller."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import STATE_ON, EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity

from .cloudsipua.calls import CallState
from .data import CloudSipUaConfigEntry, assist_enabled
from .entity import CloudSipUaEntity
from .intercom import Intercom

PARALLEL_UPDATES = 0

ASSIST_ANSWERS = SwitchEntityDescription(
    key="assist_answers",
    translation_key="assist_answers",
    entity_category=EntityCategory.CONFIG,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CloudSipUaConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the switch (with Assist on calls)."""
    if not assist_enabled(entry.options):
        return
    async_add_entities([AssistAnswersSwitch(entry, ASSIST_ANSWERS)])


class AssistAnswersSwitch(CloudSipUaEntity, SwitchEntity, RestoreEntity):
    """On: incoming calls are answered and Assist runs on every connected call."""

    @property
    def is_on(self) -> bool:
        """Return whether Assist answers calls."""
        return self._intercom.assist_answers

    @property
    def _intercom(self) -> Intercom:
        """Return the entry's intercom (set up before the platforms)."""
        intercom = self._entry.runtime_data.intercom
        assert intercom is not None  # noqa: S101
        return intercom

    async def async_added_to_hass(self) -> None:
        """Restore the last setting."""
        await super().async_added_to_hass()
        if (last := await self.async_get_last_state()) is not None:
            self._intercom.assist_answers = last.state == STATE_ON

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Let Assist answer, starting with a call that is already connected."""
        self._intercom.assist_answers = True
        call = self._manager.current_call
        satellite = self._intercom.satellite
        if (
            call is not None
            and call.state is CallState.CONNECTED
            and satellite is not None
        ):
            satellite.async_start_assist(call.call_id)
        self.async_write_ha_state()

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop answering with Assist; a running conversation ends too."""
        self._intercom.assist_answers = False
        if (satellite := self._intercom.satellite) is not None:
            satellite.async_stop_assist()
        self.async_write_ha_state()
