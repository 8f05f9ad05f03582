"""schemathesis against the live emulator: generated requests from its OpenAPI document."""

from __future__ import annotations

import asyncio
from collections import Counter
import time

import schemathesis
from schemathesis.engine import Status, events

from emulator import Emulator
from emulator.openapi import OPENAPI_PATH

from .helpers import api_token

# Examples per operation and phase; the run sends a few hundred requests in some seconds.
MAX_EXAMPLES = 40


def run_schemathesis(
    base_url: str, domain: str
) -> tuple[Counter[str], Counter[int], list[str]]:
    """Run every schemathesis phase and check; return requests per operation, statuses, failures."""
    schema = schemathesis.openapi.from_path(OPENAPI_PATH)
    schema.config.update(
        base_url=base_url,
        headers={"Authorization": f"Bearer {api_token(lifetime=600)}"},
        # The tenant domain is fixed, so generated requests reach the body checks.
        parameters={"domain": domain},
    )
    schema.config.generation.update(
        max_examples=MAX_EXAMPLES, deterministic=True, database="none"
    )
    requests: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            for interaction in event.recorder.interactions.values():
                requests[event.label or "?"] += 1
                if interaction.response is not None:
                    statuses[interaction.response.status_code] += 1
            for checks in event.recorder.checks.values():
                failures.extend(
                    f"{event.label}: {check.name}: {check.failure_info and check.failure_info.failure}"
                    for check in checks
                    if check.status == Status.FAILURE
                )
        elif isinstance(event, (events.FatalError, events.NonFatalError)):
            failures.append(repr(event))
    return requests, statuses, failures


async def test_schemathesis_finds_nothing(emulator: Emulator) -> None:
    """At least 200 generated requests: no 5xx, every answer as the document says."""
    # The engine is synchronous; it runs in a thread while this loop serves the emulator.
    started = time.monotonic()
    requests, statuses, failures = await asyncio.to_thread(
        run_schemathesis, emulator.base_url, emulator.config.domain
    )
    assert failures == []
    assert sum(requests.values()) >= 200, requests
    assert len(requests) == 8, requests  # four POST operations and their OPTIONS
    assert not any(status >= 500 for status in statuses), statuses
    assert {200, 400, 401} <= set(statuses), statuses
    assert time.monotonic() - started < 60
