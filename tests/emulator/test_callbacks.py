"""Callback delivery: retries with backoff, and the faults the emulator injects."""

from __future__ import annotations

import asyncio
import time

import pytest

from custom_components.cloud_sip_ua.cloudsipua.media.clock import ManualClock
from emulator import Emulator, Faults
from tests.waiting import wait_until

from .conftest import ApiCall
from .helpers import CallbackReceiver, advance, verify_callback


async def test_retried_on_5xx_until_delivered(
    emulator: Emulator, receiver: CallbackReceiver
) -> None:
    """5xx answers are retried with backoff; every attempt carries a fresh valid signature."""
    receiver.statuses["newRemoteCall"] = [500, 503]
    receiver.replies["newRemoteCall"] = {"sessionReferenceId": "after-retries"}
    call = await emulator.ring()
    attempts = receiver.named("newRemoteCall")
    assert len(attempts) == 3
    for attempt in attempts:
        verify_callback(attempt.authorization, attempt.raw)
    assert len({a.authorization for a in attempts}) == 3
    [record] = emulator.callback_log
    assert (record.status, record.attempts, record.delivered) == (200, 3, True)
    assert record.to_json()["delivered"] is True
    assert call.session_reference_id == "after-retries"


async def test_retries_are_bounded(
    emulator: Emulator, receiver: CallbackReceiver
) -> None:
    """A receiver that keeps failing gets 1 + retries attempts; a 4xx is not retried."""
    receiver.statuses["newRemoteCall"] = [500] * 10
    await emulator.ring()
    assert len(receiver.named("newRemoteCall")) == 4
    assert (emulator.callback_log[-1].status, emulator.callback_log[-1].delivered) == (
        500,
        False,
    )

    receiver.statuses["newRemoteCall"] = [404]
    await emulator.ring()
    assert len(receiver.named("newRemoteCall")) == 5
    assert emulator.callback_log[-1].attempts == 1


async def test_connection_errors_are_retried(
    emulator: Emulator, receiver: CallbackReceiver
) -> None:
    """A receiver that is down: attempts are bounded and the error is logged."""
    await receiver.stop()
    call = await emulator.ring()
    record = emulator.callback_log[-1]
    assert record.status is None
    assert record.attempts == 4
    assert record.error is not None
    assert "ClientConnectorError" in record.error
    assert call.state == "ringing"
    assert call.session_reference_id is None


async def test_non_json_reply_is_ignored(
    emulator: Emulator, receiver: CallbackReceiver
) -> None:
    """A newRemoteCall answer that is not a JSON object does not set a sessionReferenceId."""
    receiver.replies["newRemoteCall"] = {
        "sessionReferenceId": True
    }  # not a usable value
    call = await emulator.ring()
    assert call.session_reference_id is None


async def test_drop_duplicate_and_delay(
    emulator: Emulator, receiver: CallbackReceiver
) -> None:
    """Faults: the next callback is dropped, the next duplicated, and all are delayed."""
    emulator.faults.update({"callback_drop": 1, "callback_duplicate": 1})
    dropped = await emulator.ring()
    assert receiver.named("newRemoteCall") == []
    assert emulator.callback_log[-1].dropped
    assert dropped.state == "ringing"

    await emulator.ring()
    assert len(receiver.named("newRemoteCall")) == 2
    assert [r.duplicate for r in emulator.callback_log[-2:]] == [False, True]
    assert (
        receiver.named("newRemoteCall")[0].raw == receiver.named("newRemoteCall")[1].raw
    )

    emulator.faults.update({"callback_delay": 0.3, "callback_names": ["newRemoteCall"]})
    started = time.monotonic()
    await emulator.ring()
    assert time.monotonic() - started >= 0.3
    assert len(receiver.named("newRemoteCall")) == 3


async def test_faults_only_hit_named_callbacks(
    emulator: Emulator, receiver: CallbackReceiver
) -> None:
    """A fault limited to callHungup leaves newRemoteCall alone."""
    emulator.faults.update({"callback_drop": 1, "callback_names": ["callHungup"]})
    call = await emulator.ring()
    assert len(receiver.named("newRemoteCall")) == 1
    await emulator.remote_hangup(call.call_id)
    record = await emulator.wait_for_callback("callHungup", call.call_id)
    assert record.dropped
    assert emulator.faults.callback_drop == 0
    assert receiver.named("callHungup") == []


@pytest.mark.parametrize("emulator_clock", [ManualClock()])
async def test_api_errors_and_delays(
    emulator: Emulator, emulator_clock: ManualClock, api: ApiCall
) -> None:
    """Faults: the next API request gets a 5xx, and chosen operations are held for a delay."""
    emulator.faults.update({"api_error": 1, "api_error_status": 502})
    assert await api("hangupcalljwt", {"replyId": "x"}) == (
        502,
        {"success": False, "reason": "injected fault"},
    )
    assert (await api("hangupcalljwt", {"replyId": "x"}))[0] == 200

    emulator.faults.update({"api_delay": 1.0, "api_operations": ["placeremotecalljwt"]})
    slowed = asyncio.ensure_future(api("placeremotecalljwt", {}))
    await wait_until(lambda: emulator.api_requests["placeremotecalljwt"] == 1)
    async with asyncio.timeout(5):  # another operation is answered at once
        assert (await api("hangupcalljwt", {"replyId": "x"}))[0] == 200
    await advance(emulator_clock, 0.99)
    assert emulator_clock.pending == 1  # still held
    await advance(emulator_clock, 0.01)
    assert (await slowed)[0] == 400  # then answered (an empty body is refused)


def test_fault_settings_are_checked() -> None:
    """Fault settings refuse unknown names and wrong types, and reset to none."""
    faults = Faults()
    for bad in (
        {"nope": 1},
        {"callback_drop": -1},
        {"callback_drop": True},
        {"callback_drop": 1.5},
        {"callback_delay": "1"},
        {"callback_delay": -0.1},
        {"callback_names": "callHungup"},
        {"callback_names": [1]},
        {"api_error_status": 404},
    ):
        with pytest.raises(ValueError):
            faults.update(bad)
    assert faults == Faults()
    faults.update(
        {"callback_delay": 1, "api_error": 2, "api_operations": ["hangupcalljwt"]}
    )
    assert faults.callback_delay == 1.0
    assert faults.take_api_error("placeremotecalljwt") is None
    assert faults.take_api_error("hangupcalljwt") == 503
    faults.reset()
    assert faults == Faults()
    assert faults.to_json()["api_error_status"] == 503
