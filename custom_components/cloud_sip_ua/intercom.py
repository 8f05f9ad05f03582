"""The intercom: listening on speakers, Assist on the call and recording, wired into the entry."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import probatio

from homeassistant.auth.permissions.const import POLICY_CONTROL, POLICY_READ
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.event import async_track_time_interval

from .const import ATTR_CALL_ID, ATTR_FORMAT, ATTR_MEDIA_PLAYER_ENTITY_ID, DOMAIN
from .data import CloudSipUaConfigEntry
from .errors import translate_errors
from .listen import FORMATS, ListenView, async_listen
from .permissions import requires_permission
from .recording import CallRecorder, recordings_dir
from .services import CALL_SCHEMA, TARGET_FIELDS, entry_for_call

if TYPE_CHECKING:
    from .assist_satellite import CallAssistSatellite

SERVICE_LISTEN = "listen"
SERVICE_START_RECORDING = "start_recording"
SERVICE_STOP_RECORDING = "stop_recording"
SERVICE_START_ASSIST = "start_assist"
SERVICE_STOP_ASSIST = "stop_assist"
RETENTION_INTERVAL = timedelta(hours=6)

LISTEN_SCHEMA = probatio.Schema(
    {
        **TARGET_FIELDS,
        probatio.Required(ATTR_MEDIA_PLAYER_ENTITY_ID): cv.entity_ids,
        probatio.Optional(ATTR_FORMAT): probatio.In(FORMATS),
    }
)


@dataclass(slots=True)
class Intercom:
    """The entry's intercom parts: the recorder, the Assist switch's state and the satellite."""

    recorder: CallRecorder
    assist_answers: bool = False
    satellite: CallAssistSatellite | None = None


async def async_setup_intercom(
    hass: HomeAssistant, entry: CloudSipUaConfigEntry
) -> None:
    """Create the entry's intercom; recordings end before the calls are hung up on unload."""
    recorder = CallRecorder(hass, entry)
    entry.runtime_data.intercom = Intercom(recorder)
    recorder.async_start_listening()
    entry.async_on_unload(
        async_track_time_interval(hass, _retention_job(recorder), RETENTION_INTERVAL)
    )
    entry.async_on_unload(recorder.async_close)
    await recorder.async_apply_retention()


def _retention_job(recorder: CallRecorder) -> Any:
    """Return the periodic retention callback."""

    async def run(_now: Any) -> None:
        await recorder.async_apply_retention()

    return run


def _intercom(entry: CloudSipUaConfigEntry) -> Intercom:
    """Return the entry's intercom (set up with the entry)."""
    intercom = entry.runtime_data.intercom
    assert intercom is not None  # noqa: S101 - set in async_setup_entry before any action runs
    return intercom


async def _listen(service_call: ServiceCall) -> ServiceResponse:
    """Play the call on the media players."""
    hass = service_call.hass
    entry = entry_for_call(hass, service_call)
    data = service_call.data
    async with translate_errors(hass, entry):
        await async_listen(
            hass,
            entry,
            data[ATTR_MEDIA_PLAYER_ENTITY_ID],
            call_id=data.get(ATTR_CALL_ID),
            fmt=data.get(ATTR_FORMAT),
        )
        call = entry.runtime_data.manager.get_call(data.get(ATTR_CALL_ID))
    return {ATTR_CALL_ID: call.call_id}


async def _start_recording(service_call: ServiceCall) -> ServiceResponse:
    """Start recording a call."""
    return await _recording_action(service_call, start=True)


async def _stop_recording(service_call: ServiceCall) -> ServiceResponse:
    """Stop recording a call."""
    return await _recording_action(service_call, start=False)


async def _recording_action(
    service_call: ServiceCall, *, start: bool
) -> ServiceResponse:
    """Start or stop a recording; answer with the call id, file and media id."""
    hass = service_call.hass
    entry = entry_for_call(hass, service_call)
    recorder = _intercom(entry).recorder
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


def _satellite(entry: CloudSipUaConfigEntry) -> CallAssistSatellite:
    """Return the entry's Assist satellite entity."""
    if (satellite := _intercom(entry).satellite) is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="assist_unavailable"
        )
    return satellite


async def _start_assist(service_call: ServiceCall) -> ServiceResponse:
    """Run Assist on a connected call."""
    hass = service_call.hass
    entry = entry_for_call(hass, service_call)
    satellite = _satellite(entry)
    call_id = service_call.data.get(ATTR_CALL_ID)
    async with translate_errors(hass, entry):
        satellite.async_start_assist(call_id)
        call = entry.runtime_data.manager.get_call(call_id)
    return {ATTR_CALL_ID: call.call_id}


async def _stop_assist(service_call: ServiceCall) -> ServiceResponse:
    """Stop Assist on the call it runs on; answer with that call's id (None: none was running)."""
    entry = entry_for_call(service_call.hass, service_call)
    satellite = _satellite(entry)
    call_id = satellite.session_call_id
    satellite.async_stop_assist()
    return {ATTR_CALL_ID: call_id}


@callback
def async_setup_intercom_services(hass: HomeAssistant) -> None:
    """Register the intercom's HTTP view and actions (before the HTTP server starts)."""
    hass.http.register_view(ListenView())

    def register(
        domain: str,
        name: str,
        handler: Callable[[ServiceCall], Coroutine[Any, Any, ServiceResponse]],
        schema: probatio.Schema,
        supports_response: SupportsResponse,
    ) -> None:
        """Register an action: listening needs read permission, the rest control."""
        policy = POLICY_READ if name == SERVICE_LISTEN else POLICY_CONTROL
        hass.services.async_register(
            domain,
            name,
            requires_permission(policy, entry_for_call, handler),
            schema,
            supports_response,
        )

    register(DOMAIN, SERVICE_LISTEN, _listen, LISTEN_SCHEMA, SupportsResponse.OPTIONAL)
    register(
        DOMAIN,
        SERVICE_START_RECORDING,
        _start_recording,
        CALL_SCHEMA,
        SupportsResponse.OPTIONAL,
    )
    register(
        DOMAIN,
        SERVICE_STOP_RECORDING,
        _stop_recording,
        CALL_SCHEMA,
        SupportsResponse.OPTIONAL,
    )
    register(
        DOMAIN,
        SERVICE_START_ASSIST,
        _start_assist,
        CALL_SCHEMA,
        SupportsResponse.OPTIONAL,
    )
    register(
        DOMAIN,
        SERVICE_STOP_ASSIST,
        _stop_assist,
        probatio.Schema(TARGET_FIELDS),
        SupportsResponse.OPTIONAL,
    )
