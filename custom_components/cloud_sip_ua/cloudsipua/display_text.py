"""Texts from the network that people will see (caller names and numbers), made safe to show."""

from __future__ import annotations

import unicodedata

MAX_DISPLAY_LENGTH = 64


def display_text(value: str | None, limit: int = MAX_DISPLAY_LENGTH) -> str | None:
    """Return the text without control, format (bidi, zero-width) or line characters, capped.

    A right-to-left override in a caller name would make a notification read backwards; a
    newline would forge a second line. None and texts with nothing left stay None.
    """
    if value is None:
        return None
    kept = "".join(
        " " if char.isspace() else char
        for char in value
        if char.isspace() or unicodedata.category(char)[0] != "C"
    )
    text = " ".join(kept.split())[:limit].strip()
    return text or None
