"""JSON over HTTP for the runner: one error type, waiting for a server to come up."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import time
from typing import Any

import aiohttp


class DemoError(Exception):
    """Something the demo needs did not happen; the message says what."""


async def request_json(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    json: Any = None,
    data: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    ok: tuple[int, ...] = (200, 201),
) -> Any:
    """Send a request and return its JSON body; raise DemoError on another status."""
    try:
        async with session.request(
            method, url, json=json, data=data, headers=headers
        ) as response:
            text = await response.text()
            if response.status not in ok:
                raise DemoError(
                    f"{method} {url} answered {response.status}: {text[:300]}"
                )
            return await response.json(content_type=None) if text else None
    except aiohttp.ClientError as err:
        raise DemoError(f"{method} {url} failed: {err}") from err


async def wait_for[T](
    what: str, probe: Callable[[], Any], timeout: float, interval: float = 0.05
) -> T:
    """Await probe() until it returns something other than None or False; return that."""
    deadline = time.monotonic() + timeout
    last_error: str | None = None
    while True:
        try:
            result = await probe()
        except (DemoError, aiohttp.ClientError, OSError) as err:
            last_error, result = str(err), None
        if result is not None and result is not False:
            value: T = result
            return value
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_error})" if last_error else ""
            raise DemoError(
                f"timed out after {timeout:.0f} s waiting for {what}{detail}"
            )
        await asyncio.sleep(interval)
