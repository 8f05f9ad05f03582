"""What a demo run keeps for the next one."""

from __future__ import annotations

from pathlib import Path

from scripts.demo_runner.saved_state import SavedState


def test_round_trip_owner_only(tmp_path: Path) -> None:
    """The state survives a save and load, in a file only its owner can read."""
    path = tmp_path / "sub" / "demo.json"
    SavedState(
        password="pw",
        token="tok",
        entry_id="e",
        callback_url="http://x/api",
        emulator_url="http://e",
    ).save(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert SavedState.load(path) == SavedState(
        password="pw",
        token="tok",
        entry_id="e",
        callback_url="http://x/api",
        emulator_url="http://e",
    )


def test_missing_or_damaged_files_are_empty(tmp_path: Path) -> None:
    """No file, bad JSON, a non-object or wrong types give an empty state, not a crash."""
    path = tmp_path / "demo.json"
    assert SavedState.load(path) == SavedState()
    path.write_text("{not json")
    assert SavedState.load(path) == SavedState()
    path.write_text("[1, 2]")
    assert SavedState.load(path) == SavedState()
    path.write_text('{"token": 5, "password": "pw", "unknown": "x"}')
    assert SavedState.load(path) == SavedState(password="pw")
