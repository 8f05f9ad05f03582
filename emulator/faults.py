"""Faults the emulator can be told to inject into callbacks and API answers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass(slots=True)
class Faults:
    """Fault settings; counters are consumed one per affected callback or request."""

    # Seconds to wait before each callback is sent.
    callback_delay: float = 0.0
    # Drop (never send) the next N matching callbacks.
    callback_drop: int = 0
    # Send the next N matching callbacks twice.
    callback_duplicate: int = 0
    # Callback names the callback faults apply to (empty: all).
    callback_names: list[str] = field(default_factory=list)
    # Answer the next N matching API requests with api_error_status.
    api_error: int = 0
    api_error_status: int = 503
    # Seconds to wait before answering each matching API request (client timeouts).
    api_delay: float = 0.0
    # API operations the API faults apply to (empty: all).
    api_operations: list[str] = field(default_factory=list)

    def callback_matches(self, name: str) -> bool:
        """Return whether callback faults apply to this callback name."""
        return not self.callback_names or name in self.callback_names

    def api_matches(self, operation: str) -> bool:
        """Return whether API faults apply to this operation."""
        return not self.api_operations or operation in self.api_operations

    def take_callback_drop(self, name: str) -> bool:
        """Consume one drop for this callback if one is pending."""
        if self.callback_drop > 0 and self.callback_matches(name):
            self.callback_drop -= 1
            return True
        return False

    def take_callback_duplicate(self, name: str) -> bool:
        """Consume one duplicate for this callback if one is pending."""
        if self.callback_duplicate > 0 and self.callback_matches(name):
            self.callback_duplicate -= 1
            return True
        return False

    def take_api_error(self, operation: str) -> int | None:
        """Consume one API error for this operation; return the status to answer with."""
        if self.api_error > 0 and self.api_matches(operation):
            self.api_error -= 1
            return self.api_error_status
        return None

    def to_json(self) -> dict[str, Any]:
        """Return the settings as JSON-ready values."""
        return asdict(self)

    def update(self, values: Mapping[str, Any]) -> None:
        """Set the named settings after checking their types; raise ValueError on bad input."""
        known = {f.name: f for f in fields(self)}
        checked: dict[str, Any] = {}
        for name, value in values.items():
            if name not in known:
                raise ValueError(f"unknown fault setting {name!r}")
            current = getattr(self, name)
            if isinstance(current, list):
                if not isinstance(value, list) or not all(
                    isinstance(v, str) for v in value
                ):
                    raise ValueError(f"{name} must be a list of strings")
            elif isinstance(current, float):
                if (
                    isinstance(value, bool)
                    or not isinstance(value, (int, float))
                    or value < 0
                ):
                    raise ValueError(f"{name} must be a number >= 0")
                value = float(value)
            elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0")
            checked[name] = value
        if (
            "api_error_status" in checked
            and not 500 <= checked["api_error_status"] <= 599
        ):
            raise ValueError("api_error_status must be a 5xx status")
        for name, value in checked.items():
            setattr(self, name, value)

    def reset(self) -> None:
        """Clear every fault."""
        for f in fields(self):
            setattr(self, f.name, getattr(Faults(), f.name))
