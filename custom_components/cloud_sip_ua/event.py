"""Event entities: the doorbell ring, and what happens on calls."""

from __future__ import annotations

from homeassistant.components.event import (
    EventDeviceClass,
    EventEntity,
    EventEntityDescription,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .cloudsipua.calls import CallEvent, CallEventType
from .data import CloudSipUaConfigEntry
from .entity import CloudSipUaEntity

PARALLEL_UPDATES = 0

DOORBELL = EventEntityDescription(
    key="doorbell",
    translation_key="doorbell",
    device_class=EventDeviceClass.DOORBELL,
    event_types=["ring"],
)
CALL_ACTIVITY = EventEntityDescription(
    key="call_activity",
    translation_key="call_activity",
    event_types=["answered", "hung_up", "failed", "remote_ringing", "dtmf"],
)
_ACTIVITY_TYPES = {
    CallEventType.ANSWERED: "answered",
    CallEventType.HUNG_UP: "hung_up",
    CallEventType.FAILED: "failed",
    CallEventType.REMOTE_RINGING: "remote_ringing",
    CallEventType.DTMF: "dtmf",
}


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CloudSipUaConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the event entities."""
    async_add_entities(
        [
            DoorbellEventEntity(entry, DOORBELL),
            CallActivityEventEntity(entry, CALL_ACTIVITY),
        ]
    )


class DoorbellEventEntity(CloudSipUaEntity, EventEntity):
    """Fires `ring` when an incoming call arrives."""

    @callback
    def _async_handle_call_event(self, event: CallEvent) -> None:
        """Fire on ring events only."""
        if event.type is CallEventType.RING:
            call = event.call.snapshot()
            self._trigger_event(
                "ring",
                {
                    "caller": call.remote_party,
                    "destination": call.destination,
                    "call_id": call.call_id,
                },
            )
            self.async_write_ha_state()


class CallActivityEventEntity(CloudSipUaEntity, EventEntity):
    """Fires when a call is answered, ends, fails, rings at the far end, or a digit arrives."""

    @callback
    def _async_handle_call_event(self, event: CallEvent) -> None:
        """Translate call events to event types."""
        if (event_type := _ACTIVITY_TYPES.get(event.type)) is None:
            return
        call = event.call.snapshot()
        attributes: dict[str, str | int | None] = {
            "call_id": call.call_id,
            "direction": call.direction.value,
            "remote_party": call.remote_party,
        }
        if event.type is CallEventType.DTMF:
            attributes |= {"digit": event.digit, "duration_ms": event.duration_ms}
        elif event.type in (CallEventType.HUNG_UP, CallEventType.FAILED):
            attributes |= {
                "reason": call.end_reason.value if call.end_reason else None,
                "sip_status": call.sip_status,
                "sip_reason": call.sip_reason,
            }
        self._trigger_event(event_type, attributes)
        self.async_write_ha_state()
