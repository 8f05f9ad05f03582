"""What one demo run leaves for the next: the token, the demo password and the entry's URLs."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
import json
import os
from pathlib import Path


@dataclass(slots=True, kw_only=True)
class SavedState:
    """The demo folder's secrets and facts, kept owner-only in demo.json."""

    password: str | None = None
    token: str | None = None
    entry_id: str | None = None
    callback_url: str | None = None
    emulator_url: str | None = None

    @classmethod
    def load(cls, path: Path) -> SavedState:
        """Read the state; a missing or unreadable file is an empty state."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except OSError, ValueError:
            return cls()
        if not isinstance(raw, dict):
            return cls()
        names = {field.name for field in fields(cls)}
        return cls(
            **{k: v for k, v in raw.items() if k in names and isinstance(v, str)}
        )

    def save(self, path: Path) -> None:
        """Write the state, readable by its owner only."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(asdict(self), handle, indent=2)
