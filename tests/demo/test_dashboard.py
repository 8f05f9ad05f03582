"""Finding the integration's and the demo door's entities, and building the demo dashboard."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scripts.demo_runner.dashboard import GREETING, dashboard_config
from scripts.demo_runner.demo_door.door_camera import (
    CAMERA_UNIQUE_ID as COMPONENT_CAMERA_UNIQUE_ID,
)
from scripts.demo_runner.demo_door.speaker import (
    REPLY_UNIQUE_ID as COMPONENT_REPLY_UNIQUE_ID,
    SATELLITE_UNIQUE_ID as COMPONENT_SATELLITE_UNIQUE_ID,
)
from scripts.demo_runner.entities import (
    CAMERA_UNIQUE_ID,
    REPLY_UNIQUE_ID,
    SATELLITE_UNIQUE_ID,
    TTS_ENTITY_ID,
    DoorDevices,
    find_door_devices,
    find_entities,
)
from scripts.demo_runner.http_json import DemoError

UNIQUE = "customer.prod-eu-north-1.iotcomms.io"
KEYS = [
    "doorbell",
    "call_activity",
    "call_state",
    "in_call",
    "answer",
    "hang_up",
    "send_ringback",
    "call_audio",
]
DOOR = DoorDevices(
    camera="camera.front_door",
    satellite="assist_satellite.hall",
    reply="select.hall_speaker_reply",
)


def _registry(keys: list[str], entry_id: str = "entry1") -> list[dict[str, Any]]:
    """Return an entity registry listing with one entity per key."""
    return [
        {
            "platform": "cloud_sip_ua",
            "config_entry_id": entry_id,
            "unique_id": f"{UNIQUE}-{key}",
            "entity_id": f"x.{key}",
        }
        for key in keys
    ]


def test_finds_entities_by_unique_id_suffix() -> None:
    """Entities of the entry are found; other entries' and platforms' entities are not."""
    registry = [
        *_registry([*KEYS, "rtp_loss"]),
        *_registry(["doorbell"], entry_id="other"),
        {
            "platform": "demo",
            "config_entry_id": "entry1",
            "unique_id": f"{UNIQUE}-doorbell",
            "entity_id": "y.z",
        },
    ]
    entities = find_entities(registry, "entry1", UNIQUE)
    assert entities.doorbell == "x.doorbell"
    assert entities.call_audio == "x.call_audio"
    assert entities.rtp_loss == "x.rtp_loss"
    assert entities.rtp_jitter is None


def test_missing_entities_are_named() -> None:
    """An entry whose platforms are not loaded yet is an error naming what is missing."""
    with pytest.raises(DemoError, match="call_audio"):
        find_entities(_registry(KEYS[:-1]), "entry1", UNIQUE)


def test_finds_the_demo_door_by_the_unique_ids_its_component_gives() -> None:
    """The runner's unique ids are the component's; entities of another domain do not count."""
    assert (CAMERA_UNIQUE_ID, SATELLITE_UNIQUE_ID, REPLY_UNIQUE_ID) == (
        COMPONENT_CAMERA_UNIQUE_ID,
        COMPONENT_SATELLITE_UNIQUE_ID,
        COMPONENT_REPLY_UNIQUE_ID,
    )
    registry = [
        {"unique_id": CAMERA_UNIQUE_ID, "entity_id": "camera.front_door"},
        {"unique_id": SATELLITE_UNIQUE_ID, "entity_id": "assist_satellite.hall"},
        {"unique_id": REPLY_UNIQUE_ID, "entity_id": "select.hall_speaker_reply"},
        {"unique_id": CAMERA_UNIQUE_ID, "entity_id": "image.front_door"},
    ]
    assert find_door_devices(registry) == DOOR
    with pytest.raises(DemoError, match="satellite"):
        find_door_devices([registry[0], registry[2]])


def test_dashboard_has_the_call_controls() -> None:
    """The dashboard shows the call entities, the buttons, TTS into the call, DTMF and the speaker."""
    entities = find_entities(_registry(KEYS), "entry1", UNIQUE)
    config = dashboard_config(entities, DOOR, "http://127.0.0.1:8765")
    text = json.dumps(config)
    for key in KEYS:
        assert f'"x.{key}"' in text
    for entity in (DOOR.satellite, DOOR.reply):
        assert f'"{entity}"' in text
    assert "http://127.0.0.1:8765" in config["views"][0]["cards"][0]["content"]
    actions = [
        card["tap_action"]
        for stack in config["views"][0]["cards"]
        if stack["type"] == "horizontal-stack"
        for card in stack["cards"]
    ]
    assert actions[0]["perform_action"] == "tts.speak"
    assert actions[0]["data"] == {
        "entity_id": TTS_ENTITY_ID,
        "media_player_entity_id": "x.call_audio",
        "message": GREETING,
    }
    assert actions[1] == {
        "action": "perform-action",
        "perform_action": "cloud_sip_ua.send_dtmf",
        "data": {"digits": "1#"},
    }
    intercom = [
        card
        for card in config["views"][0]["cards"]
        if card["type"] == "custom:cloud-sip-ua-card"
    ]
    assert intercom == [
        {
            "type": "custom:cloud-sip-ua-card",
            "entity": "x.call_state",
            "title": "Front door",
            "door_code": "1#",
            "camera_entity": "camera.front_door",
        }
    ]
