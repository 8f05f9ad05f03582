"""Calls left over from before a restart: remembered on disk, hung up when the entry loads again.

Home Assistant can stop without hanging up (crash, power cut). The cloud then keeps the call
up with nobody on our side; the replyId that can end it lives only in our memory. So the
replyIds of active calls are kept in a Store and used once at the next start.
"""

from __future__ import annotations

import logging
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store

from .cloudsipua.call_manager import CallManager
from .cloudsipua.calls import CallEvent, CallEventType
from .cloudsipua.client import CloudSipUaClient
from .cloudsipua.exceptions import CloudSipUaError
from .const import DOMAIN

_LOGGER = logging.getLogger(__name__)
STORAGE_VERSION = 1
SAVE_DELAY = 1.0


class LeftoverCalls:
    """Keeps the replyIds of active calls on disk and ends the ones a restart left behind."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Use one private store per entry."""
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.calls", private=True
        )
        self._manager: CallManager | None = None

    async def async_end_leftovers(self, client: CloudSipUaClient) -> int:
        """Hang up every call remembered from the last run; return how many were tried."""
        stored = await self._store.async_load() or {}
        calls = stored.get("calls", [])
        for leftover in calls:
            try:
                await client.hang_up(
                    leftover["reply_id"], site_base_url=leftover.get("site_base_url")
                )
            except CloudSipUaError as err:
                # Most often the call already ended by itself: nothing to do.
                _LOGGER.debug("A call left over from before a restart: %s", err)
        if calls:
            _LOGGER.info("Ended %s call(s) left over from before a restart", len(calls))
            await self._store.async_save({"calls": []})
        return len(calls)

    @callback
    def async_track(self, manager: CallManager) -> None:
        """Save the active calls' replyIds whenever a call changes state."""
        self._manager = manager
        manager.add_listener(self._on_event)

    @callback
    def _on_event(self, event: CallEvent) -> None:
        """Schedule a save; the store batches bursts of changes."""
        if event.type is CallEventType.STATE:
            self._store.async_delay_save(self._data, SAVE_DELAY)

    def _data(self) -> dict[str, Any]:
        """Return what to remember: the replyId and site of every call that has one."""
        assert self._manager is not None  # noqa: S101 - only saved once tracking
        return {
            "calls": [
                {"reply_id": call.reply_id, "site_base_url": call.site_base_url}
                for call in self._manager.calls
                if call.reply_id is not None
            ]
        }
