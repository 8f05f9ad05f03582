"""Which loaded entry an action or a WebSocket message targets: by entry, device or entity, or the only one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er

from .const import ATTR_CONFIG_ENTRY_ID, DOMAIN
from .data import CloudSipUaConfigEntry

ATTR_DEVICE_ID = "device_id"
ATTR_ENTITY_ID = "entity_id"


def _refuse(key: str) -> ServiceValidationError:
    """Return the error that says why no entry is targeted (its key doubles as a WebSocket code)."""
    return ServiceValidationError(translation_domain=DOMAIN, translation_key=key)


def _entry_id_of_target(hass: HomeAssistant, data: Mapping[str, Any]) -> str | None:
    """Return the entry id named directly or through a device or an entity of ours."""
    if entity_id := data.get(ATTR_ENTITY_ID):
        entity = er.async_get(hass).async_get(entity_id)
        if entity is None or entity.platform != DOMAIN:
            raise _refuse("entity_not_found")
        return entity.config_entry_id
    if device_id := data.get(ATTR_DEVICE_ID):
        device = dr.async_get(hass).async_get(device_id)
        ours = {entry.entry_id for entry in hass.config_entries.async_entries(DOMAIN)}
        if device is None or device.config_entry_id not in ours:
            raise _refuse("device_not_found")
        return device.config_entry_id
    entry_id: str | None = data.get(ATTR_CONFIG_ENTRY_ID)
    return entry_id


def target_entry(hass: HomeAssistant, data: Mapping[str, Any]) -> CloudSipUaConfigEntry:
    """Return the loaded entry `data` targets (config_entry_id, device_id or entity_id).

    Without a target, the only loaded entry; ServiceValidationError naming what is wrong.
    """
    entry_id = _entry_id_of_target(hass, data)
    loaded: list[CloudSipUaConfigEntry] = hass.config_entries.async_loaded_entries(
        DOMAIN
    )
    if entry_id is None:
        if len(loaded) != 1:
            raise _refuse("entry_required")
        return loaded[0]
    for entry in loaded:
        if entry.entry_id == entry_id:
            return entry
    other = hass.config_entries.async_get_entry(entry_id)
    raise _refuse(
        "entry_not_loaded" if other and other.domain == DOMAIN else "entry_not_found"
    )
