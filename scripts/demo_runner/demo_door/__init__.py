"""A door camera and a smart speaker for the demo, so the card's camera and the satellite flow show.

Set up from configuration.yaml (`demo_door:`): no config entry, no device, no internet.
"""

from __future__ import annotations

from homeassistant.components.assist_satellite.const import DATA_COMPONENT as SATELLITES
from homeassistant.components.camera.const import DATA_COMPONENT as CAMERAS
from homeassistant.components.select.const import DATA_COMPONENT as SELECTS
from homeassistant.core import HomeAssistant
from homeassistant.helpers.typing import ConfigType

from .door_camera import FrontDoorCamera
from .speaker import HallSpeaker, ReplySelect

DOMAIN = "demo_door"


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Add the camera, the speaker and its reply select to their components."""
    reply = ReplySelect()
    await hass.data[SELECTS].async_add_entities([reply])
    await hass.data[CAMERAS].async_add_entities([FrontDoorCamera()])
    await hass.data[SATELLITES].async_add_entities([HallSpeaker(reply)])
    return True
