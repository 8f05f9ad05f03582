"""Caller names and numbers made safe to show."""

import pytest

from custom_components.cloud_sip_ua.cloudsipua.display_text import display_text


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("Alice", "Alice"),
        ("  Front   door ", "Front door"),
        ("evil\u202etxt.exe", "eviltxt.exe"),
        ("a\u200bb", "ab"),
        ("line1\nline2\r\x00x", "line1 line2 x"),
        ("\u2066\u2069", None),
        ("", None),
        (None, None),
        ("Åsa Öberg +46 70", "Åsa Öberg +46 70"),
    ],
)
def test_display_text(raw: str | None, shown: str | None) -> None:
    """Control, bidi and zero-width characters go; whitespace folds; nothing left is None."""
    assert display_text(raw) == shown


def test_display_text_is_capped() -> None:
    """A 10,000-character name is cut to the display limit."""
    assert display_text("x" * 10_000) == "x" * 64
