"""The vendor's own callback samples, sent verbatim but for what a working call needs."""

from __future__ import annotations

from functools import cache
import json
from pathlib import Path
from typing import Any

_FOLDER = Path(__file__).parent
# The only fields taken from the emulated call: the follow-up requests must name a replyId
# the emulator issued, and the audio must reach its remote party.
_REAL_FIELDS = ("replyId", "remoteRtpIp", "remoteRtpPort")


@cache
def _sample_text(name: str) -> str:
    """Return the sample's JSON text."""
    return (_FOLDER / f"{name}.json").read_text(encoding="utf-8")


def sample(name: str) -> dict[str, Any]:
    """Return a fresh copy of the vendor's sample body of callback `name`."""
    body: dict[str, Any] = json.loads(_sample_text(name))
    return body


def as_vendor_sample(name: str, emulated: dict[str, Any]) -> dict[str, Any]:
    """Return the vendor's sample of `name` with the call's replyId and media address in it."""
    body = sample(name)
    for field in _REAL_FIELDS:
        if field in body and field in emulated:
            body[field] = emulated[field]
    return body
