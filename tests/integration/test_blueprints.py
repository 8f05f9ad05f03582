"""The shipped blueprints: they load through the blueprint integration and work on a real ring."""

from __future__ import annotations

import asyncio
from pathlib import Path
import shutil
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_mock_service,
)

from emulator import Emulator
from homeassistant.components.automation.helpers import async_get_blueprints
from homeassistant.components.blueprint import Blueprint
from homeassistant.components.media_player import MediaPlayerEntity
from homeassistant.components.media_player.const import (
    DATA_COMPONENT as MEDIA_PLAYERS,
    MediaPlayerEntityFeature,
    MediaPlayerState,
)
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

from .helpers import entity_id, wait_for
from .tts_provider import TTS_ENTITY_ID, async_setup_tone_tts

SHIPPED = (
    Path(__file__).resolve().parents[2] / "blueprints" / "automation" / "cloud_sip_ua"
)
NOTIFY = "cloud_sip_ua/doorbell_notify.yaml"
ANNOUNCE = "cloud_sip_ua/doorbell_announce.yaml"
PHONE = "mobile_app_phone"


@pytest.fixture
def blueprint_folder(hass: HomeAssistant, tmp_path: Path) -> None:
    """Give Home Assistant a config folder holding the shipped blueprints."""
    hass.config.config_dir = str(tmp_path)
    # Copied: the blueprint listing does not follow folder links.
    shutil.copytree(SHIPPED, tmp_path / "blueprints" / "automation" / "cloud_sip_ua")


async def _automation_from(
    hass: HomeAssistant, path: str, inputs: dict[str, Any]
) -> None:
    """Set up one automation made from a blueprint."""
    config = {"automation": [{"use_blueprint": {"path": path, "input": inputs}}]}
    assert await async_setup_component(hass, "automation", config)
    await hass.async_block_till_done()
    assert len(hass.states.async_entity_ids("automation")) == 1


async def test_blueprints_load_with_their_inputs(
    hass: HomeAssistant, blueprint_folder: None
) -> None:
    """Both blueprints pass the blueprint integration's validation, with the inputs documented."""
    assert await async_setup_component(hass, "automation", {})
    found = await async_get_blueprints(hass).async_get_blueprints()
    notify, announce = found[NOTIFY], found[ANNOUNCE]
    assert isinstance(notify, Blueprint) and isinstance(announce, Blueprint)
    assert set(notify.inputs) == {
        "doorbell",
        "notify_action",
        "title",
        "message",
        "timeout",
    }
    assert set(announce.inputs) == {"doorbell", "speakers", "tts_engine", "message"}
    for blueprint in (notify, announce):
        doorbell_filter = blueprint.inputs["doorbell"]["selector"]["entity"]["filter"]
        assert doorbell_filter == [
            {
                "integration": "cloud_sip_ua",
                "domain": ["event"],
                "device_class": ["doorbell"],
            }
        ]
        assert blueprint.metadata["domain"] == "automation"


@pytest.mark.parametrize(("button", "final_state"), [(0, "connected"), (1, "ended")])
async def test_notification_buttons_answer_or_reject(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    blueprint_folder: None,
    button: int,
    final_state: str,
) -> None:
    """A ring sends the notification; its Answer button answers, its Reject button hangs up."""
    notifications = async_mock_service(hass, "notify", PHONE)
    doorbell = entity_id(hass, "event", "doorbell")
    await _automation_from(
        hass, NOTIFY, {"doorbell": doorbell, "notify_action": f"notify.{PHONE}"}
    )

    call = await emulator.ring(caller="4711")
    await wait_for(lambda: len(notifications) == 1)

    sent = notifications[0].data
    caller = hass.states.get(doorbell).attributes["caller"]
    assert sent["title"] == "Doorbell"
    assert sent["message"] == f"{caller} is at the door"
    actions = sent["data"]["actions"]
    assert [action["title"] for action in actions] == ["Answer", "Reject"]
    assert actions[0]["action"].startswith("ANSWER_") and actions[1][
        "action"
    ].startswith("REJECT_")

    hass.bus.async_fire(
        "mobile_app_notification_action", {"action": actions[button]["action"]}
    )
    await emulator.wait_for_state(call.call_id, final_state)


async def test_notification_for_another_ring_does_not_answer(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    blueprint_folder: None,
) -> None:
    """A button of some other notification leaves the call ringing."""
    notifications = async_mock_service(hass, "notify", PHONE)
    doorbell = entity_id(hass, "event", "doorbell")
    await _automation_from(
        hass, NOTIFY, {"doorbell": doorbell, "notify_action": f"notify.{PHONE}"}
    )
    call = await emulator.ring()
    await wait_for(lambda: len(notifications) == 1)
    hass.bus.async_fire(
        "mobile_app_notification_action", {"action": "ANSWER_somebody_else"}
    )
    # Not block_till_done: the automation waiting for its own buttons is a task it would wait for.
    await asyncio.sleep(0.3)
    assert emulator.get_call(call.call_id).state == "ringing"


class RecordingSpeaker(MediaPlayerEntity):
    """A speaker that remembers what it was asked to play."""

    _attr_name = "Kitchen"
    _attr_unique_id = "kitchen_speaker"
    _attr_state = MediaPlayerState.IDLE
    _attr_supported_features = MediaPlayerEntityFeature.PLAY_MEDIA

    def __init__(self) -> None:
        """Start with nothing played."""
        self.played: list[str] = []

    async def async_play_media(
        self, media_type: str, media_id: str, **kwargs: Any
    ) -> None:
        """Remember the media."""
        self.played.append(media_id)


async def test_announce_on_speakers(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    blueprint_folder: None,
) -> None:
    """A ring makes the chosen TTS engine speak on the chosen speaker; other events do not."""
    await async_setup_tone_tts(hass)
    speaker = RecordingSpeaker()
    await hass.data[MEDIA_PLAYERS].async_add_entities([speaker])
    doorbell = entity_id(hass, "event", "doorbell")
    await _automation_from(
        hass,
        ANNOUNCE,
        {
            "doorbell": doorbell,
            "speakers": [speaker.entity_id],
            "tts_engine": TTS_ENTITY_ID,
        },
    )

    await emulator.ring(caller="4711")
    await wait_for(lambda: len(speaker.played) == 1)
    assert "tts" in speaker.played[0]
    await hass.async_block_till_done()
    assert len(speaker.played) == 1
