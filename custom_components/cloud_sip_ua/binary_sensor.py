"""Binary sensor: whether a call is connected."""

from __future__ import annotations

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .cloudsipua.calls import CallState
from .data import CloudSipUaConfigEntry
from .entity import CloudSipUaEntity

PARALLEL_UPDATES = 0

IN_CALL = BinarySensorEntityDescription(key="in_call", translation_key="in_call")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CloudSipUaConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the in-call sensor."""
    async_add_entities([InCallBinarySensor(entry, IN_CALL)])


class InCallBinarySensor(CloudSipUaEntity, BinarySensorEntity):
    """On while a call is connected."""

    @property
    def is_on(self) -> bool:
        """Return True when any call is connected."""
        return any(
            call.state is CallState.CONNECTED for call in self._manager.snapshots()
        )
