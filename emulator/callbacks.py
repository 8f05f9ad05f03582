"""Delivery of callbacks: signed JSON POSTs, retried with backoff, faults applied, all logged."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
import json
import logging
import time
from typing import Any

import aiohttp

from .faults import Faults
from .signing import CallbackSigner
from .timers import Timers, sleep

_LOGGER = logging.getLogger(__name__)

# At most this much of a receiver's answer is kept in the log.
_MAX_RESPONSE_BYTES = 64 * 1024


@dataclass(slots=True)
class CallbackRecord:
    """One callback as sent (or dropped) and what came of it."""

    name: str
    url: str
    body: dict[str, Any]
    call_id: str | None
    sent_at: float = field(default_factory=time.time)
    status: int | None = None
    error: str | None = None
    attempts: int = 0
    dropped: bool = False
    duplicate: bool = False
    response: Any = None

    @property
    def delivered(self) -> bool:
        """Return whether the receiver answered with a 2xx status."""
        return self.status is not None and 200 <= self.status < 300

    def to_json(self) -> dict[str, Any]:
        """Return the record as JSON-ready values (replyIds included: this is a test tool)."""
        return {
            "name": self.name,
            "url": self.url,
            "body": self.body,
            "call_id": self.call_id,
            "sent_at": self.sent_at,
            "status": self.status,
            "error": self.error,
            "attempts": self.attempts,
            "dropped": self.dropped,
            "duplicate": self.duplicate,
            "delivered": self.delivered,
        }


def callback_url(base_url: str, name: str) -> str:
    """Return `<base URL>/<callbackName>`."""
    return f"{base_url.rstrip('/')}/{name}"


class CallbackSender:
    """Sends callbacks for the emulator and keeps the log of every one."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        signer: CallbackSigner,
        faults: Faults,
        *,
        timeout: float,
        retries: int,
        backoff: float,
        timers: Timers | None = None,
    ) -> None:
        """Use this HTTP session, signer and fault settings; delay faults run on `timers`."""
        self._session = session
        self._timers = timers
        self._signer = signer
        self._faults = faults
        self._timeout = timeout
        self._retries = max(0, retries)
        self._backoff = backoff
        self.log: list[CallbackRecord] = []
        self._changed = asyncio.Condition()

    async def send(
        self, name: str, base_url: str, body: dict[str, Any], call_id: str | None
    ) -> CallbackRecord:
        """Deliver one callback (faults applied); return the record of the first copy."""
        faults = self._faults
        if faults.callback_delay > 0 and faults.callback_matches(name):
            timers = self._timers or asyncio.get_running_loop()
            await sleep(timers, faults.callback_delay)
        record = CallbackRecord(name, callback_url(base_url, name), body, call_id)
        if faults.take_callback_drop(name):
            record.dropped = True
            await self._append(record)
            _LOGGER.info("Dropped callback %s (fault injection)", name)
            return record
        duplicate = faults.take_callback_duplicate(name)
        await self._deliver(record)
        await self._append(record)
        if duplicate:
            copy = CallbackRecord(name, record.url, body, call_id, duplicate=True)
            await self._deliver(copy)
            await self._append(copy)
        return record

    async def wait_for(
        self,
        name: str,
        call_id: str | None = None,
        *,
        count: int = 1,
        timeout: float = 5.0,
    ) -> CallbackRecord:
        """Wait until `count` callbacks of this name (for this call) are logged; return the last."""

        def matching() -> list[CallbackRecord]:
            return [
                r
                for r in self.log
                if r.name == name and (call_id is None or r.call_id == call_id)
            ]

        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: len(matching()) >= count)
            return matching()[count - 1]

    async def _append(self, record: CallbackRecord) -> None:
        """Log a record and wake whoever waits for it."""
        async with self._changed:
            self.log.append(record)
            self._changed.notify_all()

    async def _deliver(self, record: CallbackRecord) -> None:
        """POST with retries on 5xx and connection errors; fill in the record's outcome."""
        payload = json.dumps(record.body, separators=(",", ":")).encode()
        for attempt in range(self._retries + 1):
            if attempt:
                await asyncio.sleep(self._backoff * 2 ** (attempt - 1))
            record.attempts = attempt + 1
            headers = {
                "Content-Type": "application/json",
                "Authorization": self._signer.authorization(payload),
            }
            try:
                async with self._session.post(
                    record.url,
                    data=payload,
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=self._timeout),
                ) as response:
                    record.status = response.status
                    record.error = None
                    raw = await response.content.read(_MAX_RESPONSE_BYTES)
            except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as err:
                # ValueError covers URLs yarl refuses; the base URLs are checked before use.
                record.status = None
                record.error = f"{type(err).__name__}: {err}"[:300]
                _LOGGER.debug(
                    "Callback %s attempt %s failed: %s", record.name, attempt + 1, err
                )
                continue
            record.response = _parse_response(raw)
            if response.status < 500:
                return
            _LOGGER.debug("Callback %s got HTTP %s", record.name, response.status)


def _parse_response(raw: bytes) -> Any:
    """Return the receiver's answer as JSON if it is JSON, else None."""
    try:
        return json.loads(raw) if raw.strip() else None
    except ValueError, RecursionError:
        return None
