"""Calls that may still be up at the cloud: remembered on disk until a hang-up is acknowledged.

Home Assistant can stop without hanging up (crash, power cut), and a hang-up can fail. The
cloud then keeps the call up with nobody on our side; the replyId that can end it lives only in
our memory. So every replyId that may still end a call is written to a Store at once (a crash a
second after connecting must not lose it) and used at the next start. A hang-up the cloud never
acknowledged after every retry raises a repair issue.
"""

from __future__ import annotations

import logging
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.storage import Store

from .cloudsipua.call_manager import CallManager
from .cloudsipua.calls import CallEvent, CallEventType
from .cloudsipua.client import CloudSipUaClient
from .cloudsipua.exceptions import CloudSipUaError, CloudSipUaRequestRefusedError
from .const import DOMAIN

_LOGGER = logging.getLogger(__name__)
STORAGE_VERSION = 1
# Written on the next loop turn: batching would leave a window in which a crash loses a replyId.
SAVE_DELAY = 0.0


class LeftoverCalls:
    """Keeps the replyIds of active calls on disk and ends the ones a restart left behind."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Use one private store per entry."""
        self._hass = hass
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.calls", private=True
        )
        self._manager: CallManager | None = None
        self._kept: list[dict[str, Any]] = []

    async def async_end_leftovers(self, client: CloudSipUaClient) -> int:
        """Hang up every call remembered from the last run; return how many were tried.

        A leftover the cloud answered (even with a refusal: the call is gone) is forgotten;
        one it could not be asked about is kept for the next start.
        """
        stored = await self._store.async_load() or {}
        calls = stored.get("calls", [])
        kept = []
        for leftover in calls:
            site = leftover.get("site_base_url")
            if site is not None and not client.site_allowed(site):
                # Stored before the allow-list (or the options) changed: credentials go to
                # the configured API only.
                site = None
            try:
                await client.hang_up(leftover["reply_id"], site_base_url=site)
            except CloudSipUaRequestRefusedError as err:
                # Most often the call already ended by itself: nothing to do.
                _LOGGER.debug("A call left over from before a restart: %s", err)
            except CloudSipUaError as err:
                _LOGGER.warning(
                    "Could not end a call left over from before a restart (%s); "
                    "trying again at the next start",
                    type(err).__name__,
                )
                kept.append(leftover)
        if calls:
            _LOGGER.info("Ended %s call(s) left over from before a restart", len(calls))
            await self._store.async_save({"calls": kept})
        self._kept = kept
        return len(calls)

    @callback
    def async_track(self, manager: CallManager) -> None:
        """Save the active calls' replyIds whenever a call changes state."""
        self._manager = manager
        manager.add_listener(self._on_event)

    @callback
    def _on_event(self, event: CallEvent) -> None:
        """Save at once on every state change; report a hang-up the cloud never acknowledged."""
        if event.type is CallEventType.STATE:
            self._store.async_delay_save(self._data, SAVE_DELAY)
        elif event.type is CallEventType.HANG_UP_FAILED:
            ir.async_create_issue(
                self._hass,
                DOMAIN,
                f"hang_up_failed_{event.call.call_id}",
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key="hang_up_failed",
                translation_placeholders={"call_id": event.call.call_id},
            )

    def _data(self) -> dict[str, Any]:
        """Return what to remember: every replyId that may still end a call at the cloud."""
        assert self._manager is not None  # noqa: S101 - only saved once tracking
        return {"calls": [*self._kept, *self._manager.reply_ids_to_keep()]}
