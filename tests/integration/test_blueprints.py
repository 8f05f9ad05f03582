"""The shipped blueprints: they load through the blueprint integration and work on a real ring."""

from __future__ import annotations

from pathlib import Path
import shutil
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_mock_service,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from emulator import Emulator
from homeassistant.components.automation.helpers import async_get_blueprints
from homeassistant.components.blueprint import Blueprint
from homeassistant.components.camera import Camera
from homeassistant.components.camera.const import DATA_COMPONENT as CAMERAS
from homeassistant.components.media_player import MediaPlayerEntity
from homeassistant.components.media_player.const import (
    DATA_COMPONENT as MEDIA_PLAYERS,
    MediaPlayerEntityFeature,
    MediaPlayerState,
)
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from tests.waiting import wait_until

from .helpers import entity_id
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
        "camera",
        "snapshot_folder",
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
    """A ring sends the notification; its Answer button answers, its Reject button hangs up.

    A button of some other notification, pressed just before and after ours, is ignored: had
    the automation taken it, the outcome would not depend on which of our buttons was pressed.
    """
    notifications = async_mock_service(hass, "notify", PHONE)
    doorbell = entity_id(hass, "event", "doorbell")
    await _automation_from(
        hass, NOTIFY, {"doorbell": doorbell, "notify_action": f"notify.{PHONE}"}
    )

    call = await emulator.ring(caller="4711")
    await wait_until(lambda: len(notifications) == 1)

    sent = notifications[0].data
    caller = hass.states.get(doorbell).attributes["caller"]
    assert sent["title"] == "Doorbell"
    assert sent["message"] == f"{caller} is at the door"
    actions = sent["data"]["actions"]
    assert [action["title"] for action in actions] == ["Answer", "Reject"]
    assert actions[0]["action"].startswith("ANSWER_") and actions[1][
        "action"
    ].startswith("REJECT_")

    other = "ANSWER_somebody_else"
    for pressed in (other, actions[button]["action"], other):
        hass.bus.async_fire("mobile_app_notification_action", {"action": pressed})
    await emulator.wait_for_state(call.call_id, final_state)


class DoorCamera(Camera):
    """A camera whose picture is a fixed JPEG."""

    _attr_name = "Front door"
    _attr_unique_id = "front_door_camera"
    PICTURE = b"\xff\xd8\xff\xe0 a visitor \xff\xd9"

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes:
        """Return the picture."""
        return self.PICTURE


@pytest.fixture
async def door_camera(hass: HomeAssistant) -> DoorCamera:
    """Add a camera (before the test server starts: it freezes the HTTP routes)."""
    assert await async_setup_component(hass, "camera", {})
    camera = DoorCamera()
    await hass.data[CAMERAS].async_add_entities([camera])
    return camera


@pytest.mark.parametrize("with_camera", [True, False])
async def test_notification_attaches_the_snapshot_of_the_chosen_camera(
    hass: HomeAssistant,
    door_camera: DoorCamera,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    blueprint_folder: None,
    tmp_path: Path,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
    with_camera: bool,
) -> None:
    """With a camera, the ring's picture is saved in the media folder and the notification links it.

    The link is one the signed-in app can fetch and nobody else can; without a camera the
    notification has no picture and nothing is saved.
    """
    media = tmp_path / "media"
    # The media folder and its allowlist entry, as Home Assistant OS has them at /media.
    hass.config.media_dirs["local"] = str(media)
    hass.config.allowlist_external_dirs.add(str(media))
    notifications = async_mock_service(hass, "notify", PHONE)
    inputs = {
        "doorbell": entity_id(hass, "event", "doorbell"),
        "notify_action": f"notify.{PHONE}",
        "snapshot_folder": f"{media}/doorbell/",
    }
    if with_camera:
        inputs["camera"] = door_camera.entity_id
    await _automation_from(hass, NOTIFY, inputs)

    await emulator.ring(caller="4711")
    await wait_until(lambda: len(notifications) == 1)

    sent = notifications[0].data["data"]
    assert [action["title"] for action in sent["actions"]] == ["Answer", "Reject"]
    saved = sorted((media / "doorbell").glob("*.jpg")) if with_camera else []
    if not with_camera:
        assert "image" not in sent
        assert not (media / "doorbell").exists()
        return
    [picture] = saved
    assert picture.read_bytes() == DoorCamera.PICTURE
    assert sent["image"] == f"/media/local/doorbell/{picture.name}"
    app = await hass_client()
    fetched = await app.get(sent["image"])
    assert fetched.status == 200
    assert await fetched.read() == DoorCamera.PICTURE
    anonymous = await hass_client_no_auth()
    assert (await anonymous.get(sent["image"])).status == 401


async def test_a_failed_snapshot_still_notifies(
    hass: HomeAssistant,
    door_camera: DoorCamera,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    blueprint_folder: None,
    tmp_path: Path,
) -> None:
    """A folder Home Assistant may not write to costs the picture, not the notification."""
    forbidden = tmp_path / "not_allowed"
    notifications = async_mock_service(hass, "notify", PHONE)
    await _automation_from(
        hass,
        NOTIFY,
        {
            "doorbell": entity_id(hass, "event", "doorbell"),
            "notify_action": f"notify.{PHONE}",
            "camera": door_camera.entity_id,
            "snapshot_folder": str(forbidden),
        },
    )
    await emulator.ring(caller="4711")
    await wait_until(lambda: len(notifications) == 1)
    assert notifications[0].data["data"]["image"].startswith("/media/local/")
    assert not forbidden.exists()


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
    await wait_until(lambda: len(speaker.played) == 1)
    assert "tts" in speaker.played[0]
    await hass.async_block_till_done()
    assert len(speaker.played) == 1
