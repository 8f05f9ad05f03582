"""The "Assist answers calls" switch: Assist picks up incoming calls and talks to the caller."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import STATE_ON, EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity

from .data import CloudSipUaConfigEntry, assist_enabled
from .entity import CloudSipUaEntity
from .intercom.controller import IntercomController

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
    async_add_entities(
        [AssistAnswersSwitch(entry, ASSIST_ANSWERS, entry.runtime_data.intercom)]
    )


class AssistAnswersSwitch(CloudSipUaEntity, SwitchEntity, RestoreEntity):
    """On: incoming calls are answered and Assist runs on every connected call."""

    def __init__(
        self,
        entry: CloudSipUaConfigEntry,
        description: SwitchEntityDescription,
        intercom: IntercomController,
    ) -> None:
        """Show and set the intercom's Assist setting."""
        super().__init__(entry, description)
        self._intercom = intercom

    @property
    def is_on(self) -> bool:
        """Return whether Assist answers calls."""
        return self._intercom.assist_answers

    async def async_added_to_hass(self) -> None:
        """Restore the last setting."""
        await super().async_added_to_hass()
        if (last := await self.async_get_last_state()) is not None:
            self._intercom.async_restore_assist_answers(last.state == STATE_ON)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Let Assist answer, starting with a call that is already connected."""
        self._intercom.async_set_assist_answers(True)
        self.async_write_ha_state()

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop answering with Assist; a running conversation ends too."""
        self._intercom.async_set_assist_answers(False)
        self.async_write_ha_state()
