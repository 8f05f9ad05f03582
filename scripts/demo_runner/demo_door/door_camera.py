"""The demo's door camera: no device, a drawn picture of a visitor that shows the time."""

from __future__ import annotations

from homeassistant.components.camera import Camera
from homeassistant.util import dt as dt_util

from .picture import visitor_picture

CAMERA_UNIQUE_ID = "demo_door_front_door_camera"


class FrontDoorCamera(Camera):
    """A camera at the front door; its still and its MJPEG stream are the drawn visitor."""

    _attr_name = "Front door"
    _attr_unique_id = CAMERA_UNIQUE_ID
    _attr_brand = "cloud_sip_ua demo"
    _attr_is_streaming = True

    def __init__(self) -> None:
        """Start with no picture drawn."""
        super().__init__()
        self.content_type = "image/jpeg"
        self._picture: tuple[str, bytes] | None = None

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes:
        """Return the picture of this second (drawn once a second: the stream asks twice)."""
        stamp = dt_util.now().replace(microsecond=0)
        key = stamp.isoformat()
        if self._picture is None or self._picture[0] != key:
            picture = await self.hass.async_add_executor_job(visitor_picture, stamp)
            self._picture = (key, picture)
        return self._picture[1]
