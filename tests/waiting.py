"""The one place tests poll: wait until a condition on real sockets or processes holds."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def wait_until[T](
    condition: Callable[[], T | None],
    timeout: float = 5.0,
    what: str = "the condition",
    interval: float = 0.02,
) -> T:
    """Return the condition's first truthy value; raise TimeoutError after `timeout` seconds."""
    try:
        async with asyncio.timeout(timeout):
            while not (value := condition()):
                # Wall time on purpose: what is awaited happens on real sockets or in other
                # processes. This only paces the checks; no test assumes how long it takes.
                await asyncio.sleep(interval)
    except TimeoutError as err:
        raise TimeoutError(f"{what} did not happen within {timeout} s") from err
    return value
