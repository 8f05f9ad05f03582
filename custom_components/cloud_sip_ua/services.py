"""Actions: place, answer, ring back, hang up, DTMF; listen, record; Assist; the door on satellites."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
import re
from typing import Any

import probatio

from homeassistant.auth.permissions.const import POLICY_CONTROL, POLICY_READ
from homeassistant.components.assist_satellite import DOMAIN as ASSIST_SATELLITE_DOMAIN
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError, Unauthorized
from homeassistant.helpers import config_validation as cv, service

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
    ATTR_FORMAT,
    ATTR_MEDIA_PLAYER_ENTITY_ID,
    CONF_CODEC,
    CONF_DOMAIN,
    CONF_LISTEN_FORMAT,
    DEFAULT_LISTEN_FORMAT,
    DOMAIN,
)
from .data import CloudSipUaConfigEntry
from .errors import translate_errors
from .intercom.listen import FORMATS, async_listen
from .intercom.recording import recordings_dir
from .permissions import (
    async_check_permission,
    place_call_permission,
    requires_permission,
)
from .target import ATTR_DEVICE_ID, target_entry

SERVICE_PLACE_CALL = "place_call"
SERVICE_ANSWER = "answer"
SERVICE_SEND_RINGBACK = "send_ringback"
SERVICE_HANG_UP = "hang_up"
SERVICE_SEND_DTMF = "send_dtmf"
SERVICE_LISTEN = "listen"
SERVICE_START_RECORDING = "start_recording"
SERVICE_STOP_RECORDING = "stop_recording"
SERVICE_START_ASSIST = "start_assist"
SERVICE_STOP_ASSIST = "stop_assist"
SERVICE_INTERCOM_ON_SATELLITE = "intercom_on_satellite"

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
LISTEN_SCHEMA = probatio.Schema(
    {
        **TARGET_FIELDS,
        probatio.Required(ATTR_MEDIA_PLAYER_ENTITY_ID): cv.entity_ids,
        probatio.Optional(ATTR_FORMAT): probatio.In(FORMATS),
    }
)
# The target names satellites (of any integration); the tenant is named by entry, if at all.
INTERCOM_ON_SATELLITE_SCHEMA = cv.make_entity_service_schema(
    {
        probatio.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
        probatio.Optional(ATTR_CALL_ID): cv.string,
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
    return target_entry(hass, call.data)


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


async def _listen(service_call: ServiceCall) -> ServiceResponse:
    """Play the call on the media players."""
    hass = service_call.hass
    entry = entry_for_call(hass, service_call)
    data = service_call.data
    manager = entry.runtime_data.manager
    fmt = data.get(ATTR_FORMAT) or entry.options.get(
        CONF_LISTEN_FORMAT, DEFAULT_LISTEN_FORMAT
    )
    async with translate_errors(hass, entry):
        call = manager.get_call(data.get(ATTR_CALL_ID))
        await async_listen(
            hass,
            manager,
            entry.entry_id,
            data[ATTR_MEDIA_PLAYER_ENTITY_ID],
            call_id=call.call_id,
            fmt=fmt,
        )
    return {ATTR_CALL_ID: call.call_id}


async def _recording_action(
    service_call: ServiceCall, *, start: bool
) -> ServiceResponse:
    """Start or stop a recording; answer with the call id, file and media id."""
    hass = service_call.hass
    entry = entry_for_call(hass, service_call)
    recorder = entry.runtime_data.intercom.recorder
    call_id = service_call.data.get(ATTR_CALL_ID)
    async with translate_errors(hass, entry):
        call = entry.runtime_data.manager.get_call(call_id)
        path = await (
            recorder.async_start(call_id) if start else recorder.async_stop(call_id)
        )
    relative = path.relative_to(recordings_dir(hass).parent)
    return {
        ATTR_CALL_ID: call.call_id,
        "file": str(path),
        "media_content_id": f"media-source://media_source/local/{relative.as_posix()}",
    }


async def _start_recording(service_call: ServiceCall) -> ServiceResponse:
    """Start recording a call."""
    return await _recording_action(service_call, start=True)


async def _stop_recording(service_call: ServiceCall) -> ServiceResponse:
    """Stop recording a call."""
    return await _recording_action(service_call, start=False)


async def _intercom_on_satellite(service_call: ServiceCall) -> ServiceResponse:
    """Ask on the targeted satellites while the call rings; relay on them once connected."""
    hass = service_call.hass
    data = service_call.data
    # device_id and entity_id name satellites here, not the tenant.
    entry = target_entry(
        hass, {key: data[key] for key in (ATTR_CONFIG_ENTRY_ID,) if key in data}
    )
    await async_check_permission(hass, entry, service_call.context, POLICY_CONTROL)
    satellites = sorted(
        entity_id
        for entity_id in await service.async_extract_entity_ids(service_call)
        if entity_id.startswith(f"{ASSIST_SATELLITE_DOMAIN}.")
    )
    if (user_id := service_call.context.user_id) is not None:
        user = await hass.auth.async_get_user(user_id)
        for entity_id in satellites:
            if user is not None and not user.permissions.check_entity(
                entity_id, POLICY_CONTROL
            ):
                raise Unauthorized(
                    context=service_call.context,
                    entity_id=entity_id,
                    permission=POLICY_CONTROL,
                )
    async with translate_errors(hass, entry):
        call_id = entry.runtime_data.intercom.async_door_on_satellites(
            satellites, data.get(ATTR_CALL_ID)
        )
    return {ATTR_CALL_ID: call_id}


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions."""

    def register(
        name: str,
        handler: Callable[[ServiceCall], Coroutine[Any, Any, ServiceResponse]],
        schema: probatio.Schema,
        supports_response: SupportsResponse,
    ) -> None:
        """Register an action: listen needs read permission, the rest control (place_call more)."""
        if name != SERVICE_PLACE_CALL:
            policy = POLICY_READ if name == SERVICE_LISTEN else POLICY_CONTROL
            handler = requires_permission(policy, entry_for_call, handler)
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
    register(SERVICE_LISTEN, _listen, LISTEN_SCHEMA, SupportsResponse.OPTIONAL)
    register(
        SERVICE_START_RECORDING,
        _start_recording,
        CALL_SCHEMA,
        SupportsResponse.OPTIONAL,
    )
    register(
        SERVICE_STOP_RECORDING,
        _stop_recording,
        CALL_SCHEMA,
        SupportsResponse.OPTIONAL,
    )
    # Its target is other integrations' satellites: permissions are checked by the action.
    hass.services.async_register(
        DOMAIN,
        SERVICE_INTERCOM_ON_SATELLITE,
        _intercom_on_satellite,
        INTERCOM_ON_SATELLITE_SCHEMA,
        SupportsResponse.OPTIONAL,
    )
    # Assist runs on the satellite: entity actions, whose permissions core checks.
    service.async_register_platform_entity_service(
        hass,
        DOMAIN,
        SERVICE_START_ASSIST,
        entity_domain=ASSIST_SATELLITE_DOMAIN,
        schema={probatio.Optional(ATTR_CALL_ID): cv.string},
        func="async_start_assist",
        supports_response=SupportsResponse.OPTIONAL,
    )
    service.async_register_platform_entity_service(
        hass,
        DOMAIN,
        SERVICE_STOP_ASSIST,
        entity_domain=ASSIST_SATELLITE_DOMAIN,
        schema=None,
        func="async_stop_assist",
        supports_response=SupportsResponse.OPTIONAL,
    )
