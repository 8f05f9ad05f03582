"""Selects of the device: the Assist pipeline for calls and how soon a caller's sentence ends."""

from __future__ import annotations

from homeassistant.components.assist_pipeline.select import (
    AssistPipelineSelect,
    VadSensitivitySelect,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .data import CloudSipUaConfigEntry, assist_enabled
from .entity import entry_device_info

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CloudSipUaConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the pipeline and end-of-speech sensitivity selects (with Assist on calls)."""
    if not assist_enabled(entry.options):
        return
    async_add_entities(
        [CallPipelineSelect(hass, entry), CallVadSensitivitySelect(hass, entry)]
    )


class CallPipelineSelect(AssistPipelineSelect):
    """The Assist pipeline that answers calls (Assist's own select, on our device)."""

    _attr_has_entity_name = True

    def __init__(self, hass: HomeAssistant, entry: CloudSipUaConfigEntry) -> None:
        """Attach Assist's pipeline select to the entry's device."""
        super().__init__(hass, DOMAIN, str(entry.unique_id))
        self._attr_device_info = entry_device_info(entry)


class CallVadSensitivitySelect(VadSensitivitySelect):
    """How long a pause ends the caller's sentence (Assist's own select, on our device)."""

    _attr_has_entity_name = True

    def __init__(self, hass: HomeAssistant, entry: CloudSipUaConfigEntry) -> None:
        """Attach Assist's sensitivity select to the entry's device."""
        super().__init__(hass, str(entry.unique_id))
        self._attr_device_info = entry_device_info(entry)
