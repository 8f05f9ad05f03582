"""The demo's dashboard: call state, the call buttons, speaking into the call, opening the door, the speaker."""

from __future__ import annotations

from typing import Any

from .entities import TTS_ENTITY_ID, DemoEntities, DoorDevices

TITLE = "Doorbell"
ICON = "mdi:doorbell-video"
GREETING = "Hello, we will be right with you."
DOOR_CODE = "1#"


def _action_button(
    name: str, icon: str, action: str, data: dict[str, Any]
) -> dict[str, Any]:
    """Return a button card that performs an action."""
    return {
        "type": "button",
        "name": name,
        "icon": icon,
        "show_state": False,
        "tap_action": {
            "action": "perform-action",
            "perform_action": action,
            "data": data,
        },
    }


def dashboard_config(
    entities: DemoEntities, door: DoorDevices, emulator_url: str
) -> dict[str, Any]:
    """Return the Lovelace configuration of the demo dashboard."""
    intro = (
        "### Ring the doorbell\n"
        f"Open the emulator's page, [{emulator_url}]({emulator_url}), and press **Ring**. "
        "The doorbell event fires, the call state turns *ringing*; answer here, speak into the "
        "call, send DTMF to open the door, hang up. The emulator's page shows the call and "
        "lets you hear what the visitor heard."
    )
    speaker = (
        "### Answer from the hall speaker\n"
        "On a ring the hall speaker (a stand-in Assist satellite) asks *Someone is at the door* "
        "and listens for 15 seconds: pick what you say in **Hall speaker reply**. *answer it* "
        "answers and relays the call through the speaker, *open the door* also sends the door "
        "code, *reject it* hangs up; in the call a sentence is said to the visitor and "
        "*hang up* ends it."
    )
    call_buttons = [
        {"entity": entities.answer, "name": "Answer"},
        {"entity": entities.send_ringback, "name": "Send ringback"},
        {"entity": entities.hang_up, "name": "Hang up"},
    ]
    return {
        "title": TITLE,
        "views": [
            {
                "title": TITLE,
                "path": "doorbell",
                "icon": ICON,
                "cards": [
                    {"type": "markdown", "content": intro},
                    {
                        # The integration's own card: talk and listen from the browser.
                        "type": "custom:cloud-sip-ua-card",
                        "entity": entities.call_state,
                        "title": "Front door",
                        "door_code": DOOR_CODE,
                        "camera_entity": door.camera,
                    },
                    {
                        "type": "entities",
                        "title": "Call",
                        "entities": [
                            {"entity": entities.call_state, "name": "Call state"},
                            {"entity": entities.in_call, "name": "In call"},
                            {
                                "entity": entities.doorbell,
                                "name": "Doorbell (last ring)",
                            },
                            {"entity": entities.call_activity, "name": "Call activity"},
                        ],
                    },
                    {
                        "type": "entities",
                        "title": "Call control",
                        "entities": call_buttons,
                    },
                    {
                        "type": "horizontal-stack",
                        "cards": [
                            _action_button(
                                "Say hello",
                                "mdi:account-voice",
                                "tts.speak",
                                {
                                    "entity_id": TTS_ENTITY_ID,
                                    "media_player_entity_id": entities.call_audio,
                                    "message": GREETING,
                                },
                            ),
                            _action_button(
                                f"Open the door (DTMF {DOOR_CODE})",
                                "mdi:door-open",
                                "cloud_sip_ua.send_dtmf",
                                {"digits": DOOR_CODE},
                            ),
                        ],
                    },
                    {"type": "media-control", "entity": entities.call_audio},
                    {"type": "markdown", "content": speaker},
                    {
                        "type": "entities",
                        "title": "Hall speaker",
                        "entities": [
                            {"entity": door.satellite, "name": "Hall speaker"},
                            {"entity": door.reply, "name": "Hall speaker reply"},
                            {
                                "type": "attribute",
                                "entity": door.satellite,
                                "attribute": "last_question",
                                "name": "Last question",
                            },
                            {
                                "type": "attribute",
                                "entity": door.satellite,
                                "attribute": "last_reply",
                                "name": "Last reply heard",
                            },
                        ],
                    },
                ],
            }
        ],
    }
