"""Sensors: the call state, and RTP quality diagnostics (disabled by default)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .cloudsipua.calls import CallState
from .cloudsipua.media.stats import MediaStats
from .data import CloudSipUaConfigEntry
from .entity import CloudSipUaEntity

PARALLEL_UPDATES = 0
# Only the disabled-by-default RTP diagnostics poll: in-memory counters, no I/O; without a
# connected call they have no value.
SCAN_INTERVAL = timedelta(seconds=5)

CALL_STATE = SensorEntityDescription(
    key="call_state",
    translation_key="call_state",
    device_class=SensorDeviceClass.ENUM,
    options=[state.value for state in CallState],
)

# Attributes safe to show: never replyId, tokens or keys.
_PUBLIC_ATTRIBUTES = (
    "call_id",
    "direction",
    "remote_party",
    "destination",
    "codec",
    "srtp",
    "started_at",
    "answered_at",
)


@dataclass(frozen=True, kw_only=True)
class RtpSensorDescription(SensorEntityDescription):
    """An RTP statistic of the current call."""

    value_fn: Callable[[MediaStats], float | None]


RTP_SENSORS = (
    RtpSensorDescription(
        key="rtp_loss",
        translation_key="rtp_loss",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        suggested_display_precision=1,
        value_fn=lambda stats: (
            100.0 * stats.lost / (stats.lost + stats.packets_received)
            if stats.lost + stats.packets_received
            else 0.0
        ),
    ),
    RtpSensorDescription(
        key="rtp_jitter",
        translation_key="rtp_jitter",
        native_unit_of_measurement=UnitOfTime.MILLISECONDS,
        device_class=SensorDeviceClass.DURATION,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        suggested_display_precision=1,
        value_fn=lambda stats: stats.jitter_ms,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CloudSipUaConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the call state sensor and the RTP diagnostics."""
    async_add_entities(
        [
            CallStateSensor(entry, CALL_STATE),
            *(RtpStatSensor(entry, description) for description in RTP_SENSORS),
        ]
    )


class CallStateSensor(CloudSipUaEntity, SensorEntity):
    """The state of the current call, idle when there is none."""

    @property
    def native_value(self) -> str:
        """Return the current call's state."""
        call = self._manager.current_snapshot()
        return call.state.value if call else CallState.IDLE.value

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the current call's non-secret facts."""
        call = self._manager.current_snapshot()
        facts = call.as_public_dict() if call else {}
        return {key: facts.get(key) for key in _PUBLIC_ATTRIBUTES}


class RtpStatSensor(CloudSipUaEntity, SensorEntity):
    """An RTP statistic of the connected call, polled every SCAN_INTERVAL."""

    _attr_should_poll = True
    entity_description: RtpSensorDescription

    @property
    def native_value(self) -> float | None:
        """Return the statistic, or nothing without a connected call."""
        call = self._manager.current_snapshot()
        if call is None or call.state is not CallState.CONNECTED or call.stats is None:
            return None
        return self.entity_description.value_fn(call.stats)
