"""The integration's entities in the demo instance, found by their unique ids."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .http_json import DemoError

INTEGRATION = "cloud_sip_ua"
TTS_ENTITY_ID = "tts.demo_voice"


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoEntities:
    """Entity ids of one config entry's entities."""

    doorbell: str
    call_activity: str
    call_state: str
    in_call: str
    answer: str
    hang_up: str
    send_ringback: str
    call_audio: str
    rtp_loss: str | None = None
    rtp_jitter: str | None = None


_REQUIRED = (
    "doorbell",
    "call_activity",
    "call_state",
    "in_call",
    "answer",
    "hang_up",
    "send_ringback",
    "call_audio",
)


def find_entities(
    registry: Iterable[Mapping[str, Any]], entry_id: str, unique_id: str
) -> DemoEntities:
    """Pick the entry's entities out of an entity registry listing (keys are unique-id suffixes)."""
    prefix = f"{unique_id}-"
    by_key = {
        str(item["unique_id"]).removeprefix(prefix): str(item["entity_id"])
        for item in registry
        if item.get("platform") == INTEGRATION
        and item.get("config_entry_id") == entry_id
        and str(item.get("unique_id", "")).startswith(prefix)
    }
    if missing := [key for key in _REQUIRED if key not in by_key]:
        raise DemoError(
            f"the integration has not created these entities yet: {', '.join(missing)}"
        )
    return DemoEntities(
        doorbell=by_key["doorbell"],
        call_activity=by_key["call_activity"],
        call_state=by_key["call_state"],
        in_call=by_key["in_call"],
        answer=by_key["answer"],
        hang_up=by_key["hang_up"],
        send_ringback=by_key["send_ringback"],
        call_audio=by_key["call_audio"],
        rtp_loss=by_key.get("rtp_loss"),
        rtp_jitter=by_key.get("rtp_jitter"),
    )


# The unique ids of the demo door's entities (scripts/demo_runner/demo_door, which runs inside
# Home Assistant and cannot import this package; a test keeps both in step).
CAMERA_UNIQUE_ID = "demo_door_front_door_camera"
SATELLITE_UNIQUE_ID = "demo_door_hall_speaker"
REPLY_UNIQUE_ID = "demo_door_hall_reply"


@dataclass(frozen=True, slots=True, kw_only=True)
class DoorDevices:
    """Entity ids of the demo's door camera, smart speaker and the speaker's reply select."""

    camera: str
    satellite: str
    reply: str


def find_door_devices(registry: Iterable[Mapping[str, Any]]) -> DoorDevices:
    """Pick the demo door's entities out of an entity registry listing by unique id."""
    wanted = {
        "camera": ("camera", CAMERA_UNIQUE_ID),
        "satellite": ("assist_satellite", SATELLITE_UNIQUE_ID),
        "reply": ("select", REPLY_UNIQUE_ID),
    }
    found = {
        key: str(item["entity_id"])
        for item in registry
        for key, (domain, unique_id) in wanted.items()
        if item.get("unique_id") == unique_id
        and str(item.get("entity_id", "")).startswith(f"{domain}.")
    }
    if missing := [key for key in wanted if key not in found]:
        raise DemoError(
            f"the demo door has not created these entities yet: {', '.join(missing)}"
        )
    return DoorDevices(
        camera=found["camera"], satellite=found["satellite"], reply=found["reply"]
    )
