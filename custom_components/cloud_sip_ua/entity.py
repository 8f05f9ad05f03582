"""The base entity: one device per entry, state pushed by the call manager."""

from __future__ import annotations

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription

from .cloudsipua.calls import CallEvent
from .const import DOMAIN
from .data import CloudSipUaConfigEntry, device_name


def entry_device_info(entry: CloudSipUaConfigEntry) -> DeviceInfo:
    """Return the entry's whole device, so any platform set up first names it."""
    return DeviceInfo(
        identifiers={(DOMAIN, str(entry.unique_id))},
        name=device_name(entry.data),
        manufacturer="iotcomms.io",
        model="Cloud SIP UA",
        entry_type=DeviceEntryType.SERVICE,
    )


class CloudSipUaEntity(Entity):
    """An entity of the entry's device that refreshes on every call event."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(
        self, entry: CloudSipUaConfigEntry, description: EntityDescription
    ) -> None:
        """Attach the entity to the entry's device and call manager."""
        self.entity_description = description
        self._entry = entry
        self._manager = entry.runtime_data.manager
        self._attr_unique_id = f"{entry.unique_id}-{description.key}"
        self._attr_device_info = entry_device_info(entry)

    async def async_added_to_hass(self) -> None:
        """Listen to the call manager."""
        await super().async_added_to_hass()
        self.async_on_remove(self._manager.add_listener(self._async_handle_call_event))

    @callback
    def _async_handle_call_event(self, event: CallEvent) -> None:
        """Write the new state; subclasses react to specific events first."""
        self.async_write_ha_state()
