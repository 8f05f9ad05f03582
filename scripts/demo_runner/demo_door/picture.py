"""The demo camera's picture: a visitor at the front door, drawn, with the time like a CCTV overlay."""

from __future__ import annotations

from datetime import datetime
import io

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 640, 360
_WALL = (201, 183, 156)
_STEP = (120, 116, 110)
_DOOR = (92, 58, 34)
_COAT = (47, 93, 138)
_SKIN = (241, 194, 125)
_HAT = (160, 40, 40)
_TEXT = (255, 255, 255)


def visitor_picture(stamp: datetime) -> bytes:
    """Return a JPEG of the porch with a visitor, stamped with the time."""
    image = Image.new("RGB", (WIDTH, HEIGHT), _WALL)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 300, WIDTH, HEIGHT), fill=_STEP)
    # The door with its handle and the door station beside it.
    draw.rectangle((380, 60, 540, 300), fill=_DOOR)
    draw.ellipse((515, 175, 527, 187), fill=(214, 180, 80))
    draw.rounded_rectangle((560, 150, 590, 210), radius=4, fill=(60, 60, 60))
    draw.ellipse((569, 185, 581, 197), fill=(120, 200, 255))
    # The visitor: a coat, a head and a hat, waving.
    draw.rounded_rectangle((170, 170, 290, 330), radius=30, fill=_COAT)
    draw.ellipse((195, 90, 265, 160), fill=_SKIN)
    draw.rectangle((190, 80, 270, 98), fill=_HAT)
    draw.rectangle((205, 50, 255, 84), fill=_HAT)
    draw.ellipse((215, 115, 223, 123), fill=(40, 40, 40))
    draw.ellipse((237, 115, 245, 123), fill=(40, 40, 40))
    draw.arc((215, 125, 245, 145), start=20, end=160, fill=(40, 40, 40), width=3)
    draw.line((285, 200, 330, 140), fill=_COAT, width=22)
    draw.ellipse((318, 118, 346, 146), fill=_SKIN)
    font = ImageFont.load_default(size=18)
    draw.rectangle((0, 0, WIDTH, 30), fill=(0, 0, 0))
    draw.text((10, 5), "FRONT DOOR", fill=_TEXT, font=font)
    draw.text(
        (WIDTH - 10, 5),
        stamp.strftime("%Y-%m-%d %H:%M:%S"),
        fill=_TEXT,
        font=font,
        anchor="ra",
    )
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()
