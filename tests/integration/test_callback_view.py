"""Hostile callbacks over real HTTP: each gets the right 4xx and leaves call state alone."""

from __future__ import annotations

import json
import time
from typing import Any

import aiohttp
import jwt
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.cloud_sip_ua.http import callback_view
from custom_components.cloud_sip_ua.http.callback_view import THROTTLE_BURST
from emulator import Emulator
from homeassistant.core import HomeAssistant

from .conftest import WEBHOOK_ID, KeyPair, _key_pair, sign

NEW_CALL = {
    "replyId": "reply-1",
    "callId": "sip-call-1",
    "sourceUser": "1234567",
    "codec": "PCMA",
    "remoteRtpIp": "127.0.0.1",
    "remoteRtpPort": 40100,
    "telephoneEventPayloadType": 101,
}


def calls_of(entry: MockConfigEntry) -> list[Any]:
    """Return the entry's active calls."""
    return entry.runtime_data.manager.calls


async def test_unknown_webhook_or_callback_is_404(
    post: Any, init_integration: MockConfigEntry
) -> None:
    """Unknown ids and names reveal nothing."""
    assert await post("newRemoteCall", NEW_CALL, webhook_id="b2" * 32) == (404, b"")
    assert await post("somethingElse", NEW_CALL) == (404, b"")
    assert calls_of(init_integration) == []


@pytest.mark.parametrize(
    "authorization",
    [None, "Basic abc", "Bearer not.a.jwt", "other-key", "expired", "hs256"],
)
async def test_bad_signature_is_401(
    post: Any,
    init_integration: MockConfigEntry,
    callback_keys: KeyPair,
    authorization: str | None,
) -> None:
    """Missing, malformed, foreign, expired or wrongly signed tokens are refused."""
    now = int(time.time())
    values = {
        "other-key": sign(_key_pair().private_pem),
        "expired": "Bearer "
        + jwt.encode(
            {"iat": now - 600, "exp": now - 300}, callback_keys.private_pem, "RS256"
        ),
        "hs256": "Bearer "
        + jwt.encode(
            {"iat": now, "exp": now + 60}, "secret-shared-key-of-32-bytes!!", "HS256"
        ),
    }
    status, _ = await post(
        "newRemoteCall",
        NEW_CALL,
        authorization=values.get(authorization, authorization),
    )
    assert status == 401
    assert calls_of(init_integration) == []
    assert init_integration.runtime_data.rejections.counts["bad_signature"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", None),
        (b"\xff\xfe", None),
        ([1, 2, 3], None),
        ("just a string", None),
        ({k: v for k, v in NEW_CALL.items() if k != "replyId"}, "replyId"),
        (NEW_CALL | {"remoteRtpPort": "not a port"}, "remoteRtpPort"),
        (NEW_CALL | {"remoteRtpPort": 70000}, "remoteRtpPort"),
        (NEW_CALL | {"telephoneEventPayloadType": True}, "telephoneEventPayloadType"),
        (NEW_CALL | {"crypto": "nope"}, "crypto"),
    ],
)
async def test_invalid_body_is_400(
    post: Any, init_integration: MockConfigEntry, body: Any, field: str | None
) -> None:
    """Bodies that are not the documented shape are refused, naming the field."""
    status, answer = await post("newRemoteCall", body)
    assert status == 400
    assert json.loads(answer) == {"error": "invalid_callback", "field": field}
    assert calls_of(init_integration) == []
    assert init_integration.runtime_data.rejections.counts["invalid_body"] == 1


async def test_oversize_is_413(post: Any, init_integration: MockConfigEntry) -> None:
    """Bodies over 64 KiB are refused before parsing."""
    status, _ = await post("newRemoteCall", NEW_CALL | {"padding": "x" * 70_000})
    assert status == 413
    assert calls_of(init_integration) == []


async def test_redelivery_is_idempotent_and_a_reused_token_is_refused(
    post: Any, init_integration: MockConfigEntry, callback_keys: KeyPair
) -> None:
    """The same signed callback again gets the first answer; its token with another body is 409."""
    token = sign(callback_keys.private_pem)
    status, first = await post("newRemoteCall", NEW_CALL, authorization=token)
    assert status == 200
    call_id = json.loads(first)["sessionReferenceId"]
    # A platform retrying after a lost response: byte for byte the same request.
    assert await post("newRemoteCall", NEW_CALL, authorization=token) == (200, first)
    other_body = {**NEW_CALL, "replyId": "reply-2"}
    assert await post("newRemoteCall", other_body, authorization=token) == (
        409,
        b'{"error": "replayed"}',
    )
    # Delivered again with a fresh signature: recognised by its replyId.
    status, again = await post("newRemoteCall", NEW_CALL)
    assert status == 200
    assert json.loads(again)["sessionReferenceId"] == call_id
    assert [call.call_id for call in calls_of(init_integration)] == [call_id]
    counters = init_integration.runtime_data.manager.counters
    assert counters["callbacks_duplicate"] == 1
    assert counters["callbacks_redelivered"] == 1
    assert init_integration.runtime_data.rejections.counts["replay"] == 1


async def test_callbacks_for_unknown_calls_change_nothing(
    post: Any, init_integration: MockConfigEntry, hass: HomeAssistant
) -> None:
    """Late, foreign or out-of-order callbacks are accepted and ignored."""
    for name, body in (
        ("callHungup", {"callId": "nope", "sessionReferenceId": "unknown"}),
        ("callFailed", {"sipStatus": 486, "sessionReferenceId": "unknown"}),
        ("callNotify", {"event": "ringing", "sessionReferenceId": "unknown"}),
        ("callAnswered", {"sessionReferenceId": "unknown"}),
    ):
        status, _ = await post(name, body)
        assert status == 200, name
    assert calls_of(init_integration) == []
    assert init_integration.runtime_data.manager.counters["callbacks_unknown_call"] == 4


async def test_flood_is_throttled(post: Any, init_integration: MockConfigEntry) -> None:
    """A burst beyond the bucket from one source gets 429."""
    statuses = [
        (await post("callHungup", {"sessionReferenceId": "x"}, authorization=None))[0]
        for _ in range(int(THROTTLE_BURST) + 20)
    ]
    assert statuses.count(429) >= 10
    assert init_integration.runtime_data.rejections.counts[
        "throttled"
    ] == statuses.count(429)


async def test_emulator_signed_callbacks_are_accepted(
    init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """The emulator's real signature passes and its call rings."""
    call = await emulator.ring()
    assert init_integration.runtime_data.manager.current_call is not None
    assert emulator.callback_log[-1].status == 200
    await emulator.remote_hangup(call.call_id)


async def test_chunked_body_over_the_cap_is_413(
    init_integration: MockConfigEntry, ha_base_url: str
) -> None:
    """Without a Content-Length, the body is still read whole and capped at 64 KiB."""

    async def chunks() -> Any:
        for _ in range(20):
            yield b" " * 4096

    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{ha_base_url}/api/cloud_sip_ua/{WEBHOOK_ID}/callHungup",
            data=chunks(),
            headers={"Content-Type": "application/json"},
        ) as resp,
    ):
        assert resp.status == 413
    assert init_integration.runtime_data.rejections.counts["too_large"] == 1


async def test_an_unforeseen_failure_is_422_not_500(
    post: Any, init_integration: MockConfigEntry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the call manager did not foresee is answered 422 and logged with its traceback."""

    async def broken(callback: Any) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(
        init_integration.runtime_data.manager, "handle_callback", broken
    )
    assert await post("callHungup", {"callId": "x"}) == (
        422,
        b'{"error": "failed_to_apply"}',
    )
    assert init_integration.runtime_data.rejections.counts["failed_to_apply"] == 1


async def test_remembered_answers_and_tokens_are_bounded(
    hass: HomeAssistant,
    post: Any,
    init_integration: MockConfigEntry,
    callback_keys: KeyPair,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past the bound the oldest answers and tokens are forgotten; a forgotten one is new again."""
    monkeypatch.setattr(callback_view, "MAX_REMEMBERED", 2)
    tokens = [sign(callback_keys.private_pem, jti=str(n)) for n in range(4)]
    for index, token in enumerate(tokens):
        body = {"callId": f"gone-{index}"}
        assert (await post("callHungup", body, authorization=token))[0] == 200
    route = hass.data[callback_view.DATA_ROUTER].routes[WEBHOOK_ID]
    assert len(route.answers) == 2
    assert len(route.token_bodies) == 2
    # The first token is forgotten: with another body it is no longer a known replay.
    assert (await post("callHungup", {"x": 1}, authorization=tokens[0]))[0] == 200
    # The last one is remembered: another body with it is refused.
    assert (await post("callHungup", {"x": 1}, authorization=tokens[3]))[0] == 409
