"""Actions: place, answer, ring back, hang up and send DTMF."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
import re
from typing import Any

import probatio

from homeassistant.auth.permissions.const import POLICY_CONTROL
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr

from .cloudsipua.call_manager import CallManager
from .cloudsipua.calls import Call
from .cloudsipua.models import PLACE_CODECS, Codec
from .cloudsipua.requests import destination_to_uri
from .const import (
    ATTR_CALL_ID,
    ATTR_CALLER_ID,
    ATTR_CONFIG_ENTRY_ID,
    ATTR_DESTINATION,
    ATTR_DIGITS,
    ATTR_DURATION,
    CONF_CODEC,
    CONF_DOMAIN,
    DOMAIN,
)
from .data import CloudSipUaConfigEntry
from .errors import translate_errors
from .permissions import place_call_permission, requires_permission

SERVICE_PLACE_CALL = "place_call"
SERVICE_ANSWER = "answer"
SERVICE_SEND_RINGBACK = "send_ringback"
SERVICE_HANG_UP = "hang_up"
SERVICE_SEND_DTMF = "send_dtmf"
ATTR_DEVICE_ID = "device_id"

TARGET_FIELDS = {
    probatio.Exclusive(ATTR_CONFIG_ENTRY_ID, "target"): cv.string,
    probatio.Exclusive(ATTR_DEVICE_ID, "target"): cv.string,
    probatio.Optional(ATTR_CALL_ID): cv.string,
}
CALL_SCHEMA = probatio.Schema(TARGET_FIELDS)
PLACE_CALL_SCHEMA = probatio.Schema(
    {
        **TARGET_FIELDS,
        probatio.Required(ATTR_DESTINATION): probatio.All(
            cv.string, probatio.Length(min=1, max=256)
        ),
        probatio.Optional(ATTR_CALLER_ID): probatio.All(
            cv.string, probatio.Length(min=1, max=64)
        ),
        probatio.Optional(CONF_CODEC): probatio.In(
            [codec.value for codec in PLACE_CODECS]
        ),
    }
)
DTMF_DIGITS = re.compile(r"[0-9*#A-Da-d]{1,32}")
SEND_DTMF_SCHEMA = probatio.Schema(
    {
        **TARGET_FIELDS,
        # Checked by the action, which can say what is wrong in the user's language.
        probatio.Required(ATTR_DIGITS): cv.string,
        probatio.Optional(ATTR_DURATION, default=100): probatio.All(
            probatio.Coerce(int), probatio.Range(min=40, max=2000)
        ),
    }
)


def entry_for_call(hass: HomeAssistant, call: ServiceCall) -> CloudSipUaConfigEntry:
    """Find the loaded entry the action targets: by entry, by device, or the only one."""
    entry_id: str | None = call.data.get(ATTR_CONFIG_ENTRY_ID)
    if device_id := call.data.get(ATTR_DEVICE_ID):
        device = dr.async_get(hass).async_get(device_id)
        owners = [
            entry.entry_id
            for entry in hass.config_entries.async_entries(DOMAIN)
            if device is not None and entry.entry_id == device.config_entry_id
        ]
        if not owners:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="device_not_found"
            )
        entry_id = owners[0]
    entries = hass.config_entries.async_loaded_entries(DOMAIN)
    if entry_id is None:
        if len(entries) != 1:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="entry_required"
            )
        return entries[0]
    for entry in entries:
        if entry.entry_id == entry_id:
            return entry
    other = hass.config_entries.async_get_entry(entry_id)
    key = "entry_not_loaded" if other and other.domain == DOMAIN else "entry_not_found"
    raise ServiceValidationError(translation_domain=DOMAIN, translation_key=key)


def _call_action(
    action: Callable[[CallManager, ServiceCall], Awaitable[Call]],
) -> Callable[[ServiceCall], Coroutine[Any, Any, ServiceResponse]]:
    """Wrap an action: find the entry, run it with translated errors, return the call id."""

    async def handle(service_call: ServiceCall) -> ServiceResponse:
        entry = entry_for_call(service_call.hass, service_call)
        async with translate_errors(service_call.hass, entry):
            call = await action(entry.runtime_data.manager, service_call)
        return {ATTR_CALL_ID: call.call_id}

    return handle


async def _place_call(manager: CallManager, service_call: ServiceCall) -> Call:
    """Dial the destination, a number or a SIP URI."""
    data: dict[str, Any] = service_call.data
    domain = entry_for_call(service_call.hass, service_call).data[CONF_DOMAIN]
    uri = destination_to_uri(data[ATTR_DESTINATION], domain)
    codec = Codec(data[CONF_CODEC]) if CONF_CODEC in data else None
    return await manager.place_call(
        uri, source_user=data.get(ATTR_CALLER_ID), codec=codec
    )


async def _send_dtmf(manager: CallManager, service_call: ServiceCall) -> Call:
    """Send the digits."""
    data = service_call.data
    if not DTMF_DIGITS.fullmatch(data[ATTR_DIGITS]):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_digits",
            translation_placeholders={"digits": data[ATTR_DIGITS]},
        )
    return await manager.send_dtmf(
        data[ATTR_DIGITS].upper(),
        duration_ms=data[ATTR_DURATION],
        call_id=data.get(ATTR_CALL_ID),
    )


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions."""

    def register(
        name: str,
        handler: Callable[[ServiceCall], Coroutine[Any, Any, ServiceResponse]],
        schema: probatio.Schema,
        supports_response: SupportsResponse,
    ) -> None:
        """Register an action that needs control permission (place_call: see its wrapper)."""
        if name != SERVICE_PLACE_CALL:
            handler = requires_permission(POLICY_CONTROL, entry_for_call, handler)
        hass.services.async_register(DOMAIN, name, handler, schema, supports_response)

    register(
        SERVICE_PLACE_CALL,
        place_call_permission(entry_for_call, _call_action(_place_call)),
        PLACE_CALL_SCHEMA,
        SupportsResponse.OPTIONAL,
    )
    register(
        SERVICE_ANSWER,
        _call_action(lambda manager, call: manager.answer(call.data.get(ATTR_CALL_ID))),
        CALL_SCHEMA,
        SupportsResponse.OPTIONAL,
    )
    register(
        SERVICE_SEND_RINGBACK,
        _call_action(
            lambda manager, call: manager.send_ringback(call.data.get(ATTR_CALL_ID))
        ),
        CALL_SCHEMA,
        SupportsResponse.OPTIONAL,
    )
    register(
        SERVICE_HANG_UP,
        _call_action(
            lambda manager, call: manager.hang_up(call.data.get(ATTR_CALL_ID))
        ),
        CALL_SCHEMA,
        SupportsResponse.OPTIONAL,
    )
    register(
        SERVICE_SEND_DTMF,
        _call_action(_send_dtmf),
        SEND_DTMF_SCHEMA,
        SupportsResponse.OPTIONAL,
    )
