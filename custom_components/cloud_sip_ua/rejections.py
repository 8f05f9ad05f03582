"""Counting and logging of refused callbacks: counted always, logged once per kind."""

from __future__ import annotations

from collections import Counter
import logging

_LOGGER = logging.getLogger(__name__)


class RejectionLog:
    """Remember how many callbacks were refused and why, warning only the first time per reason."""

    def __init__(self) -> None:
        """Start with nothing refused."""
        self.counts: Counter[str] = Counter()

    def record(self, reason: str, detail: str = "") -> None:
        """Count one refusal; log the first of each reason as a warning, later ones at debug."""
        self.counts[reason] += 1
        level = logging.WARNING if self.counts[reason] == 1 else logging.DEBUG
        _LOGGER.log(
            level, "Refused a callback (%s)%s", reason, f": {detail}" if detail else ""
        )
