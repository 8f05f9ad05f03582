"""Forged callbacks against an entry without callback signing (what most users run).

Each test is one finding of the attack review: through real Home Assistant, real HTTP and the
emulator as the cloud.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
import json
import logging
from typing import Any

from aiohttp import web
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.cloud_sip_ua.cloudsipua import (
    call_manager as call_manager_module,
)
from custom_components.cloud_sip_ua.cloudsipua.calls import CallState
from custom_components.cloud_sip_ua.leftovers import LeftoverCalls
from emulator import Emulator
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from tests.waiting import wait_until

from .conftest import WEBHOOK_ID
from .helpers import action, entity_id, event_recorder, wait_connected


@pytest.fixture
def callback_signing() -> bool:
    """No signing key: every callback may be forged."""
    return False


@pytest.fixture
async def attacker() -> Any:
    """Run a host on another loopback address that records every request it gets."""
    received: list[web.Request] = []

    async def record(request: web.Request) -> web.Response:
        received.append(request)
        return web.json_response({"success": True})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.2", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.2:{port}", received
    await runner.cleanup()


async def test_forged_site_base_url_never_gets_our_token(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    post: Any,
    attacker: Any,
    emulator: Emulator,
) -> None:
    """Finding 1: a callback naming another host is refused; that host receives nothing."""
    url, received = attacker
    manager = init_integration.runtime_data.manager
    forged = {"replyId": "x", "siteBaseUrl": url}
    assert (await post("callAnswered", forged, authorization=None))[0] == 403
    ring = {
        "replyId": "r1",
        "callId": "c1",
        "remoteRtpIp": "127.0.0.1",
        "remoteRtpPort": 40100,
        "siteBaseUrl": url,
    }
    assert (await post("newRemoteCall", ring, authorization=None))[0] == 403
    assert manager.calls == []
    # A real ring, then a forged second call while it rings (busy-reject would use its site).
    call = await emulator.ring()
    second = {**ring, "replyId": "r2", "callId": "c2"}
    assert (await post("newRemoteCall", second, authorization=None))[0] == 403
    # Ring timeout and hang-up of the real call go to the configured API only.
    await action(hass, "hang_up")
    await emulator.wait_for_state(call.call_id, "ended")
    # A leftover stored with a foreign site (from before the allow-list) goes to the API.
    leftovers = LeftoverCalls(hass, init_integration.entry_id)
    await leftovers._store.async_save(  # noqa: SLF001 - the stored state is the point
        {"calls": [{"reply_id": "left", "site_base_url": url}]}
    )
    # Awaited to its answer: a request to the foreign site would have arrived by now.
    await leftovers.async_end_leftovers(init_integration.runtime_data.client)
    assert received == []
    assert init_integration.runtime_data.rejections.counts["untrusted_site"] == 3


async def test_forged_answer_for_a_call_we_never_answered_is_refused(
    hass: HomeAssistant, init_integration: MockConfigEntry, post: Any
) -> None:
    """Finding 3: newRemoteCall then callAnswered, both forged, cannot make a call "connected"."""
    manager = init_integration.runtime_data.manager
    ring = {
        "replyId": "r1",
        "callId": "c1",
        "remoteRtpIp": "127.0.0.1",
        "remoteRtpPort": 40100,
    }
    status, body = await post("newRemoteCall", ring, authorization=None)
    assert status == 200
    reference = json.loads(body)["sessionReferenceId"]
    status, body = await post(
        "callAnswered",
        {"replyId": "up", "sessionReferenceId": reference},
        authorization=None,
    )
    assert (status, json.loads(body)) == (409, {"error": "not_answered"})
    [call] = manager.calls
    assert call.state is CallState.RINGING
    with pytest.raises(ServiceValidationError) as err:
        await action(hass, "send_dtmf", digits="1")
    assert err.value.translation_key == "not_connected"
    player = entity_id(hass, "media_player", "call_audio")
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            "media_player",
            "play_media",
            {
                "entity_id": player,
                "media_content_id": "media-source://tts/x",
                "media_content_type": "music",
            },
            blocking=True,
        )


async def test_callback_body_in_two_writes_is_read_whole(
    init_integration: MockConfigEntry, ha_base_url: str
) -> None:
    """Finding 6: a body that arrives in two TCP writes 0.3 s apart is read to its end."""
    manager = init_integration.runtime_data.manager
    body = json.dumps(
        {
            "replyId": "r1",
            "callId": "c1",
            "remoteRtpIp": "127.0.0.1",
            "remoteRtpPort": 40100,
        }
    ).encode()
    port = int(ha_base_url.rsplit(":", 1)[1])
    path = f"/api/cloud_sip_ua/{WEBHOOK_ID}/newRemoteCall"

    async def send(head: bytes, first: bytes, second: bytes, *, eof: bool) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(head + first)
        await writer.drain()
        # Wall time on purpose: the server must read the first part alone before the rest
        # arrives; on loopback two writes without a pause may arrive as one.
        await asyncio.sleep(0.3)
        writer.write(second)
        await writer.drain()
        if eof:
            # The sender gives up before the body it announced is complete.
            writer.write_eof()
        async with asyncio.timeout(5):
            answer = await reader.read()
        writer.close()
        return answer

    head = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    answer = await send(head, body[:20], body[20:], eof=False)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    assert len(manager.calls) == 1

    # A Content-Length the body never reaches: refused, nothing applied.
    other = body.replace(b'"r1"', b'"r2"').replace(b'"c1"', b'"c2"')
    head = head.replace(
        f"Content-Length: {len(body)}".encode(),
        f"Content-Length: {len(other) + 50}".encode(),
    )
    answer = await send(head, other[:20], other[20:], eof=True)
    # aiohttp drops a request whose body ends short of its Content-Length (or we answer 400).
    assert answer == b"" or answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert len(manager.calls) == 1


async def test_hang_up_is_retried_until_the_cloud_acknowledges_it(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Finding 7: a hang-up answered 500, or not at all, is retried until acknowledged."""
    manager = init_integration.runtime_data.manager
    manager.settings = replace(manager.settings, hangup_retry_delays=(0.2, 0.2, 0.2))
    monkeypatch.setattr(call_manager_module, "HANGUP_TIMEOUT", 0.3)
    for fault in ({"api_error": 2, "api_error_status": 500}, {"api_delay": 0.6}):
        call = await emulator.ring()
        await action(hass, "answer")
        await wait_connected(init_integration, emulator, call.call_id)
        emulator.faults.update({**fault, "api_operations": ["hangupcalljwt"]})
        # Ended here at once; the cloud is asked again in the background.
        await action(hass, "hang_up")
        assert manager.calls == []
        assert manager.reply_ids_to_keep() != []
        emulator.faults.reset()
        await emulator.wait_for_state(call.call_id, "ended", timeout=5)
        await wait_until(lambda: manager.reply_ids_to_keep() == [])


async def test_hang_up_never_acknowledged_raises_a_repair_issue(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """Finding 7: after the last retry the replyId stays on disk and a repair issue says so."""
    manager = init_integration.runtime_data.manager
    manager.settings = replace(manager.settings, hangup_retry_delays=(0.1, 0.1))
    call = await emulator.ring()
    await action(hass, "answer")
    await wait_connected(init_integration, emulator, call.call_id)
    ours = manager.current_call
    assert ours is not None
    emulator.faults.update({"api_error": 10, "api_operations": ["hangupcalljwt"]})
    await action(hass, "hang_up")
    issue_id = f"hang_up_failed_{ours.call_id}"
    await wait_until(
        lambda: ir.async_get(hass).async_get_issue("cloud_sip_ua", issue_id) is not None
    )
    assert len(manager.reply_ids_to_keep()) == 1
    emulator.faults.reset()


async def test_reply_id_is_on_disk_as_soon_as_the_call_connects(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    hass_storage: dict[str, Any],
) -> None:
    """Finding 7: a crash a moment after connecting still leaves the replyId to end the call."""
    key = f"cloud_sip_ua.{init_integration.entry_id}.calls"

    def stored() -> list[dict[str, Any]]:
        return hass_storage.get(key, {}).get("data", {}).get("calls", [])

    # Written within half a second (it used to wait a second, then batch).
    call = await emulator.ring()
    await wait_until(lambda: len(stored()) == 1, timeout=0.5)
    ringing_reply = stored()[0]["reply_id"]
    await action(hass, "answer")
    await wait_connected(init_integration, emulator, call.call_id)
    # callAnswered's replyId, the one that can hang up the connected call.
    await wait_until(
        lambda: len(stored()) == 1 and stored()[0]["reply_id"] != ringing_reply,
        timeout=0.5,
    )
    await action(hass, "hang_up")
    await wait_until(lambda: stored() == [], timeout=0.5)


async def test_forged_hang_up_also_ends_the_call_at_the_cloud(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    post: Any,
) -> None:
    """Finding 8: callHungup with the call id from the entity ends the call at the cloud too."""
    manager = init_integration.runtime_data.manager
    call = await emulator.ring()
    await action(hass, "answer")
    await wait_connected(init_integration, emulator, call.call_id)
    ours = manager.current_call
    assert ours is not None
    status, _ = await post(
        "callHungup", {"sessionReferenceId": ours.call_id}, authorization=None
    )
    assert status == 200
    await emulator.wait_for_state(call.call_id, "ended")


async def test_caller_names_are_shown_without_control_or_bidi_characters(
    hass: HomeAssistant, init_integration: MockConfigEntry, post: Any
) -> None:
    """Finding 8: a right-to-left override or a newline never reaches the doorbell event."""
    rings = event_recorder(hass, entity_id(hass, "event", "doorbell"))
    ring = {
        "replyId": "r1",
        "sourceUser": "Pizza\u202e\nmoc.evil" + "x" * 500,
        "remoteRtpIp": "127.0.0.1",
        "remoteRtpPort": 40100,
    }
    assert (await post("newRemoteCall", ring, authorization=None))[0] == 200
    await hass.async_block_till_done()
    caller = rings[-1]["caller"]
    assert caller.startswith("Pizza moc.evil")
    assert len(caller) == 64
    assert all(ch.isprintable() for ch in caller)


async def test_orphan_flood_costs_a_bounded_number_of_requests_and_one_log_line(
    init_integration: MockConfigEntry,
    post: Any,
    emulator: Emulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Finding 8: 30 forged orphan callAnswered make at most the budget's hang-ups, logged once."""
    before = emulator.api_requests["hangupcalljwt"]
    with caplog.at_level(logging.INFO, "custom_components.cloud_sip_ua"):
        # 30 stays under the per-source throttle's burst, so every one reaches the manager.
        for index in range(30):
            status, _ = await post(
                "callAnswered", {"replyId": f"orphan-{index}"}, authorization=None
            )
            assert status == 200
        # The hang-ups run in the background; each ends once the API answered it.
        manager = init_integration.runtime_data.manager
        await wait_until(lambda: manager.sizes()["tasks"] == 0, what="the hang-ups")
    hangups = emulator.api_requests["hangupcalljwt"] - before
    assert 1 <= hangups <= 6
    lines = [
        r
        for r in caplog.records
        if r.name.startswith("custom_components.cloud_sip_ua")
        and r.levelno >= logging.INFO
    ]
    assert len(lines) <= 2, [r.getMessage() for r in lines]


@pytest.mark.parametrize("service", ["answer", "hang_up", "send_ringback", "send_dtmf"])
async def test_read_only_user_cannot_control_calls(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    hass_read_only_user: Any,
    service: str,
) -> None:
    """Finding 5: a read-only user is refused every control action (core refuses button.press)."""
    from homeassistant.core import Context
    from homeassistant.exceptions import Unauthorized

    await emulator.ring()
    data = {"digits": "1"} if service == "send_dtmf" else {}
    with pytest.raises(Unauthorized):
        await hass.services.async_call(
            "cloud_sip_ua",
            service,
            data,
            blocking=True,
            context=Context(user_id=hass_read_only_user.id),
        )
    assert init_integration.runtime_data.manager.current_call.state is CallState.RINGING


async def test_read_only_user_cannot_place_calls_or_talk(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    hass_read_only_user: Any,
    hass_admin_user: Any,
    hass_ws_client: Any,
    hass_read_only_access_token: str,
) -> None:
    """Finding 5: place_call is admin-only by default; the card's talk needs control."""
    from homeassistant.core import Context
    from homeassistant.exceptions import Unauthorized

    with pytest.raises(Unauthorized):
        await hass.services.async_call(
            "cloud_sip_ua",
            "place_call",
            {"destination": "100"},
            blocking=True,
            context=Context(user_id=hass_read_only_user.id),
        )
    call = await emulator.ring()
    await action(hass, "answer")
    await wait_connected(init_integration, emulator, call.call_id)
    client = await hass_ws_client(hass, access_token=hass_read_only_access_token)
    await client.send_json_auto_id({"type": "cloud_sip_ua/audio/subscribe"})
    reply = await client.receive_json()
    assert reply["success"] is False
    assert reply["error"]["code"] == "unauthorized"
    # Listening alone is allowed with read permission.
    await client.send_json_auto_id(
        {"type": "cloud_sip_ua/audio/subscribe", "talk": False}
    )
    reply = await client.receive_json()
    assert reply["success"] is True
    await action(hass, "hang_up")
