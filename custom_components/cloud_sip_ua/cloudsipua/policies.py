"""How calls are handled: the choices a user makes in the options."""

from __future__ import annotations

from enum import StrEnum


class SrtpPolicy(StrEnum):
    """Whether calls use SRTP."""

    OFF = "off"
    OFFER = "offer"
    REQUIRE = "require"


class SecondCallPolicy(StrEnum):
    """What happens to an incoming call while another call is active."""

    BUSY = "busy"
    RING = "ring"
